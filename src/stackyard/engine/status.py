"""What the engine tells the user about each stack, and the listener it tells it to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from stackyard.aws.cloudformation import StackEvent

__all__ = ["Failure", "Listener", "NullListener", "Phase", "StackState"]


class Phase(StrEnum):
    """A stack's place in a run, in words a user understands."""

    PENDING = "pending"
    WAITING = "waiting"  # on other stacks; the detail names them
    CHECKING = "checking"  # rendering and comparing with the deployed stack
    SUBMITTED = "submitted"
    CREATING = "creating"
    UPDATING = "updating"
    DELETING = "deleting"
    ROLLING_BACK = "rolling back"
    BUSY = "waiting for CloudFormation"  # in_progress_behavior: wait
    COMPLETE = "complete"
    NO_CHANGE = "no change"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NOT_STARTED = "not started"  # interrupted before it was submitted
    LEFT_RUNNING = "left running"  # interrupted twice; CloudFormation carries on

    @property
    def terminal(self) -> bool:
        """True once the stack will not change again in this run."""
        return self in _TERMINAL

    @property
    def ok(self) -> bool:
        """True for outcomes that let dependents go ahead."""
        return self in (Phase.COMPLETE, Phase.NO_CHANGE, Phase.SKIPPED)


_TERMINAL = frozenset(
    {
        Phase.COMPLETE,
        Phase.NO_CHANGE,
        Phase.SKIPPED,
        Phase.FAILED,
        Phase.CANCELLED,
        Phase.NOT_STARTED,
        Phase.LEFT_RUNNING,
    }
)


@dataclass(frozen=True)
class Failure:
    """Why a stack failed: the first failing resource and its reason, when there is one."""

    reason: str
    resource: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.resource}: {self.reason}" if self.resource else self.reason


@dataclass(frozen=True)
class StackState:
    """One stack's state as the user sees it."""

    name: str
    fqn: str
    phase: Phase = Phase.PENDING
    detail: str = ""
    started: float | None = None
    finished: float | None = None
    latest_event: StackEvent | None = None
    failure: Failure | None = None
    region: str | None = None

    def moved(self, phase: Phase, detail: str = "", **changes: object) -> StackState:
        """A copy in ``phase``."""
        return replace(self, phase=phase, detail=detail, **changes)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        """``phase: detail`` as shown to the user."""
        if self.phase is Phase.FAILED and self.failure is not None:
            return f"failed: {self.failure}"
        return f"{self.phase}: {self.detail}" if self.detail else str(self.phase)

    def elapsed(self, now: float) -> float | None:
        """Seconds since the stack started (until it finished)."""
        if self.started is None:
            return None
        return (self.finished if self.finished is not None else now) - self.started


class Listener(Protocol):
    """Receives the engine's reports; the UI implements it (the engine never imports rich)."""

    def stack_changed(self, state: StackState) -> None:
        """A stack moved to another phase or saw a new event."""

    def note(self, message: str) -> None:
        """A line for the user about the run as a whole."""

    def stack_events(self, state: StackState, events: Sequence[StackEvent]) -> None:
        """New events of a stack in flight, oldest first (only in a run with ``tail``)."""


class NullListener:
    """Ignores everything (library use, tests)."""

    def stack_changed(self, state: StackState) -> None:
        """Ignore."""

    def note(self, message: str) -> None:
        """Ignore."""

    def stack_events(self, state: StackState, events: Sequence[StackEvent]) -> None:
        """Ignore."""
