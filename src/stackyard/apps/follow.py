"""Following each process's ECS deployment to COMPLETED, or to the reason it failed."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

UNPLACEABLE = "was unable to place a task"


@dataclass(frozen=True)
class Rollout:
    """Where one process's deployment is."""

    process: str
    state: str  # IN_PROGRESS, COMPLETED, FAILED
    running: int
    desired: int
    reason: str = ""


def _recent(service: Mapping[str, Any], since: datetime) -> list[str]:
    return [
        event.get("message", "")
        for event in service.get("events", [])
        if event.get("createdAt") is None or event["createdAt"].replace(tzinfo=None) >= since
    ]


def _why(service: Mapping[str, Any], since: datetime) -> str:
    """Why ECS rolled a deployment back, in ECS's words (events are newest first)."""
    messages = _recent(service, since)
    for needle in ("deployment failed", "circuit breaker", "rolling back"):
        for message in reversed(messages):
            if needle in message:
                return message
    return "the deployment was rolled back"


def rollout_of(
    process: str, service: Mapping[str, Any], task_definition: str, since: datetime
) -> Rollout:
    """Where ``process``'s deployment of ``task_definition`` is, from its DescribeServices
    entry: ECS's rollout state, or FAILED with ECS's reason when it was rolled back."""
    ours = [d for d in service.get("deployments", []) if d.get("taskDefinition") == task_definition]
    if not ours:
        # the circuit breaker replaced our deployment with a rollback to the previous one
        return Rollout(process, "FAILED", 0, service.get("desiredCount", 0), _why(service, since))
    # a restart's new deployment shares its task definition with the one it replaces
    deployment = next((d for d in ours if d.get("status") == "PRIMARY"), ours[0])
    state = deployment.get("rolloutState", "COMPLETED")
    reason = deployment.get("rolloutStateReason", "")
    running, desired = deployment.get("runningCount", 0), deployment.get("desiredCount", 0)
    if state == "IN_PROGRESS" and deployment.get("status") != "PRIMARY":
        return Rollout(process, "FAILED", running, desired, reason or "rolled back")
    if state == "IN_PROGRESS":
        for message in _recent(service, since):
            if UNPLACEABLE in message:
                return Rollout(process, "FAILED", running, desired, message)
    return Rollout(process, state, running, desired, reason)


def follow(
    ecs: Any,
    cluster: str,
    services: Mapping[str, tuple[str, str]],
    since: datetime,
    *,
    on_progress: Callable[[Rollout], None] | None = None,
    timeout: float = 900.0,
    poll: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Rollout]:
    """Poll ``services`` (process → (service name, task definition ARN)) with one
    DescribeServices a round until each deployment is COMPLETED or FAILED."""
    deadline = clock() + timeout
    done: dict[str, Rollout] = {}
    seen: dict[str, Rollout] = {}
    while True:
        pending = {p: s for p, s in services.items() if p not in done}
        if not pending:
            return done
        names = [name for name, _ in pending.values()]
        described: dict[str, Any] = {}
        for start in range(0, len(names), 10):
            answer = ecs.describe_services(cluster=cluster, services=names[start : start + 10])
            described.update({s["serviceName"]: s for s in answer.get("services", [])})
        for process, (name, task_definition) in pending.items():
            service = described.get(name)
            if service is None:
                continue
            rollout = rollout_of(process, service, task_definition, since)
            if on_progress is not None and seen.get(process) != rollout:
                on_progress(rollout)
            seen[process] = rollout
            if rollout.state in ("COMPLETED", "FAILED"):
                done[process] = rollout
        if clock() >= deadline:
            for process in pending:
                if process not in done:
                    last = seen.get(process)
                    done[process] = Rollout(
                        process,
                        "FAILED",
                        last.running if last else 0,
                        last.desired if last else 0,
                        "timed out waiting for the deployment",
                    )
            return done
        if len(done) < len(services):
            sleep(poll)
