"""A canary's share of traffic: weights on the parent's listener rules, set and read back.

Each exposed process of a parent environment has one listener rule. A canary's share is
set on that rule as a weighted forward action (``ForwardConfig``) to two target groups, the
parent's and the canary's, with integer weights that add up to 100: the weight *is* the
percentage (``5`` → parent 95, canary 5). After every change the rules are read back with
one DescribeRules for all of them, until each reads as set or the time allowed runs out;
a rollout does not go on on a weight it has not seen on the listener.

The share is explicit (``apps canary weight 5%``) by default, not derived from task counts:
the load balancer sends traffic by weight, not by how many tasks stand behind each group,
so only an explicit weight is a share that can be read back and confirmed.
:func:`weight_from_scale` gives Empire's implicit share (canary tasks ÷ all tasks) once, as
a number to set.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stackyard.errors import StackyardError, UsageError

__all__ = [
    "Confirmation",
    "WeightError",
    "WeightedRule",
    "Weights",
    "forward_actions",
    "parse_duration",
    "parse_steps",
    "parse_weight",
    "read_share",
    "weight_from_scale",
]

_WEIGHT = re.compile(r"^\s*(\d{1,3})\s*%?\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class WeightError(StackyardError):
    """A canary weight was not set as asked: refused, or not read back as set."""


def parse_weight(text: str | int) -> int:
    """``"5%"``, ``"5"`` or ``5`` → 5; a share is a whole percentage from 0 to 100."""
    found = _WEIGHT.match(str(text))
    if not found or int(found.group(1)) > 100:
        raise UsageError(
            f"{text!r} is not a canary weight", hint="a whole percentage from 0 to 100: 5%"
        )
    return int(found.group(1))


def parse_steps(text: str) -> tuple[int, ...]:
    """``"5,25,50"`` → (5, 25, 50): rising weights, each from 1 to 100."""
    steps = tuple(parse_weight(part) for part in text.split(",") if part.strip())
    if not steps or any(s < 1 for s in steps) or list(steps) != sorted(set(steps)):
        raise UsageError(
            f"{text!r} is not a list of steps", hint="rising weights from 1 to 100: 5,25,50"
        )
    return steps


def parse_duration(text: str) -> float:
    """``"5m"``, ``"30s"``, ``"500ms"``, ``"90"`` (seconds) → seconds."""
    found = _DURATION.match(text)
    if not found:
        raise UsageError(f"{text!r} is not a duration", hint="e.g. 5m, 30s, 500ms")
    return float(found.group(1)) * _UNITS[found.group(2)]


@dataclass(frozen=True)
class WeightedRule:
    """The parent's listener rule of one exposed process and the two groups it weighs."""

    process: str
    rule_arn: str
    parent_group: str
    canary_group: str


def forward_actions(rule: WeightedRule, weight: int) -> list[dict[str, Any]]:
    """The rule's actions that give the canary ``weight`` percent (0 keeps the canary's group
    in the action, with no traffic, so that the share reads back as 0)."""
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": rule.parent_group, "Weight": 100 - weight},
                    {"TargetGroupArn": rule.canary_group, "Weight": weight},
                ]
            },
        }
    ]


def _forward_groups(actions: Iterable[Mapping[str, Any]]) -> dict[str, int] | None:
    """Target group → weight of the rule's first action, if it forwards."""
    ordered = sorted(actions, key=lambda a: int(a.get("Order") or 50001))
    if not ordered or ordered[0].get("Type") != "forward":
        return None
    groups = (ordered[0].get("ForwardConfig") or {}).get("TargetGroups") or []
    if groups:
        return {str(g["TargetGroupArn"]): int(g.get("Weight", 1)) for g in groups}
    arn = ordered[0].get("TargetGroupArn")
    return {str(arn): 1} if arn else None


def read_share(rule: WeightedRule, described: Mapping[str, Any]) -> float | None:
    """The canary's percentage of the rule as described by DescribeRules; None when the
    rule does not forward to the parent's and canary's groups alone (or sends nothing)."""
    groups = _forward_groups(described.get("Actions") or [])
    if not groups or set(groups) - {rule.parent_group, rule.canary_group}:
        return None
    total = sum(groups.values())
    if total <= 0 or rule.parent_group not in groups:
        return None
    return 100.0 * groups.get(rule.canary_group, 0) / total


@dataclass(frozen=True)
class Confirmation:
    """How a weight change read back: per process the share seen last, the DescribeRules
    calls it took, and how long."""

    weight: int
    confirmed: bool
    seen: dict[str, float | None] = field(default_factory=dict)
    reads: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """``web 0% (not 5%)`` for each process that did not read back as set."""
        if not self.seen:
            return "no listener rule to weigh"
        wrong = [
            f"{p} {'no weighted forward' if s is None else f'{s:g}%'}"
            for p, s in sorted(self.seen.items())
            if s != self.weight
        ]
        return ", ".join(wrong) + f" (not {self.weight}%)"


@dataclass
class Weights:
    """The weights of one canary environment on its parent's listener rules."""

    elbv2: Any
    rules: Sequence[WeightedRule]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def set(self, weight: int) -> None:
        """ModifyRule on each rule; WeightError when the load balancer refuses."""
        from botocore.exceptions import ClientError

        for rule in self.rules:
            try:
                self.elbv2.modify_rule(RuleArn=rule.rule_arn, Actions=forward_actions(rule, weight))
            except ClientError as exc:
                error = exc.response.get("Error", {})
                raise WeightError(
                    f"{rule.process}: setting the canary weight to {weight}% was refused: "
                    f"{error.get('Code', '')}: {error.get('Message', '')}"
                ) from exc

    def read(self) -> dict[str, float | None]:
        """Each process's canary share as the listener has it: one DescribeRules call."""
        answer = self.elbv2.describe_rules(RuleArns=[r.rule_arn for r in self.rules])
        described = {r["RuleArn"]: r for r in answer.get("Rules", [])}
        return {r.process: read_share(r, described.get(r.rule_arn, {})) for r in self.rules}

    def confirm(self, weight: int, timeout: float = 30.0, poll: float = 0.5) -> Confirmation:
        """Read the rules back until every share is ``weight`` or ``timeout`` passes (with no
        rule there is nothing to confirm: not confirmed)."""
        if not self.rules:
            return Confirmation(weight, False)
        started = self.clock()
        reads = 0
        while True:
            seen = self.read()
            reads += 1
            took = self.clock() - started
            if all(share == weight for share in seen.values()):
                return Confirmation(weight, True, seen, reads, took)
            if took >= timeout:
                return Confirmation(weight, False, seen, reads, took)
            self.sleep(min(poll, max(timeout - took, 0.0)))

    def apply(self, weight: int, timeout: float = 30.0, poll: float = 0.5) -> Confirmation:
        """Set ``weight`` and read it back; WeightError when it does not read back as set."""
        self.set(weight)
        confirmation = self.confirm(weight, timeout, poll)
        if not confirmation.confirmed:
            raise WeightError(
                f"the listener does not read back the canary weight {weight}% after "
                f"{confirmation.seconds:.1f}s: {confirmation.describe()}",
                hint="another writer may hold the listener rule; read it with "
                "aws elbv2 describe-rules",
            )
        return confirmation


def weight_from_scale(canary_tasks: int, parent_tasks: int) -> int:
    """Empire's implicit share: the canary's running tasks over all of them, in percent."""
    total = canary_tasks + parent_tasks
    return round(100 * canary_tasks / total) if total else 0
