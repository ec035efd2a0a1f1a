"""Is a canary healthy? Its targets, its ECS services and its CloudWatch alarms, read at once.

One reading costs a DescribeTargetHealth per exposed process, one DescribeServices per ten
processes and one DescribeAlarms for every alarm of the app's stack. A reading is a failure
when:

- a target of the canary's groups is ``unhealthy``;
- ECS reported a task unhealthy in one of its target groups since the watch began (a task
  that fails its health check is stopped and replaced between two readings, so its target
  may be gone by the next one, but the service's event stays);
- a service's deployment failed or was rolled back by ECS (its circuit breaker);
- an alarm is in ``ALARM`` (``INSUFFICIENT_DATA`` is not a failure: a quiet canary has none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackyard.apps.follow import Rollout, rollout_of

__all__ = ["Health", "HealthWatch"]

# ECS's event for a target that failed its load balancer's health check
UNHEALTHY_EVENT = re.compile(
    r"\(instance (?P<id>[^)]+)\) \(port (?P<port>\d+)\) is unhealthy in \(target-group [^)]+\)"
    r"(?: due to \(reason (?P<reason>[^)]*)\))?"
)


@dataclass(frozen=True)
class Health:
    """One reading of a canary's health."""

    healthy: int
    targets: int
    alarms: dict[str, str] = field(default_factory=dict)
    services: dict[str, Rollout] = field(default_factory=dict)
    problem: str | None = None
    reads: int = 0

    @property
    def ok(self) -> bool:
        """No failure in this reading."""
        return self.problem is None

    def summary(self) -> str:
        """``healthy 2/2, alarms: web-5xx OK, web-latency OK``."""
        alarms = ", ".join(f"{_short(n)} {s}" for n, s in sorted(self.alarms.items())) or "none"
        return f"healthy {self.healthy}/{self.targets}, alarms: {alarms}"

    def key(self) -> tuple[Any, ...]:
        """What a progress line shows, to print it only when it changes."""
        return (self.healthy, self.targets, tuple(sorted(self.alarms.items())), self.problem)


def _short(alarm: str) -> str:
    # stack-process-kind: the last two parts say which alarm it is
    return "-".join(alarm.rsplit("-", 2)[-2:])


@dataclass
class HealthWatch:
    """Reads the health of a canary's groups, services and alarms."""

    elbv2: Any
    ecs: Any
    cloudwatch: Any
    cluster: str
    groups: Mapping[str, str]  # process → target group ARN
    services: Mapping[str, tuple[str, str]]  # process → (service name, task definition ARN)
    alarms: Sequence[str]
    since: datetime

    def read(self) -> Health:
        """One reading (see the module's docstring for what fails it)."""
        problems: list[str] = []
        seen: set[str] = set()  # id:port of the targets already named
        reads = 0
        healthy = total = 0
        for process, arn in sorted(self.groups.items()):
            answer = self.elbv2.describe_target_health(TargetGroupArn=arn)
            reads += 1
            for target in answer.get("TargetHealthDescriptions", []):
                state = target.get("TargetHealth", {}).get("State", "")
                if state == "draining":
                    continue
                total += 1
                healthy += state == "healthy"
                if state == "unhealthy":
                    where = target.get("Target", {})
                    name = f"{where.get('Id')}:{where.get('Port')}"
                    reason = target.get("TargetHealth", {}).get("Description", "")
                    seen.add(name)
                    problems.append(
                        f"{process}: target {name} is unhealthy"
                        + (f" ({reason})" if reason else "")
                    )
        rollouts, count = self._services(problems, seen)
        reads += count
        alarms: dict[str, str] = {}
        if self.alarms:
            answer = self.cloudwatch.describe_alarms(AlarmNames=list(self.alarms))
            reads += 1
            for alarm in answer.get("MetricAlarms", []):
                alarms[alarm["AlarmName"]] = alarm.get("StateValue", "")
                if alarm.get("StateValue") == "ALARM":
                    problems.append(
                        f"alarm {alarm['AlarmName']} is in ALARM"
                        + (f" ({alarm['StateReason']})" if alarm.get("StateReason") else "")
                    )
        return Health(healthy, total, alarms, rollouts, "; ".join(problems) or None, reads)

    def _services(self, problems: list[str], seen: set[str]) -> tuple[dict[str, Rollout], int]:
        names = {name: process for process, (name, _) in self.services.items()}
        described: dict[str, Any] = {}
        reads = 0
        ordered = sorted(names)
        for start in range(0, len(ordered), 10):
            answer = self.ecs.describe_services(
                cluster=self.cluster, services=ordered[start : start + 10]
            )
            reads += 1
            described.update({s["serviceName"]: s for s in answer.get("services", [])})
        rollouts: dict[str, Rollout] = {}
        for name, process in sorted(names.items()):
            service = described.get(name)
            if service is None:
                problems.append(f"{process}: service {name} is gone")
                continue
            rollout = rollout_of(process, service, self.services[process][1], self.since)
            rollouts[process] = rollout
            if rollout.state == "FAILED":
                problems.append(f"{process}: {rollout.reason}")
            for event in _unhealthy_events(service, self.since):
                name = f"{event['id']}:{event['port']}"
                if name not in seen:
                    seen.add(name)
                    reason = event["reason"] or "health checks failed"
                    problems.append(f"{process}: ECS found target {name} unhealthy ({reason})")
        return rollouts, reads


def _unhealthy_events(service: Mapping[str, Any], since: datetime) -> list[dict[str, str]]:
    """The targets of ECS's "is unhealthy in (target-group ...)" events since ``since``."""
    found = []
    for event in service.get("events", []):
        match = UNHEALTHY_EVENT.search(str(event.get("message", "")))
        if match and _at_or_after(event, since):
            found.append(match.groupdict())
    return found


def _at_or_after(event: Mapping[str, Any], since: datetime) -> bool:
    created = event.get("createdAt")
    if created is None:
        return True
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    return bool(created >= since)
