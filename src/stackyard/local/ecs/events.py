"""Service events, newest first, as DescribeServices lists them (at most 100, as ECS keeps)."""

from __future__ import annotations

import uuid
from typing import Any

from stackyard.local.ecs.tasks import timestamp

__all__ = ["MAX_EVENTS", "REPEAT_SECONDS", "add", "add_throttled"]

MAX_EVENTS = 100
# ECS repeats a failure event (e.g. "unable to place a task") at most this often.
REPEAT_SECONDS = 30.0


def add(service: Any, message: str, now: float) -> None:
    """Add a service event."""
    events = list(getattr(service, "events", None) or [])
    events.insert(0, {"id": str(uuid.uuid4()), "createdAt": timestamp(now), "message": message})
    service.events = events[:MAX_EVENTS]


def add_throttled(service: Any, state: Any, message: str, now: float) -> None:
    """Add a failure event unless one was added in the last ``REPEAT_SECONDS``."""
    if state is not None and now - state.placement_event_at >= REPEAT_SECONDS:
        state.placement_event_at = now
        add(service, message, now)
