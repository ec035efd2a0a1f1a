"""One step of a service's life: its tasks advance (:mod:`task_lifecycle`), failed
deployments fail and roll back (:mod:`deployments`), the rolling update stops old tasks and
places new ones within the deployment's limits, and DescribeServices' counts, deployments and
events follow.

``reconcile`` is called for every service on every tick of the runtime, under the endpoint's
lock, with the wall-clock time; all it needs is stored on moto's models.
"""

from __future__ import annotations

import random
from typing import Any

from stackyard.local.ecs import events, task_lifecycle
from stackyard.local.ecs import tasks as task_ops
from stackyard.local.ecs.deployments import (
    DEFAULT_DEPLOYMENT_CONFIGURATION,
    Deployment,
    ServiceState,
    check_failures,
    deployment_limits,
)
from stackyard.local.ecs.images import ImageHealth
from stackyard.local.ecs.placement import place, requirements_of
from stackyard.local.ecs.query import parse
from stackyard.local.ecs.task_lifecycle import Timing

__all__ = [
    "KEEP_STOPPED",
    "Timing",
    "adopt",
    "configuration",
    "reconcile",
    "refresh",
    "retire",
    "state_of",
]

# Stopped tasks a service keeps listed (ECS shows them for about an hour); older ones go.
KEEP_STOPPED = 100


def state_of(service: Any) -> ServiceState | None:
    """The service's stackyard state, if the runner manages it."""
    state = getattr(service, "stackyard_state", None)
    return state if isinstance(state, ServiceState) else None


def configuration(service: Any) -> dict[str, Any]:
    """The service's deployment configuration with ECS's defaults filled in."""
    merged = dict(DEFAULT_DEPLOYMENT_CONFIGURATION)
    merged.update(getattr(service, "deployment_configuration", None) or {})
    return merged


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
        task_lifecycle.stop(
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
                events.add_throttled(
                    service,
                    state_of(service),
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
            events.add_throttled(
                service,
                state_of(service),
                f"(service {service.name}) failed to launch a task with ({exc}).",
                now,
            )
            break
        started.append(task)
    if started:
        ids = " ".join(f"(task {task_ops.task_id(t)})" for t in started)
        events.add(
            service, f"(service {service.name}) has started {len(started)} tasks: {ids}.", now
        )


def _stop_tasks(
    backend: Any, service: Any, chosen: list[Any], now: float, drain_seconds: float
) -> None:
    if not chosen:
        return
    for task in chosen:
        task_lifecycle.stop(
            backend,
            service,
            task,
            f"Scaling activity initiated by (deployment {task.stackyard_deployment})",
            now,
            drain_seconds=drain_seconds,
        )
    ids = " ".join(f"(task {task_ops.task_id(t)})" for t in chosen)
    events.add(
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
    task_lifecycle.sweep_targets(service, now)
    for task in _service_tasks(backend, service, state):
        host = task_lifecycle.host_terminated(backend, task)
        if host is not None:
            task_lifecycle.stop(
                backend,
                service,
                task,
                f"Host EC2 (instance {host}) terminated.",
                now,
                "TerminationNotice",
            )
            continue
        if task_lifecycle.progress(backend, service, task, now, timing, images):
            failed_in = next(
                (d for d in state.deployments if d.id == task.stackyard_deployment), None
            )
            if failed_in is not None and failed_in.rollout_state == "IN_PROGRESS":
                failed_in.failed_tasks += 1
    check_failures(service, state, configuration(service), now)
    primary = state.primary
    if primary is None:
        refresh(backend, service)
        return
    if _is_daemon(service):
        primary.desired = _daemon_count(backend, service, primary)
        service.desired_count = primary.desired
    live = _service_tasks(backend, service, state)
    # Tasks on a DRAINING instance are replaced like those of an old deployment.
    mine = [
        t
        for t in live
        if t.stackyard_deployment == primary.id and not task_lifecycle.on_draining_host(backend, t)
    ]
    old = [t for t in live if t not in mine]
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
    _stop_tasks(backend, service, stopping, now, timing.health_seconds)
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
        and not any(task_lifecycle.on_draining_host(backend, t) for t in mine)
        and len(mine) == primary.desired
        and all(t.stackyard_healthy for t in mine)
    )
    if settled and primary.rollout_state == "IN_PROGRESS":
        state.deployments = [primary]
        primary.rollout_state = "COMPLETED"
        primary.reason = f"ECS deployment {primary.id} completed."
        primary.updated = now
        state.last_completed = primary
        events.add(
            service,
            f"(service {service.name}) (deployment {primary.id}) deployment completed.",
            now,
        )
    if settled and not state.steady:
        state.steady = True
        events.add(service, f"(service {service.name}) has reached a steady state.", now)
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
