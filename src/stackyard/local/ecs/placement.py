"""Task placement on container instances, by ECS's rules.

ECS places a task in three steps: keep the instances with enough CPU, memory and free host
ports; keep those that satisfy the placement constraints (``memberOf`` expressions in the
cluster query language, ``distinctInstance``); then apply the placement strategies in order
(``binpack``, ``spread``, ``random``), each narrowing the choice. When nothing fits, the
instance that got furthest names the reason, as in ECS's "closest matching container-instance"
service events.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stackyard.local.ecs.query import Instance, QueryError, parse

__all__ = [
    "DEFAULT_SERVICE_STRATEGY",
    "Candidate",
    "Placement",
    "Requirements",
    "place",
    "requirements_of",
]

# What ECS applies to a service with no placement strategy on EC2.
DEFAULT_SERVICE_STRATEGY = (
    {"type": "spread", "field": "attribute:ecs.availability-zone"},
    {"type": "spread", "field": "instanceId"},
)


@dataclass(frozen=True)
class Requirements:
    """What one task needs of an instance."""

    cpu: int = 0
    memory: int = 0
    ports: frozenset[str] = frozenset()


@dataclass
class Candidate:
    """One container instance as placement sees it."""

    arn: str
    ec2_instance_id: str
    attributes: Mapping[str, str | None]
    cpu: int
    memory: int
    used_ports: frozenset[str]
    active: bool = True
    task_groups: list[str] = field(default_factory=list)
    running_tasks: int = 0

    @property
    def short_id(self) -> str:
        """The id ECS shows in events: the last part of the ARN."""
        return self.arn.rsplit("/", 1)[-1]

    def as_query_subject(self) -> Instance:
        """This instance as the cluster query language sees it."""
        return Instance(
            attributes=self.attributes,
            ec2_instance_id=self.ec2_instance_id,
            running_tasks_count=self.running_tasks,
            task_groups=tuple(self.task_groups),
        )


@dataclass(frozen=True)
class Placement:
    """The chosen instance, or why none was chosen: ``reason`` in a service event's words,
    ``code`` as RunTask's failures give it, ``closest`` the instance that came nearest."""

    chosen: Candidate | None
    reason: str = ""
    code: str = ""
    closest: Candidate | None = None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def requirements_of(task_definition: Any) -> Requirements:
    """CPU, memory and host ports a task of ``task_definition`` reserves on its instance."""
    network_mode = getattr(task_definition, "network_mode", None) or "bridge"
    task_memory = _int(getattr(task_definition, "memory", None))
    cpu = memory = 0
    ports: set[str] = set()
    containers = list(getattr(task_definition, "container_definitions", None) or [])
    for container in containers:
        cpu += _int(container.get("cpu"))
        memory += _int(container.get("memory") or container.get("memoryReservation"))
        if network_mode == "awsvpc":
            continue  # each task has its own network interface: no host port is taken
        for mapping in container.get("portMappings") or []:
            port = mapping.get("hostPort")
            if network_mode == "host":
                port = port or mapping.get("containerPort")
            if port:
                ports.add(str(port))
    if not memory:
        memory = task_memory
    if not cpu:
        cpu = _int(getattr(task_definition, "cpu", None))
    return Requirements(cpu=cpu, memory=memory, ports=frozenset(ports))


# Why an instance cannot take a task: (RunTask's failure reason, the service event's words).
_AGENT = ("AGENT", 'encountered error "AGENT".')
_CPU = ("RESOURCE:CPU", "has insufficient CPU units available.")
_MEMORY = ("RESOURCE:MEMORY", "has insufficient memory available.")
_PORTS = ("RESOURCE:PORTS", "is already using a port required by your task.")
_MEMBER_OF = (
    "MemberOf placement constraint unsatisfied.",
    'encountered error "MemberOf placement constraint unsatisfied.".',
)
_DISTINCT = (
    "DistinctInstance placement constraint unsatisfied.",
    'encountered error "DistinctInstance placement constraint unsatisfied.".',
)


def _first_failure(
    candidate: Candidate,
    needs: Requirements,
    member_of: Sequence[Any],
    distinct_group: str | None,
) -> tuple[int, tuple[str, str] | None]:
    """How many checks ``candidate`` passes, and the first it fails (None if none)."""
    checks = (
        (candidate.active, _AGENT),
        (candidate.cpu >= needs.cpu, _CPU),
        (candidate.memory >= needs.memory, _MEMORY),
        (not (needs.ports & candidate.used_ports), _PORTS),
        (all(p(candidate.as_query_subject()) for p in member_of), _MEMBER_OF),
        (distinct_group is None or distinct_group not in candidate.task_groups, _DISTINCT),
    )
    for passed, (ok, failure) in enumerate(checks):
        if not ok:
            return passed, failure
    return len(checks), None


def _field_value(candidate: Candidate, field_name: str) -> str | None:
    lowered = field_name.lower()
    if lowered in ("instanceid", "host"):
        return candidate.arn
    if field_name.startswith("attribute:"):
        return candidate.attributes.get(field_name[len("attribute:") :])
    return None


def _apply_strategy(
    strategy: Mapping[str, Any],
    fitting: list[Candidate],
    everyone: Sequence[Candidate],
    group: str,
    rng: random.Random,
) -> list[Candidate]:
    kind = str(strategy.get("type") or "").lower()
    field_name = str(strategy.get("field") or "")
    if kind == "random":
        return [rng.choice(fitting)]
    if kind == "binpack":
        key = "memory" if field_name.lower() == "memory" else "cpu"
        least = min(getattr(c, key) for c in fitting)
        return [c for c in fitting if getattr(c, key) == least]
    if kind == "spread":
        counts: Counter[str | None] = Counter()
        for candidate in everyone:
            counts[_field_value(candidate, field_name)] += candidate.task_groups.count(group)
        fewest = min(counts[_field_value(c, field_name)] for c in fitting)
        return [c for c in fitting if counts[_field_value(c, field_name)] == fewest]
    return fitting


def place(
    candidates: Sequence[Candidate],
    needs: Requirements,
    *,
    constraints: Sequence[Mapping[str, Any]] = (),
    strategies: Sequence[Mapping[str, Any]] | None = None,
    group: str = "",
    rng: random.Random | None = None,
) -> Placement:
    """Choose an instance for one task of ``group``; ``reason`` says why none fits.

    ``constraints`` and ``strategies`` are ECS's shapes (``{"type": "memberOf", "expression":
    ...}``, ``{"type": "spread", "field": ...}``); no strategies (None) means a service's
    default, an empty list the first instance that fits.
    """
    rng = rng or random.Random()
    if not candidates:
        return Placement(
            None, "Reason: No Container Instances were found in your cluster.", "MISSING"
        )
    member_of = []
    distinct_group: str | None = None
    for constraint in constraints:
        kind = str(constraint.get("type") or "")
        if kind == "memberOf":
            try:
                member_of.append(parse(str(constraint.get("expression") or "")))
            except QueryError as exc:
                return Placement(None, f"Reason: invalid placement constraint: {exc}.", "ATTRIBUTE")
        elif kind == "distinctInstance":
            distinct_group = group
    fitting: list[Candidate] = []
    closest: tuple[int, tuple[str, str], Candidate] | None = None
    for candidate in candidates:
        passed, failure = _first_failure(candidate, needs, member_of, distinct_group)
        if failure is None:
            fitting.append(candidate)
        elif closest is None or passed > closest[0]:
            closest = (passed, failure, candidate)
    if not fitting:
        assert closest is not None
        _, (code, words), candidate = closest
        return Placement(
            None,
            f"The closest matching container-instance {candidate.short_id} {words}",
            code,
            candidate,
        )
    for strategy in strategies if strategies is not None else DEFAULT_SERVICE_STRATEGY:
        fitting = _apply_strategy(strategy, fitting, candidates, group, rng)
        if len(fitting) == 1:
            break
    return Placement(fitting[0])
