"""One step of a service's life: tasks start and pass (or fail) their health checks, rolling
updates replace tasks within the deployment's limits, circuit breakers and alarms fail and roll
back deployments, and DescribeServices' counts, deployments and events follow.

``reconcile`` is called for every service on every tick of the runtime, under the endpoint's
lock, with the wall-clock time; all it needs is stored on moto's models.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stackyard.local.ecs import tasks as task_ops
from stackyard.local.ecs.deployments import (
    DEFAULT_DEPLOYMENT_CONFIGURATION,
    Deployment,
    ServiceState,
    circuit_breaker_threshold,
    deployment_limits,
)
from stackyard.local.ecs.images import ImageHealth
from stackyard.local.ecs.placement import place, requirements_of
from stackyard.local.ecs.query import parse
from stackyard.local.elbv2 import targets as target_ops

__all__ = ["Timing", "add_event", "adopt", "reconcile", "refresh", "retire", "state_of"]

MAX_EVENTS = 100
# Stopped tasks a service keeps listed (ECS shows them for about an hour); older ones go.
KEEP_STOPPED = 100
# ECS repeats an "unable to place" event at most this often.
PLACEMENT_EVENT_SECONDS = 30.0


@dataclass(frozen=True)
class Timing:
    """How long a task takes to start, and then to pass its first health check."""

    task_seconds: float = 0.0
    health_seconds: float = 0.0


def state_of(service: Any) -> ServiceState | None:
    """The service's stackyard state, if the runner manages it."""
    state = getattr(service, "stackyard_state", None)
    return state if isinstance(state, ServiceState) else None


def configuration(service: Any) -> dict[str, Any]:
    """The service's deployment configuration with ECS's defaults filled in."""
    merged = dict(DEFAULT_DEPLOYMENT_CONFIGURATION)
    merged.update(getattr(service, "deployment_configuration", None) or {})
    return merged


def add_event(service: Any, message: str, now: float) -> None:
    """Add a service event (newest first, as DescribeServices lists them)."""
    events = list(getattr(service, "events", None) or [])
    events.insert(
        0, {"id": str(uuid.uuid4()), "createdAt": task_ops.timestamp(now), "message": message}
    )
    service.events = events[:MAX_EVENTS]


def adopt(backend: Any, service: Any, now: float) -> ServiceState:
    """Start managing a new service: its first deployment is PRIMARY and IN_PROGRESS."""
    state = ServiceState()
    service.stackyard_state = state
    if service.task_definition:
        arn = backend.describe_task_definition(service.task_definition).arn
        service.task_definition = arn
        state.start(arn, int(service.desired_count or 0), now)
    service.running_count = 0
    service.pending_count = 0
    service.deployment_configuration = configuration(service)
    service.events = []
    refresh(backend, service)
    return state


def _service_tasks(backend: Any, service: Any, state: ServiceState) -> list[Any]:
    return [
        task
        for task in backend.tasks.get(service.cluster_name, {}).values()
        if getattr(task, "stackyard_service", None) == state.token
        and task.desired_status == "RUNNING"
    ]


def retire(backend: Any, service: Any, now: float) -> None:
    """The service was deleted: stop its tasks and take its targets out."""
    state = state_of(service)
    if state is None:
        return
    state.deleted = True
    for task in _service_tasks(backend, service, state):
        _stop(
            backend,
            service,
            task,
            f"Scaling activity initiated by (deployment {task.stackyard_deployment})",
            now,
        )
    for deployment in state.deployments:
        deployment.desired = 0
    refresh(backend, service)


def refresh(backend: Any, service: Any) -> None:
    """Bring moto's fields (counts, deployments, task definition) in line with the state."""
    state = state_of(service)
    if state is None:
        return
    live = _service_tasks(backend, service, state)
    for deployment in state.deployments:
        mine = [t for t in live if t.stackyard_deployment == deployment.id]
        deployment.running = sum(1 for t in mine if t.last_status == "RUNNING")
        deployment.pending = sum(1 for t in mine if t.last_status == "PENDING")
    service.running_count = sum(1 for t in live if t.last_status == "RUNNING")
    service.pending_count = sum(1 for t in live if t.last_status == "PENDING")
    service.deployments = [d.describe(service) for d in state.deployments]
    if state.primary is not None:
        service.task_definition = state.primary.task_definition


# tasks ------------------------------------------------------------------------------------


def _images_failing(task: Any, images: ImageHealth) -> bool:
    return any(images.is_failing(image) for image in task.stackyard_images)


def _targets_of(service: Any, task: Any) -> Iterable[tuple[Any, str, int]]:
    """(target group, target id, port) for each of the service's load balancers."""
    account_id = service._account_id
    for balancer in getattr(service, "load_balancers", None) or []:
        arn = balancer.get("targetGroupArn")
        if not arn:
            continue
        group = target_ops.target_group(account_id, service.region_name, arn)
        if group is None:
            continue
        port = int(task.stackyard_host_ports.get(int(balancer.get("containerPort") or 0), 0) or 0)
        port = port or int(balancer.get("containerPort") or 0)
        ip_target = group.target_type == "ip"
        target_id = _task_ip(task) if ip_target else _instance_id(service, task)
        if target_id:
            yield group, target_id, port


def _task_ip(task: Any) -> str | None:
    for attachment in getattr(task, "attachments", None) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return str(detail["value"])
    return None


def _instance_id(service: Any, task: Any) -> str | None:
    from moto.ecs.models import ecs_backends

    if not task.container_instance_arn:
        return None
    backend = ecs_backends[service._account_id][service.region_name]
    instance = backend.container_instances.get(task.cluster_name, {}).get(
        task.container_instance_arn.rsplit("/", 1)[-1]
    )
    return str(instance.ec2_instance_id) if instance is not None else None


def _stop(
    backend: Any,
    service: Any,
    task: Any,
    reason: str,
    now: float,
    code: str = "ServiceSchedulerInitiated",
    exit_code: int = 0,
) -> None:
    for arn, target_id, port in task.stackyard_targets:
        group = target_ops.target_group(backend.account_id, backend.region_name, arn)
        if group is not None:
            target_ops.deregister(group, target_id, port)
            add_event(
                service,
                f"service {service.name} deregistered 1 targets in target-group {group.name}",
                now,
            )
    task.stackyard_targets = []
    task_ops.stop(backend, task, reason, now, code, exit_code)


def _host_terminated(backend: Any, task: Any) -> str | None:
    """The EC2 instance id if the task's container instance went away with its instance."""
    if not task.container_instance_arn:
        return None
    instance = backend.container_instances.get(task.cluster_name, {}).get(
        task.container_instance_arn.rsplit("/", 1)[-1]
    )
    if instance is None or instance.status == "INACTIVE":
        return str(instance.ec2_instance_id) if instance is not None else "unknown"
    return None


def _fail_reason(service: Any, task: Any) -> tuple[str, str, int]:
    """(stopped reason, stop code, exit code) of a task that failed its health check."""
    if task.stackyard_targets:
        return (
            f"Task failed ELB health checks in (target-group {task.stackyard_targets[0][0]})",
            "ServiceSchedulerInitiated",
            0,
        )
    return "Essential container in task exited", "EssentialContainerExited", 1


def _progress_task(
    backend: Any, service: Any, task: Any, now: float, timing: Timing, images: ImageHealth
) -> bool:
    """Advance one task; True if it failed (stopped after a failed health check)."""
    if task.last_status == "PENDING" and now >= task.stackyard_ready_at:
        task.last_status = "RUNNING"
        task.started_at = task_ops.timestamp(now)
        task.pull_started_at = task.created_at
        task.pull_stopped_at = task_ops.timestamp(now)
        task.connectivity = "CONNECTED"
        task.connectivity_at = task_ops.timestamp(now)
        for container in task.containers:
            container.last_status = "RUNNING"
        task.stackyard_check_at = now + timing.health_seconds
        for group, target_id, port in _targets_of(service, task):
            target_ops.register(group, target_id, port, task.task_arn)
            task.stackyard_targets.append((group.arn, target_id, port))
            add_event(
                service,
                f"service {service.name} registered 1 targets in target-group {group.name}",
                now,
            )
        return False
    if task.last_status != "RUNNING":
        return False
    if task.stackyard_stop_at is not None:
        if now >= task.stackyard_stop_at:
            reason, code, exit_code = _fail_reason(service, task)
            _stop(backend, service, task, reason, now, code, exit_code)
            return True
        return False
    due = task.stackyard_check_at is not None and now >= task.stackyard_check_at
    if not due:
        return False
    failing = _images_failing(task, images)
    state = "unhealthy" if failing else "healthy"
    for arn, target_id, port in task.stackyard_targets:
        group = target_ops.target_group(backend.account_id, backend.region_name, arn)
        if group is not None:
            target_ops.set_state(group, target_id, port, state)
    if failing:
        task.health_status = "UNHEALTHY"
        task.stackyard_healthy = False
        task.stackyard_failed = True
        task.stackyard_stop_at = now + timing.health_seconds
        for container in task.containers:
            container.health_status = "UNHEALTHY"
    elif not task.stackyard_healthy:
        task.health_status = "HEALTHY"
        task.stackyard_healthy = True
        for container in task.containers:
            container.health_status = "HEALTHY"
    return False


# deployments ------------------------------------------------------------------------------


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
    add_event(
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
    add_event(service, f"(service {service.name}) rolling back to deployment {target.id}.", now)


def _check_deployment(service: Any, state: ServiceState, now: float) -> None:
    primary = state.primary
    # A rollback is not itself rolled back: it goes to a revision that completed before.
    if primary is None or primary.rollout_state != "IN_PROGRESS" or primary.rollback:
        return
    config = configuration(service)
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


def _order_for_stopping(tasks: list[Any]) -> list[Any]:
    return sorted(tasks, key=lambda t: (t.stackyard_healthy, t.last_status == "RUNNING"))


def _is_daemon(service: Any) -> bool:
    return str(getattr(service, "scheduling_strategy", "") or "").upper() == "DAEMON"


def _constraints(backend: Any, service: Any, task_definition: Any) -> list[dict[str, Any]]:
    found = list(getattr(task_definition, "placement_constraints", None) or [])
    return found + list(getattr(service, "placement_constraints", None) or [])


def _daemon_count(backend: Any, service: Any, deployment: Deployment) -> int:
    """A DAEMON service runs one task on each active instance its constraints allow."""
    definition = backend.describe_task_definition(deployment.task_definition)
    expressions = [
        parse(str(c.get("expression") or ""))
        for c in _constraints(backend, service, definition)
        if c.get("type") == "memberOf"
    ]
    return sum(
        1
        for candidate in task_ops.candidates(backend, service.cluster_name)
        if candidate.active and all(p(candidate.as_query_subject()) for p in expressions)
    )


def _throttled_event(service: Any, message: str, now: float) -> None:
    """A failure event, at most once per ``PLACEMENT_EVENT_SECONDS`` as ECS repeats them."""
    state = state_of(service)
    if state is not None and now - state.placement_event_at >= PLACEMENT_EVENT_SECONDS:
        state.placement_event_at = now
        add_event(service, message, now)


def _launch_tasks(
    backend: Any,
    service: Any,
    deployment: Deployment,
    count: int,
    now: float,
    timing: Timing,
    rng: random.Random,
) -> None:
    task_definition = backend.describe_task_definition(deployment.task_definition)
    needs = requirements_of(task_definition)
    started: list[Any] = []
    fargate = (service.launch_type or "EC2") == "FARGATE"
    constraints = _constraints(backend, service, task_definition)
    strategies: list[Any] | None = list(getattr(service, "placement_strategy", None) or []) or None
    if _is_daemon(service):
        constraints.append({"type": "distinctInstance"})
        strategies = []
    for _ in range(count):
        instance_arn = None
        if not fargate:
            placement = place(
                task_ops.candidates(backend, service.cluster_name),
                needs,
                constraints=constraints,
                strategies=strategies,
                group=f"service:{service.name}",
                rng=rng,
            )
            if placement.chosen is None:
                _throttled_event(
                    service,
                    f"service {service.name} was unable to place a task because no container "
                    f"instance met all of its requirements. {placement.reason} For more "
                    "information, see the Troubleshooting section of the Amazon ECS "
                    "Developer Guide.",
                    now,
                )
                break
            instance_arn = placement.chosen.arn
        try:
            task = task_ops.launch(
                backend,
                service,
                deployment.id,
                task_definition,
                needs,
                instance_arn,
                now,
                task_ops.jitter(timing.task_seconds, rng),
            )
        except Exception as exc:  # moto refuses e.g. awsvpc without a network configuration
            _throttled_event(
                service, f"(service {service.name}) failed to launch a task with ({exc}).", now
            )
            break
        started.append(task)
    if started:
        ids = " ".join(f"(task {task_ops.task_id(t)})" for t in started)
        add_event(
            service, f"(service {service.name}) has started {len(started)} tasks: {ids}.", now
        )


def _stop_tasks(backend: Any, service: Any, chosen: list[Any], now: float) -> None:
    if not chosen:
        return
    for task in chosen:
        _stop(
            backend,
            service,
            task,
            f"Scaling activity initiated by (deployment {task.stackyard_deployment})",
            now,
        )
    ids = " ".join(f"(task {task_ops.task_id(t)})" for t in chosen)
    add_event(
        service, f"(service {service.name}) has stopped {len(chosen)} running tasks: {ids}.", now
    )


def reconcile(
    backend: Any,
    service: Any,
    now: float,
    timing: Timing,
    images: ImageHealth,
    rng: random.Random | None = None,
) -> None:
    """Advance ``service`` to ``now``."""
    state = state_of(service)
    if state is None or state.deleted:
        return
    rng = rng or random.Random()
    for task in _service_tasks(backend, service, state):
        host = _host_terminated(backend, task)
        if host is not None:
            _stop(
                backend,
                service,
                task,
                f"Host EC2 (instance {host}) terminated.",
                now,
                "TerminationNotice",
            )
            continue
        if _progress_task(backend, service, task, now, timing, images):
            failed_in = next(
                (d for d in state.deployments if d.id == task.stackyard_deployment), None
            )
            if failed_in is not None and failed_in.rollout_state == "IN_PROGRESS":
                failed_in.failed_tasks += 1
    _check_deployment(service, state, now)
    primary = state.primary
    if primary is None:
        refresh(backend, service)
        return
    if _is_daemon(service):
        primary.desired = _daemon_count(backend, service, primary)
        service.desired_count = primary.desired
    live = _service_tasks(backend, service, state)
    mine = [t for t in live if t.stackyard_deployment == primary.id]
    old = [t for t in live if t.stackyard_deployment != primary.id]
    minimum, maximum = deployment_limits(primary.desired, configuration(service))
    healthy = sum(1 for t in live if t.stackyard_healthy)
    budget = healthy - minimum
    stopping: list[Any] = []
    for task in _order_for_stopping(old):
        if not task.stackyard_healthy:
            stopping.append(task)
        elif budget > 0:
            stopping.append(task)
            budget -= 1
    extra = len(mine) - primary.desired
    if extra > 0:
        stopping.extend(_order_for_stopping(mine)[:extra])
    _stop_tasks(backend, service, stopping, now)
    live = [t for t in live if t not in stopping]
    mine = [t for t in mine if t not in stopping]
    if primary.rollout_state != "FAILED":
        need = primary.desired - len(mine)
        room = maximum - len(live) if any(t not in mine for t in live) else need
        if min(need, room) > 0:
            _launch_tasks(backend, service, primary, min(need, room), now, timing, rng)
            primary.updated = now
    live = _service_tasks(backend, service, state)
    remaining = {t.stackyard_deployment for t in live}
    # A drained deployment leaves the list; a failed one stays in view until the rollout ends.
    state.deployments = [primary] + [
        d
        for d in state.deployments[1:]
        if d.id in remaining
        or (d.rollout_state == "FAILED" and primary.rollout_state == "IN_PROGRESS")
    ]
    mine = [t for t in live if t.stackyard_deployment == primary.id]
    settled = (
        not remaining - {primary.id}
        and len(mine) == primary.desired
        and all(t.stackyard_healthy for t in mine)
    )
    if settled and primary.rollout_state == "IN_PROGRESS":
        state.deployments = [primary]
        primary.rollout_state = "COMPLETED"
        primary.reason = f"ECS deployment {primary.id} completed."
        primary.updated = now
        state.last_completed = primary
        add_event(
            service,
            f"(service {service.name}) (deployment {primary.id}) deployment completed.",
            now,
        )
    if settled and not state.steady:
        state.steady = True
        add_event(service, f"(service {service.name}) has reached a steady state.", now)
    elif not settled:
        state.steady = False
    _prune_stopped(backend, service, state)
    refresh(backend, service)


def _prune_stopped(backend: Any, service: Any, state: ServiceState) -> None:
    tasks = backend.tasks.get(service.cluster_name, {})
    stopped = [
        task
        for task in tasks.values()
        if task.desired_status == "STOPPED"
        and getattr(task, "stackyard_service", None) == state.token
    ]
    if len(stopped) <= KEEP_STOPPED:
        return
    stopped.sort(key=lambda task: task.stopped_at)
    for task in stopped[:-KEEP_STOPPED]:
        del tasks[task.task_arn]
