"""Service deployments: their records, the rolling-update arithmetic, and when one fails (its
circuit breaker trips or an alarm fires) and rolls back.

A service has one PRIMARY deployment (the task definition it converges to) and, while a rolling
update runs, ACTIVE ones being drained. These records live on moto's service model
(``stackyard_state``), so they are saved and restored with moto's state.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackyard.local.ecs import events

__all__ = [
    "DEFAULT_DEPLOYMENT_CONFIGURATION",
    "Deployment",
    "ServiceState",
    "check_failures",
    "circuit_breaker_threshold",
    "deployment_limits",
    "new_deployment_id",
]

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def new_deployment_id() -> str:
    """An id in ECS's shape, ``ecs-svc/`` and 19 digits."""
    return f"ecs-svc/{random.randint(10**18, 10**19 - 1)}"


def circuit_breaker_threshold(desired: int) -> int:
    """Failed tasks that fail a deployment: half the desired count, at least 3, at most 200
    (the ECS Developer Guide's "How the deployment circuit breaker detects failures")."""
    return min(max(math.ceil(0.5 * desired), 3), 200)


def deployment_limits(desired: int, configuration: dict[str, Any]) -> tuple[int, int]:
    """(minimum healthy tasks, maximum tasks) during a rolling update: ECS rounds the minimum
    up and the maximum down."""
    minimum_percent = int(configuration.get("minimumHealthyPercent", 100))
    maximum_percent = int(configuration.get("maximumPercent", 200))
    minimum = math.ceil(desired * minimum_percent / 100)
    maximum = math.floor(desired * maximum_percent / 100)
    return minimum, maximum


def _timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass
class Deployment:
    """One deployment of a service, as DescribeServices reports it."""

    id: str
    task_definition: str
    desired: int
    created: float
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    reason: str = ""
    failed_tasks: int = 0
    updated: float = 0.0
    running: int = 0
    pending: int = 0
    rollback: bool = False

    def __post_init__(self) -> None:
        self.updated = self.updated or self.created
        self.reason = self.reason or f"ECS deployment {self.id} in progress."

    def describe(self, service: Any) -> dict[str, Any]:
        """The deployment in DescribeServices' shape."""
        record: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition,
            "desiredCount": self.desired,
            "pendingCount": self.pending,
            "runningCount": self.running,
            "failedTasks": self.failed_tasks,
            "createdAt": _timestamp(self.created),
            "updatedAt": _timestamp(self.updated),
            "launchType": getattr(service, "launch_type", None) or "EC2",
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.reason,
        }
        network = getattr(service, "network_configuration", None)
        if network:
            record["networkConfiguration"] = network
        return record


@dataclass
class ServiceState:
    """What stackyard keeps per service beside moto's model."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    deployments: list[Deployment] = field(default_factory=list)
    last_completed: Deployment | None = None
    placement_event_at: float = 0.0
    steady: bool = False
    deleted: bool = False

    @property
    def primary(self) -> Deployment | None:
        """The deployment the service converges to."""
        return self.deployments[0] if self.deployments else None

    def start(self, task_definition: str, desired: int, now: float) -> Deployment:
        """Make a new PRIMARY deployment; the previous ones become ACTIVE."""
        for deployment in self.deployments:
            deployment.status = "ACTIVE"
            deployment.updated = now
        deployment = Deployment(new_deployment_id(), task_definition, desired, now)
        self.deployments.insert(0, deployment)
        self.steady = False
        return deployment


def _alarm_firing(service: Any, names: Iterable[str]) -> str | None:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = cloudwatch_backends[service._account_id][service.region_name].alarms
    for name in names:
        alarm = alarms.get(name)
        if alarm is not None and alarm.state_value == "ALARM":
            return str(name)
    return None


def _fail_deployment(
    service: Any, state: ServiceState, why: str, rollback: bool, reason: str, now: float
) -> None:
    primary = state.primary
    assert primary is not None
    primary.rollout_state = "FAILED"
    primary.reason = reason
    primary.updated = now
    events.add(
        service,
        f"(service {service.name}) (deployment {primary.id}) deployment failed: {why}.",
        now,
    )
    target = state.last_completed
    if not rollback or target is None:
        return
    restored = state.start(target.task_definition, primary.desired, now)
    restored.rollback = True
    restored.reason = f"{reason.split(':')[0]}: rolling back to deploymentId {target.id}."
    service.task_definition = target.task_definition
    events.add(service, f"(service {service.name}) rolling back to deployment {target.id}.", now)


def check_failures(service: Any, state: ServiceState, config: dict[str, Any], now: float) -> None:
    """Fail the PRIMARY deployment if an alarm fires or its circuit breaker trips, and roll
    back to the last completed deployment when asked to."""
    primary = state.primary
    # A rollback is not itself rolled back: it goes to a revision that completed before.
    if primary is None or primary.rollout_state != "IN_PROGRESS" or primary.rollback:
        return
    alarms = config.get("alarms") or {}
    if alarms.get("enable"):
        firing = _alarm_firing(service, alarms.get("alarmNames") or [])
        if firing is not None:
            _fail_deployment(
                service,
                state,
                f"alarm {firing} in ALARM state",
                bool(alarms.get("rollback")),
                f"ECS deployment alarms: alarm {firing} is in ALARM state.",
                now,
            )
            return
    breaker = config.get("deploymentCircuitBreaker") or {}
    if breaker.get("enable") and primary.failed_tasks >= circuit_breaker_threshold(primary.desired):
        _fail_deployment(
            service,
            state,
            "tasks failed to start",
            bool(breaker.get("rollback")),
            "ECS deployment circuit breaker: tasks failed to start.",
            now,
        )
