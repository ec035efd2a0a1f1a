"""The approval gate: a stack whose plan touches a protected area runs only once approved.

``Approvals.decide`` is called from worker threads, once per stack that needs approval,
just before the stack is submitted. Answers come, in order of precedence, from:

1. a reviewed plan (``apply PLANFILE``): approved when every change needing approval was
   in the reviewed plan of that stack;
2. break-glass (``--approve-protected``): everything approved;
3. a person (``ask``, on a terminal): one question at a time, the progress view paused
   while it is asked, so prompts never interleave with other stacks' progress;
4. nobody (CI): the stack is held, and the run reports it for review.

The engine never branches on anything but the ``Decision``; asking is the UI's job.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum

from stackyard.plan.model import Plan, StackPlan

__all__ = ["Approvals", "Decision", "Outcome"]


class Decision(StrEnum):
    """What happened to a stack that needed approval."""

    APPROVED = "approved"
    DECLINED = "declined"  # a person said no
    HELD = "awaiting approval"  # nobody could be asked (no terminal)


@dataclass(frozen=True)
class Outcome:
    """One decision and the plan it was made on."""

    decision: Decision
    plan: StackPlan
    by: str  # "reviewed plan", "--approve-protected", "prompt", "no terminal"


def _nothing() -> AbstractContextManager[None]:
    return contextlib.nullcontext()


class Approvals:
    """Decides, thread-safely, whether stacks that need approval may run."""

    def __init__(
        self,
        *,
        ask: Callable[[StackPlan], Decision] | None = None,
        approve_all: bool = False,
        reviewed: Plan | None = None,
        pause: Callable[[], AbstractContextManager[None]] = _nothing,
    ) -> None:
        self.ask = ask
        self.approve_all = approve_all
        self.reviewed = reviewed
        self.pause = pause
        self.outcomes: dict[str, Outcome] = {}
        self._lock = threading.Lock()  # one question at a time

    def decide(self, plan: StackPlan) -> Decision:
        """Whether ``plan`` may run; stacks that need no approval are always approved."""
        if not plan.needs_approval:
            return Decision.APPROVED
        with self._lock:
            decision, by = self._decide(plan)
            self.outcomes[plan.name] = Outcome(decision, plan, by)
        return decision

    def _decide(self, plan: StackPlan) -> tuple[Decision, str]:
        if self.reviewed is not None and self._was_reviewed(plan):
            return Decision.APPROVED, "reviewed plan"
        if self.approve_all:
            return Decision.APPROVED, "--approve-protected"
        if self.ask is not None:
            with self.pause():
                return self.ask(plan), "prompt"
        return Decision.HELD, "no terminal"

    def _was_reviewed(self, plan: StackPlan) -> bool:
        assert self.reviewed is not None
        saved = self.reviewed.stack(plan.name)
        if saved is None or saved.fqn != plan.fqn:
            return False
        approved = {(i.subject, i.rule, i.reason) for i in saved.protection.items}
        return all((i.subject, i.rule, i.reason) in approved for i in plan.protection.items)

    @property
    def not_approved(self) -> dict[str, Outcome]:
        """Stacks that were held or declined, by name."""
        return {n: o for n, o in self.outcomes.items() if o.decision is not Decision.APPROVED}

    @property
    def approved(self) -> dict[str, Outcome]:
        """Stacks that needed approval and got it, by name."""
        return {n: o for n, o in self.outcomes.items() if o.decision is Decision.APPROVED}
