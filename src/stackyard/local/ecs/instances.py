"""EC2 instances as ECS container instances: joining the cluster their user data names (as the
ECS agent would), sized by their instance type, and leaving it when they terminate."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

__all__ = ["instance_resources", "join_clusters", "leave_clusters"]

# The agent's config file is written by the user data, as a heredoc or with echo.
_CLUSTER = re.compile(r"(?:^|[\s\"';])ECS_CLUSTER=[\"']?([\w-]+)")
_ATTRIBUTES = re.compile(r"ECS_INSTANCE_ATTRIBUTES=[\"']?(\{.*?\})")


def _user_data_text(user_data: Any) -> str:
    if isinstance(user_data, list | tuple):
        user_data = user_data[0] if user_data else ""
    if isinstance(user_data, bytes):
        user_data = user_data.decode("utf-8", "replace")
    text = str(user_data or "")
    if "ECS_CLUSTER" in text:
        return text
    try:
        return base64.b64decode(text, validate=False).decode("utf-8", "replace")
    except ValueError:
        return text


def join_clusters(account_id: str, region: str, instances: list[Any]) -> None:
    """Register each instance whose user data names an existing cluster, with its attributes."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account_id][region]
    for instance in instances:
        text = _user_data_text(getattr(instance, "user_data", None))
        found = _CLUSTER.search(text)
        if found is None or found.group(1) not in backend.clusters:
            continue
        container_instance = backend.register_container_instance(found.group(1), instance.id)
        attributes = _ATTRIBUTES.search(text)
        if attributes is not None:
            try:
                extra = json.loads(attributes.group(1))
            except ValueError:
                extra = {}
            container_instance.attributes.update({str(k): str(v) for k, v in extra.items()})


def instance_resources(instance_type: str) -> tuple[int, int] | None:
    """(CPU units, MiB of memory) ECS registers for an instance type."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    info = INSTANCE_TYPES.get(instance_type)
    if not info:
        return None
    cpus = int((info.get("VCpuInfo") or {}).get("DefaultVCpus") or 0)
    memory = int((info.get("MemoryInfo") or {}).get("SizeInMiB") or 0)
    if not cpus or not memory:
        return None
    # The agent keeps some memory for the OS and itself; registered memory is below the total.
    return cpus * 1024, int(memory * 0.94)


def leave_clusters(account_id: str, region: str, instance_ids: set[str]) -> None:
    """Container instances of terminated EC2 instances go INACTIVE: services replace their
    tasks."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account_id][region]
    for instances in backend.container_instances.values():
        for container_instance in instances.values():
            if container_instance.ec2_instance_id in instance_ids:
                container_instance.status = "INACTIVE"
                container_instance.agent_connected = False
