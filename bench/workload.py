"""Generated workloads: one dependency graph of stacks, written out as a project per tool.

    from bench.workload import generate
    workload = generate(stacks=40, depth=5, resources=3, seed=1)
    project = workload.write("stacker", folder, namespace="sk")

A workload is a layered DAG. Layer 0 holds the roots; every stack of layer ``i > 0`` reads the
``Stamp`` output of one stack of layer ``i - 1`` (so the graph is exactly ``depth`` deep) and,
now and then, of a second stack of any earlier layer. Each stack has ``resources`` simple
resources, cycling through an SSM parameter, an SNS topic and an SQS queue, none depending on
another, so that at a latency of L seconds per resource every stack operation takes L.

Each stack takes a ``Version`` parameter; its SSM parameters and its ``Stamp`` output join that
version with the stamps it reads. Changing one stack's version therefore updates that stack
and, through the output lookups, every stack downstream of it: ``leaf_changed`` touches one
stack, ``root_changed`` cascades through the root's descendants.

The same graph is written as equivalent projects for stackyard and stacker (one stacker-format
config, raw templates, ``${output stack::Stamp}``), sceptre 4.7 (a stack group, ``!stack_output``)
and runway 2.8 (one CFNgin module, ``${output stack.Stamp}``).
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "REGION",
    "TOOLS",
    "ToolProject",
    "Workload",
    "generate",
]

REGION = "us-east-1"
TOOLS = ("stackyard", "stacker", "sceptre", "runway")
RESOURCE_TYPES = ("AWS::SSM::Parameter", "AWS::SNS::Topic", "AWS::SQS::Queue")
SECOND_INPUT_CHANCE = 0.3
BASE_VERSION = "v1"


@dataclass(frozen=True)
class ToolProject:
    """A tool's project on disk: its folder, deploy and destroy commands, its stack names."""

    tool: str
    directory: Path
    deploy: list[str]
    destroy: list[str]
    stack_names: dict[str, str]  # workload stack -> the CloudFormation stack name


@dataclass(frozen=True)
class Workload:
    """A layered DAG of stacks, their resources per stack, and each stack's version."""

    layers: tuple[tuple[str, ...], ...]
    needs: Mapping[str, tuple[str, ...]]
    resources: int
    versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def stacks(self) -> list[str]:
        """Every stack, roots first."""
        return [name for layer in self.layers for name in layer]

    @property
    def depth(self) -> int:
        """The number of layers: the longest chain of stacks."""
        return len(self.layers)

    @property
    def width(self) -> int:
        """The size of the widest layer."""
        return max(len(layer) for layer in self.layers)

    def version(self, stack: str) -> str:
        """The ``Version`` parameter the stack is deployed with."""
        return self.versions.get(stack, BASE_VERSION)

    def dependents(self) -> dict[str, set[str]]:
        """For each stack, the stacks that read its output directly."""
        found: dict[str, set[str]] = {name: set() for name in self.stacks}
        for name, needs in self.needs.items():
            for need in needs:
                found[need].add(name)
        return found

    def downstream(self, stack: str) -> set[str]:
        """The stack and every stack that reads its output, directly or not."""
        dependents = self.dependents()
        seen = {stack}
        todo = [stack]
        while todo:
            for child in dependents[todo.pop()]:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    def leaf(self) -> str:
        """A stack nobody reads from, in the deepest layer."""
        dependents = self.dependents()
        return next(n for n in reversed(self.layers[-1]) if not dependents[n])

    def root(self) -> str:
        """The root with the most stacks downstream (the widest cascade)."""
        return max(self.layers[0], key=lambda n: (len(self.downstream(n)), n))

    def changed(self, stack: str, version: str) -> Workload:
        """The same workload with one stack's version changed."""
        return Workload(self.layers, self.needs, self.resources, {**self.versions, stack: version})

    def leaf_changed(self, version: str = "v2") -> Workload:
        """Scenario: one leaf stack changes; nothing else does."""
        return self.changed(self.leaf(), version)

    def root_changed(self, version: str = "v2") -> Workload:
        """Scenario: one root changes; the change cascades to everything downstream."""
        return self.changed(self.root(), version)

    def changed_stacks(self, before: Workload) -> set[str]:
        """Stacks whose deployed template or parameters differ from ``before``."""
        seeds = {n for n in self.stacks if self.version(n) != before.version(n)}
        return set().union(*(self.downstream(n) for n in seeds)) if seeds else set()

    def critical_path(self, cost: Mapping[str, float]) -> float:
        """The longest chain of per-stack costs (the fastest possible makespan)."""
        finish: dict[str, float] = {}
        for name in self.stacks:  # roots first, so every need is already finished
            start = max((finish[d] for d in self.needs[name]), default=0.0)
            finish[name] = start + cost.get(name, 0.0)
        return max(finish.values(), default=0.0)

    # templates ----------------------------------------------------------------------------

    def template(self, stack: str) -> dict[str, object]:
        """The stack's CloudFormation template."""
        inputs = [f"In{i}" for i in range(len(self.needs[stack]))]
        stamp = {"Fn::Join": ["+", [{"Ref": "Version"}, *({"Ref": i} for i in inputs)]]}
        resources: dict[str, object] = {}
        for index in range(self.resources):
            kind = RESOURCE_TYPES[index % len(RESOURCE_TYPES)]
            if kind == "AWS::SSM::Parameter":
                resources[f"Param{index}"] = {
                    "Type": kind,
                    "Properties": {"Type": "String", "Value": stamp},
                }
            elif kind == "AWS::SNS::Topic":
                resources[f"Topic{index}"] = {"Type": kind}
            else:
                resources[f"Queue{index}"] = {"Type": kind}
        return {
            "Parameters": {name: {"Type": "String"} for name in ["Version", *inputs]},
            "Resources": resources,
            "Outputs": {"Stamp": {"Value": stamp}},
        }

    def _templates(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}{name}.json": json.dumps(self.template(name), indent=1)
            for name in self.stacks
        }

    # projects -----------------------------------------------------------------------------

    def write(self, tool: str, folder: Path, namespace: str, command: Path) -> ToolProject:
        """Write the project for ``tool`` under ``folder``; ``command`` is the tool's program."""
        writers: dict[str, Callable[[Path, str, str], ToolProject]] = {
            "stackyard": self._stackyard,
            "stacker": self._stacker,
            "sceptre": self._sceptre,
            "runway": self._runway,
        }
        folder.mkdir(parents=True, exist_ok=True)
        return writers[tool](folder, namespace, str(command))

    def _stacker_config(self, namespace: str, bucket_key: str, lookup: str) -> str:
        lines = [f"namespace: {namespace}", f'{bucket_key}: ""', "stacks:"]
        for name in self.stacks:
            lines += [
                f"  - name: {name}",
                f"    template_path: templates/{name}.json",
                "    variables:",
                f"      Version: {self.version(name)}",
            ]
            lines += [
                f"      In{i}: ${{output {lookup.format(stack=need)}}}"
                for i, need in enumerate(self.needs[name])
            ]
        return "\n".join(lines) + "\n"

    def _names(self, prefix: str) -> dict[str, str]:
        return {name: f"{prefix}{name}" for name in self.stacks}

    def _stackyard(self, folder: Path, namespace: str, command: str) -> ToolProject:
        _write(folder, self._templates("templates/"))
        _write(
            folder,
            {"stackyard.yaml": self._stacker_config(namespace, "stacker_bucket", "{stack}::Stamp")},
        )
        return ToolProject(
            "stackyard",
            folder,
            [command, "build", "--region", REGION, "stackyard.yaml"],
            [command, "destroy", "--region", REGION, "--yes", "stackyard.yaml"],
            self._names(f"{namespace}-"),
        )

    def _stacker(self, folder: Path, namespace: str, command: str) -> ToolProject:
        _write(folder, self._templates("templates/"))
        _write(
            folder,
            {"stacker.yaml": self._stacker_config(namespace, "stacker_bucket", "{stack}::Stamp")},
        )
        return ToolProject(
            "stacker",
            folder,
            [command, "build", "--region", REGION, "stacker.yaml"],
            [command, "destroy", "--region", REGION, "--force", "stacker.yaml"],
            self._names(f"{namespace}-"),
        )

    def _sceptre(self, folder: Path, namespace: str, command: str) -> ToolProject:
        files = self._templates("templates/")
        files["config/config.yaml"] = f"project_code: {namespace}\nregion: {REGION}\n"
        for name in self.stacks:
            lines = [
                "template:",
                f"  path: {name}.json",
                "parameters:",
                f"  Version: {self.version(name)}",
            ]
            lines += [
                f"  In{i}: !stack_output bench/{need}.yaml::Stamp"
                for i, need in enumerate(self.needs[name])
            ]
            files[f"config/bench/{name}.yaml"] = "\n".join(lines) + "\n"
        _write(folder, files)
        return ToolProject(
            "sceptre",
            folder,
            [command, "--dir", str(folder), "launch", "--yes", "bench"],
            [command, "--dir", str(folder), "delete", "--yes", "bench"],
            self._names(f"{namespace}-bench-"),
        )

    def _runway(self, folder: Path, namespace: str, command: str) -> ToolProject:
        files = self._templates("bench.cfn/templates/")
        files["runway.yml"] = (
            f"deployments:\n  - modules:\n      - path: bench.cfn\n    regions:\n      - {REGION}\n"
        )
        # Without parameters or an environment file, runway skips the module.
        files["bench.cfn/dev.env"] = f"namespace: {namespace}\n"
        config = self._stacker_config("${namespace}", "cfngin_bucket", "{stack}.Stamp")
        files["bench.cfn/cfngin.yml"] = config
        _write(folder, files)
        return ToolProject(
            "runway",
            folder,
            [command, "deploy", "--ci", "--deploy-environment", "dev"],
            [command, "destroy", "--ci", "--deploy-environment", "dev"],
            self._names(f"{namespace}-"),
        )


def _write(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def generate(stacks: int, depth: int, resources: int = 3, seed: int = 0) -> Workload:
    """A layered DAG of ``stacks`` stacks, exactly ``depth`` deep, as wide as that makes it.

    Layers are as even as possible (earlier layers take the remainder). Each stack past the
    first layer reads one stack of the layer before (spread so that every stack there is read
    when the next layer is at least as wide) and, with a chance of 30%, one more stack of an
    earlier layer.
    """
    if not 1 <= depth <= stacks:
        raise ValueError(f"depth must be between 1 and the number of stacks, got {depth}")
    if resources < 1:
        raise ValueError("each stack needs at least one resource")
    rng = random.Random(seed)
    digits = len(str(stacks - 1))
    base, extra = divmod(stacks, depth)
    layers: list[tuple[str, ...]] = []
    index = 0
    for level in range(depth):
        size = base + (1 if level < extra else 0)
        layers.append(tuple(f"s{i:0{digits}d}" for i in range(index, index + size)))
        index += size
    needs: dict[str, tuple[str, ...]] = {name: () for name in layers[0]}
    for level in range(1, depth):
        above = layers[level - 1]
        earlier = [name for layer in layers[: level - 1] for name in layer]
        for position, name in enumerate(layers[level]):
            parent = above[position % len(above)] if position < len(above) else rng.choice(above)
            chosen = [parent]
            if rng.random() < SECOND_INPUT_CHANCE:
                others = [n for n in [*earlier, *above] if n != parent]
                if others:
                    chosen.append(rng.choice(others))
            needs[name] = tuple(chosen)
    return Workload(tuple(layers), needs, resources)


def main(argv: list[str] | None = None) -> int:
    """Print a workload's shape: ``python -m bench.workload STACKS DEPTH [RESOURCES]``."""
    args = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [40, 5]
    workload = generate(*args)
    print(f"{len(workload.stacks)} stacks, depth {workload.depth}, width {workload.width}")
    for name in workload.stacks:
        print(f"  {name} <- {', '.join(workload.needs[name]) or '-'}")
    root = workload.root()
    print(f"leaf {workload.leaf()}; root {root} reaches {len(workload.downstream(root))} stacks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
