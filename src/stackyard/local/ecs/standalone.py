"""RunTask on EC2 by ECS's placement rules.

moto's RunTask fills instances in order and ignores placement constraints and strategies; a
task that fits nowhere is silently missing from the answer. Here each task goes through
:func:`~stackyard.local.ecs.placement.place` with the task definition's and the request's
constraints and the request's strategies (none: the first instance that fits), and a task that
fits nowhere is reported in ``failures`` with ECS's reason (``RESOURCE:MEMORY``, ``MemberOf
placement constraint unsatisfied.``, ...). The tasks themselves are moto's, as before; they
run to an end with an exit code (:mod:`stackyard.local.ecs.one_off`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from stackyard.local.ecs import one_off
from stackyard.local.ecs import tasks as task_ops
from stackyard.local.ecs.placement import place, requirements_of

__all__ = ["run_task"]


def run_task(
    backend: Any,
    cluster_name: str,
    task_definition_name: str,
    count: int,
    *,
    constraints: Sequence[Mapping[str, Any]] = (),
    strategies: Sequence[Mapping[str, Any]] = (),
    group: str | None = None,
    started_by: str = "",
    overrides: dict[str, Any] | None = None,
    tags: list[dict[str, str]] | None = None,
    rng: random.Random | None = None,
) -> tuple[list[Any], list[dict[str, str]]]:
    """Place and start ``count`` tasks on the cluster's instances: (tasks, failures)."""
    from moto.ecs.models import Task

    cluster = backend._get_cluster(cluster_name)
    definition = backend.describe_task_definition(task_definition_name)
    group = group or f"family:{definition.family}"
    needs = requirements_of(definition)
    wanted = list(getattr(definition, "placement_constraints", None) or []) + list(constraints)
    required = task_ops.resources(needs)
    started: list[Any] = []
    failures: list[dict[str, str]] = []
    for _ in range(count):
        placement = place(
            task_ops.candidates(backend, cluster.name),
            needs,
            constraints=wanted,
            strategies=list(strategies),
            group=group,
            rng=rng,
        )
        if placement.chosen is None:
            arn = placement.closest.arn if placement.closest is not None else cluster.arn
            failures.append({"arn": arn, "reason": placement.code})
            continue
        instance_id = placement.chosen.arn.rsplit("/", 1)[-1]
        instance = backend.container_instances[cluster.name][instance_id]
        task = Task(
            cluster,
            definition,
            placement.chosen.arn,
            dict(required),
            backend=backend,
            group=group,
            overrides=overrides or {},
            started_by=started_by or "",
            tags=tags or [],
            launch_type="EC2",
        )
        backend.update_container_instance_resources(instance, dict(required))
        backend.update_cluster_resources(cluster, 1)
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        one_off.mark(task, definition, time.time())
        started.append(task)
    return started, failures
