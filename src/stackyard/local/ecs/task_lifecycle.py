"""A service task's life after launch: PENDING, RUNNING (registered in its target groups),
its first health check (healthy, or unhealthy and stopped), and stopping with a reason.

The image health marks (:mod:`stackyard.local.ecs.images`) decide the health check; the
runtime's timing decides when things happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stackyard.local.ecs import events
from stackyard.local.ecs import tasks as task_ops
from stackyard.local.ecs.images import ImageHealth
from stackyard.local.elbv2 import targets as target_ops

__all__ = ["Timing", "host_terminated", "on_draining_host", "progress", "stop", "sweep_targets"]


@dataclass(frozen=True)
class Timing:
    """How long a task takes to start, and then to pass its first health check."""

    task_seconds: float = 0.0
    health_seconds: float = 0.0


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


def stop(
    backend: Any,
    service: Any,
    task: Any,
    reason: str,
    now: float,
    code: str = "ServiceSchedulerInitiated",
    exit_code: int = 0,
    drain_seconds: float = 0.0,
) -> None:
    """Stop a service task with ``reason``, taking its targets out of their groups (draining
    for ``drain_seconds`` first)."""
    until = now + drain_seconds if drain_seconds > 0 else None
    for arn, target_id, port in task.stackyard_targets:
        group = target_ops.target_group(backend.account_id, backend.region_name, arn)
        if group is not None:
            target_ops.deregister(group, target_id, port, until)
            events.add(
                service,
                f"service {service.name} deregistered 1 targets in target-group {group.name}",
                now,
            )
    task.stackyard_targets = []
    task_ops.stop(backend, task, reason, now, code, exit_code)


def sweep_targets(service: Any, now: float) -> None:
    """End the draining of the service's targets whose deregistration delay is over."""
    for balancer in getattr(service, "load_balancers", None) or []:
        arn = balancer.get("targetGroupArn")
        group = (
            target_ops.target_group(service._account_id, service.region_name, arn) if arn else None
        )
        if group is not None:
            target_ops.sweep(group, now)


def _host(backend: Any, task: Any) -> Any:
    return backend.container_instances.get(task.cluster_name, {}).get(
        str(task.container_instance_arn).rsplit("/", 1)[-1]
    )


def on_draining_host(backend: Any, task: Any) -> bool:
    """Whether the task runs on a container instance set to DRAINING."""
    if not task.container_instance_arn:
        return False
    instance = _host(backend, task)
    return instance is not None and instance.status == "DRAINING"


def host_terminated(backend: Any, task: Any) -> str | None:
    """The EC2 instance id if the task's container instance went away with its instance."""
    if not task.container_instance_arn:
        return None
    instance = _host(backend, task)
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


def progress(
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
            events.add(
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
            stop(backend, service, task, reason, now, code, exit_code)
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
                # ECS's event for a target that fails its load balancer's health check
                events.add(
                    service,
                    f"(service {service.name}) (instance {target_id}) (port {port}) is unhealthy "
                    f"in (target-group {arn}) due to (reason Health checks failed).",
                    now,
                )
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
