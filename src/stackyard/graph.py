"""The stack graph: which stack must finish before which.

Edges come from ``requires``, ``required_by`` and ``output`` lookups in
variables; ``targets`` are nodes with no stack of their own that group others.
An edge ``a → b`` means *a needs b*: b is built first and destroyed last.
"""

from __future__ import annotations

import difflib
import graphlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from stackyard.config.loader import LoadedConfig
from stackyard.errors import GraphError


@dataclass(frozen=True)
class Graph:
    """Nodes are stack and target names; ``needs[a]`` are the nodes a depends on."""

    needs: dict[str, frozenset[str]]
    targets: frozenset[str] = frozenset()
    notices: tuple[str, ...] = ()
    # Why each edge exists, for `graph --format json` and error messages.
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def stacks(self) -> list[str]:
        """Stack nodes (targets excluded) in a build order."""
        return [n for n in self.order() if n not in self.targets]

    def dependents(self) -> dict[str, set[str]]:
        """For each node, the nodes that depend on it."""
        out: dict[str, set[str]] = {n: set() for n in self.needs}
        for node, deps in self.needs.items():
            for dep in deps:
                out[dep].add(node)
        return out

    def order(self) -> list[str]:
        """All nodes, dependencies first; ties broken by name, so the order is stable."""
        sorter = graphlib.TopologicalSorter({n: sorted(d) for n, d in self.needs.items()})
        sorter.prepare()
        ordered: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            ordered.extend(ready)
            sorter.done(*ready)
        return ordered

    def select(self, names: Iterable[str]) -> Graph:
        """The subgraph of ``names`` and everything they need, transitively."""
        wanted = list(names)
        for name in wanted:
            if name not in self.needs:
                close = difflib.get_close_matches(name, list(self.needs), n=1)
                raise GraphError(
                    f"no stack or target named {name!r}",
                    hint=f"did you mean {close[0]!r}?" if close else "see `stackyard graph`",
                )
        keep: set[str] = set()
        pending = wanted
        while pending:
            node = pending.pop()
            if node in keep:
                continue
            keep.add(node)
            pending.extend(self.needs[node])
        return self._restricted(keep)

    def reduced(self) -> Graph:
        """The transitive reduction: an edge is dropped if a longer path implies it."""
        reach: dict[str, set[str]] = {}
        for node in self.order():
            below: set[str] = set()
            for dep in self.needs[node]:
                below |= {dep} | reach[dep]
            reach[node] = below
        needs = {}
        for node, deps in self.needs.items():
            implied = set().union(*(reach[d] for d in deps)) if deps else set()
            needs[node] = frozenset(d for d in deps if d not in implied)
        return Graph(needs, self.targets, self.notices, self.reasons)

    def critical_path(self, cost: Mapping[str, float]) -> float:
        """The longest chain of costs through the graph (the fastest possible makespan)."""
        finish: dict[str, float] = {}
        for node in self.order():
            start = max((finish[d] for d in self.needs[node]), default=0.0)
            finish[node] = start + cost.get(node, 0.0)
        return max(finish.values(), default=0.0)

    def to_dot(self) -> str:
        """Graphviz text in stacker's shape: ``digraph digraph {``, then one
        ``"stack" -> "what it needs";`` line per edge, stacks in build order. Stacks with no
        edge at all follow as ``"stack";`` (stacker left them out of the picture)."""
        lines = ["digraph digraph {"]
        linked: set[str] = set()
        for node in self.order():
            for dep in sorted(self.needs[node]):
                lines.append(f"  {_dot_id(node)} -> {_dot_id(dep)};")
                linked |= {node, dep}
        lines.extend(f"  {_dot_id(n)};" for n in self.order() if n not in linked)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """stacker's shape, ``{"steps": {name: {"deps": [names]}}}`` (build order, four-space
        indent), and beside it ``"nodes"``: each node's kind and the reason for each edge."""
        steps = {n: {"deps": sorted(self.needs[n])} for n in self.order()}
        nodes = [
            {
                "name": n,
                "kind": "target" if n in self.targets else "stack",
                "needs": [
                    {"name": d, "why": self.reasons.get((n, d), "requires")}
                    for d in sorted(self.needs[n])
                ],
            }
            for n in self.order()
        ]
        return json.dumps({"steps": steps, "nodes": nodes}, indent=4) + "\n"

    def _restricted(self, keep: set[str]) -> Graph:
        needs = {
            n: frozenset(d for d in deps if d in keep)
            for n, deps in self.needs.items()
            if n in keep
        }
        reasons = {k: v for k, v in self.reasons.items() if k[0] in keep and k[1] in keep}
        return Graph(needs, frozenset(self.targets & keep), self.notices, reasons)


def _dot_id(name: str) -> str:
    """A node name as a quoted dot identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_graph(
    loaded: LoadedConfig, output_dependencies: Mapping[str, Iterable[str]] | None = None
) -> Graph:
    """Build and check the graph of a loaded config.

    ``output_dependencies`` maps a stack to the stacks its ``output`` lookups
    read (the lookups layer finds them). Unknown names and cycles are errors
    that name the file and line; disabled stacks are left out with a notice.
    """
    config = loaded.config
    source = loaded.source
    output_dependencies = output_dependencies or {}
    disabled = {s.name for s in config.stacks if not s.enabled}
    nodes = {s.name for s in config.stacks if s.enabled} | {t.name for t in config.targets}
    known = nodes | disabled
    needs: dict[str, set[str]] = {n: set() for n in nodes}
    reasons: dict[tuple[str, str], str] = {}
    notices: list[str] = []

    def add(node: str, dep: str, why: str, section: str, index: int, key: str) -> None:
        # `required_by` names the dependent (node), the other keys the dependency (dep).
        missing = node if node not in known else dep
        if missing not in known:
            close = difflib.get_close_matches(missing, sorted(known), n=1)
            raise GraphError(
                f"{node!r} {why} {dep!r}, but {missing!r} is not a stack or target in this config",
                file=source.file,
                line=source.line((section, index, key)),
                key=key,
                stack=node if section == "stacks" else None,
                hint=f"did you mean {close[0]!r}?" if close else "check the spelling",
            )
        if dep in disabled or node in disabled:
            if node not in disabled:
                notices.append(f"stack {node!r} {why} {dep!r}, which is disabled; left out")
            return
        if node == dep:
            raise GraphError(
                f"{node!r} depends on itself",
                file=source.file,
                line=source.line((section, index, key)),
                stack=node,
            )
        needs[node].add(dep)
        reasons.setdefault((node, dep), why)

    for index, stack in enumerate(config.stacks):
        for dep in stack.requires:
            add(stack.name, dep, "requires", "stacks", index, "requires")
        for dependent in stack.required_by:
            add(dependent, stack.name, "is required by", "stacks", index, "required_by")
        for dep in sorted(output_dependencies.get(stack.name, ())):
            add(stack.name, dep, "reads an output of", "stacks", index, "variables")
    for index, target in enumerate(config.targets):
        for dep in target.requires:
            add(target.name, dep, "requires", "targets", index, "requires")
        for dependent in target.required_by:
            add(dependent, target.name, "is required by", "targets", index, "required_by")

    graph = Graph(
        {n: frozenset(d) for n, d in needs.items()},
        frozenset(t.name for t in config.targets),
        tuple(notices),
        reasons,
    )
    _check_acyclic(graph, loaded)
    return graph


def _check_acyclic(graph: Graph, loaded: LoadedConfig) -> None:
    try:
        graphlib.TopologicalSorter({n: sorted(d) for n, d in graph.needs.items()}).prepare()
    except graphlib.CycleError as exc:
        cycle: list[str] = list(reversed(exc.args[1]))
        first = cycle[0]
        raise GraphError(
            "dependency cycle: " + " → ".join(cycle),
            file=loaded.source.file,
            line=loaded.stack_line(first),
            stack=first,
            hint="remove one of these requires/required_by or output lookups",
        ) from None
