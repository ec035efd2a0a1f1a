"""Service tasks in moto's ECS backend: launching one on an instance, and stopping it.

moto's task model advances its status on every DescribeTasks; a service task's status is
driven by the service runner instead, so its own progression is switched off. What the runner
needs to know of a task is kept on it in ``stackyard_*`` attributes (saved with moto's state).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from stackyard.local.ecs.placement import Candidate, Requirements

__all__ = [
    "candidates",
    "jitter",
    "launch",
    "resources",
    "stop",
    "task_id",
    "timestamp",
]


def timestamp(seconds: float) -> datetime:
    """A wall-clock time as the aware datetime moto's serializer takes."""
    return datetime.fromtimestamp(seconds, UTC)


def task_id(task: Any) -> str:
    """The id ECS shows in events: the last part of the task ARN."""
    return str(task.task_arn).rsplit("/", 1)[-1]


def resources(needs: Requirements) -> dict[str, Any]:
    """Requirements in moto's resource-accounting shape."""
    return {
        "CPU": needs.cpu,
        "MEMORY": needs.memory,
        "PORTS": sorted(needs.ports),
        "PORTS_UDP": [],
    }


def _remaining(instance: Any, name: str) -> Any:
    for resource in instance.remaining_resources:
        if resource.get("name") == name:
            return resource.get("stringSetValue") if name == "PORTS" else resource["integerValue"]
    return [] if name == "PORTS" else 0


def candidates(backend: Any, cluster_name: str) -> list[Candidate]:
    """The cluster's container instances, with what runs on them, as placement sees them."""
    groups: dict[str, list[str]] = {}
    for task in backend.tasks.get(cluster_name, {}).values():
        if task.desired_status == "RUNNING" and task.container_instance_arn:
            groups.setdefault(task.container_instance_arn, []).append(task.group)
    found = []
    for instance in backend.container_instances.get(cluster_name, {}).values():
        arn = instance.container_instance_arn
        found.append(
            Candidate(
                arn=arn,
                ec2_instance_id=instance.ec2_instance_id,
                attributes=dict(instance.attributes),
                cpu=int(_remaining(instance, "CPU")),
                memory=int(_remaining(instance, "MEMORY")),
                used_ports=frozenset(str(p) for p in _remaining(instance, "PORTS")),
                active=instance.status == "ACTIVE" and instance.agent_connected,
                task_groups=groups.get(arn, []),
                running_tasks=len(groups.get(arn, [])),
            )
        )
    return sorted(found, key=lambda c: c.arn)


def _container_instance(backend: Any, cluster_name: str, arn: str | None) -> Any:
    if not arn:
        return None
    return backend.container_instances.get(cluster_name, {}).get(arn.rsplit("/", 1)[-1])


def _host_ports(task_definition: Any, instance: Any) -> dict[int, int]:
    """containerPort -> host port; dynamic host ports come from the instance's ephemeral range."""
    mode = getattr(task_definition, "network_mode", None) or "bridge"
    ports: dict[int, int] = {}
    for container in task_definition.container_definitions:
        for mapping in container.get("portMappings") or []:
            container_port = int(mapping.get("containerPort") or 0)
            if mode in ("awsvpc", "host") or instance is None:
                ports[container_port] = int(mapping.get("hostPort") or container_port)
            elif mapping.get("hostPort"):
                ports[container_port] = int(mapping["hostPort"])
            else:
                following = int(getattr(instance, "stackyard_next_port", 32768))
                instance.stackyard_next_port = following + 1 if following < 60999 else 32768
                ports[container_port] = following
    return ports


def launch(
    backend: Any,
    service: Any,
    deployment_id: str,
    task_definition: Any,
    needs: Requirements,
    instance_arn: str | None,
    now: float,
    ready_in: float,
) -> Any:
    """Create a PENDING task of ``service`` on ``instance_arn`` (None on Fargate)."""
    from moto.ecs.models import Task

    cluster = backend.clusters[service.cluster_name]
    instance = _container_instance(backend, cluster.name, instance_arn)
    required = resources(needs) if instance is not None else None
    task: Any = Task(
        cluster,
        task_definition,
        instance_arn,
        required,
        backend=backend,
        group=f"service:{service.name}",
        launch_type=service.launch_type or "EC2",
        started_by=deployment_id,
        tags=list(service.tags or []) if service.propagate_tags == "SERVICE" else [],
        networking_configuration=service.network_configuration or None,
    )
    task._transitions = []
    task.last_status = "PENDING"
    task.created_at = timestamp(now)
    task.health_status = "UNKNOWN"
    task.availability_zone = instance.attributes.get("ecs.availability-zone") if instance else None
    task.stackyard_service = service.stackyard_state.token
    task.stackyard_deployment = deployment_id
    task.stackyard_ready_at = now + ready_in
    task.stackyard_check_at = None
    task.stackyard_stop_at = None
    task.stackyard_healthy = False
    task.stackyard_failed = False
    task.stackyard_images = [
        str(c.get("image") or "") for c in task_definition.container_definitions
    ]
    task.stackyard_host_ports = _host_ports(task_definition, instance)
    task.stackyard_targets = []
    for container in task.containers:
        container.last_status = "PENDING"
        container.health_status = "UNKNOWN"
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    if instance is not None and required is not None:
        backend.update_container_instance_resources(instance, required)
    return task


def stop(backend: Any, task: Any, reason: str, now: float, code: str, exit_code: int = 0) -> None:
    """Stop ``task``: release its instance's resources; its targets are the caller's."""
    if task.desired_status == "STOPPED":
        return
    instance = _container_instance(backend, task.cluster_name, task.container_instance_arn)
    if instance is not None and task.resource_requirements:
        used = instance.remaining_resources
        held = set(next((r.get("stringSetValue") for r in used if r.get("name") == "PORTS"), []))
        releasable = dict(task.resource_requirements)
        releasable["PORTS"] = [p for p in releasable.get("PORTS", []) if str(p) in held]
        backend.update_container_instance_resources(instance, releasable, removing=True)
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = reason
    task.stop_code = code
    task.stopping_at = timestamp(now)
    task.stopped_at = timestamp(now)
    task.execution_stopped_at = timestamp(now)
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = exit_code


def jitter(seconds: float, rng: random.Random | None = None) -> float:
    """A start time that varies a little between tasks, as on AWS."""
    if seconds <= 0:
        return 0.0
    return seconds * (rng or random).uniform(0.9, 1.1)
