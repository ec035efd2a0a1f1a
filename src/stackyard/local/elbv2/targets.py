"""Targets that ECS registers for service tasks, and their health.

moto keys a target group's targets by id alone and calls every registered target healthy.
Tasks sharing an instance differ only by port, and a task's target goes ``initial`` →
``healthy`` (or ``unhealthy``) → ``draining`` → gone as the task starts, passes or fails its
health check and stops. Those targets are kept per target group in ``stackyard_targets``
(keyed ``id:port``, saved with moto's state); DescribeTargetHealth answers from there.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "check_attached",
    "deregister",
    "health_of",
    "register",
    "set_state",
    "sweep",
    "target_group",
    "task_targets",
]

_REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "healthy": (None, None),
}


def target_group(account_id: str, region: str, arn: str) -> Any:
    """moto's target group ``arn``, or None."""
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account_id][region].target_groups.get(arn)


def check_attached(account_id: str, region: str, target_group_arns: list[str]) -> str | None:
    """ECS's refusal of a service whose target group is missing or used by no load balancer
    (a listener must forward to it first), or None."""
    for arn in target_group_arns:
        group = target_group(account_id, region, arn)
        if group is None:
            return f"The target group with targetGroupArn {arn} does not exist."
        if not group.load_balancer_arns:
            return (
                f"The target group with targetGroupArn {arn} does not have an associated load "
                "balancer."
            )
    return None


def _targets(group: Any) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] | None = getattr(group, "stackyard_targets", None)
    if targets is None:
        targets = {}
        group.stackyard_targets = targets
    return targets


def _key(target_id: str, port: Any) -> str:
    return f"{target_id}:{port}"


def register(group: Any, target_id: str, port: int, task_arn: str) -> None:
    """Register a task's target; it starts ``initial``."""
    key = _key(target_id, port)
    _targets(group)[key] = {"Id": target_id, "Port": port, "Task": task_arn, "State": "initial"}
    group.targets[key] = {"Id": target_id, "Port": port}


def set_state(group: Any, target_id: str, port: int, state: str) -> None:
    """Move a registered target to ``state`` (``healthy``, ``unhealthy``, ``draining``)."""
    found = _targets(group).get(_key(target_id, port))
    if found is not None:
        found["State"] = state


def deregister(group: Any, target_id: str, port: int, until: float | None = None) -> None:
    """Take a task's target out: ``draining`` until ``until`` if given, else gone at once."""
    key = _key(target_id, port)
    found = _targets(group).get(key)
    if until is not None and found is not None:
        found["State"] = "draining"
        found["Until"] = until
        return
    _targets(group).pop(key, None)
    group.targets.pop(key, None)


def sweep(group: Any, now: float) -> None:
    """Remove the targets whose draining ended by ``now``."""
    for found in list(_targets(group).values()):
        if found["State"] == "draining" and found.get("Until", 0.0) <= now:
            deregister(group, found["Id"], found["Port"])


def task_targets(group: Any) -> list[dict[str, Any]]:
    """The task targets of ``group``: dicts with Id, Port, Task and State."""
    return [dict(t) for t in _targets(group).values()]


def health_of(group: Any, target: dict[str, Any]) -> Any:
    """moto's health record for a task target, or None if ``target`` is not one."""
    key = _key(str(target.get("Id")), target.get("Port", group.port))
    found = _targets(group).get(key)
    if found is None:
        return None
    from moto.elbv2.models import FakeHealthStatus

    reason, description = _REASONS.get(found["State"], (None, None))
    return FakeHealthStatus(
        found["Id"],
        found["Port"],
        group.health_check_port,
        found["State"],
        reason,
        description,
    )
