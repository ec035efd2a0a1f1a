"""One-off tasks (RunTask outside a service) run to an end: they stop with an exit code.

Nothing runs containers, so the exit code comes from what the task was asked to run: a
command (the override's, else the task definition's) whose last word is ``exit N`` (``sh -c
'exit 3'``) exits N; a task whose image fails its health checks (``unhealthy`` in its name,
or marked at run time) exits 1; any other exits 0. The task stops once it has had the
latency spec's task time and health-check time to run.
"""

from __future__ import annotations

import re
from typing import Any

from stackyard.local.ecs import tasks as task_ops
from stackyard.local.ecs.images import ImageHealth
from stackyard.local.ecs.task_lifecycle import Timing

__all__ = ["exit_code_of", "finish", "mark"]

_EXIT = re.compile(r"(?:^|[;&|]\s*|\s)exit\s+(\d{1,3})\s*$")


def _commands(task: Any) -> list[str]:
    overrides = getattr(task, "overrides", None) or {}
    for override in overrides.get("containerOverrides", []) or []:
        if override.get("command"):
            return [str(part) for part in override["command"]]
    return []


def exit_code_of(command: list[str], images: list[str], health: ImageHealth) -> int:
    """The exit code of a one-off task running ``command`` in ``images``."""
    if any(health.is_failing(image) for image in images):
        return 1
    match = _EXIT.search(" ".join(command).strip())
    return int(match.group(1)) % 256 if match else 0


def mark(task: Any, definition: Any, now: float) -> None:
    """Make ``task`` (just started by RunTask) a one-off that :func:`finish` ends."""
    task.stackyard_one_off_started = now
    task.stackyard_one_off_images = [
        str(c.get("image") or "") for c in definition.container_definitions
    ]
    task.stackyard_one_off_command = next(
        (list(c.get("command") or []) for c in definition.container_definitions), []
    )


def finish(backend: Any, now: float, timing: Timing, health: ImageHealth) -> None:
    """Stop every one-off task whose run time is over, with its exit code."""
    for tasks in list(backend.tasks.values()):
        for task in list(tasks.values()):
            started = getattr(task, "stackyard_one_off_started", None)
            if started is None or task.desired_status == "STOPPED":
                continue
            if now < started + timing.task_seconds + timing.health_seconds:
                continue
            command = _commands(task) or task.stackyard_one_off_command
            code = exit_code_of(command, task.stackyard_one_off_images, health)
            task_ops.stop(
                backend,
                task,
                "Essential container in task exited",
                now,
                "EssentialContainerExited",
                exit_code=code,
            )
