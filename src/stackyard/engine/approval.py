"""Approval policy: which stacks of a plan whose changes touch a protected area may run.

Every approval is settled up front, before anything is submitted, by :func:`settle`. For
each stack that needs approval, in order of precedence:

1. flags that approve one kind of item (``--disable-termination-protection`` approves
   deleting a terminate-protected stack): by rule id;
2. signed approvals (``apply PLANFILE`` with the reviewers' approvals file): approved
   when every item's id was approved by a signature that verified;
3. otherwise a reviewed plan (``apply PLANFILE`` without approvals): approved when every
   item's id was in the reviewed plan of that stack;
4. break-glass (``--approve-protected``): everything approved;
5. a person (``ask``, on a terminal): one review of every remaining stack, one answer;
6. nobody (CI): the stack is held, and the run reports it for review.

``build -i`` (stacker's interactive mode) gives ``ask_each`` instead: every stack that
would change is asked about on its own, in plan order, before anything runs (with
``replacements_only``, only those that replace a resource or recreate a failed stack, plus
those that need approval by the rules above). A stack whose dependency was declined is not
asked: it cannot run, and the engine cancels it.

Code matches item ids and rule ids only; labels and reasons are for the UI, which also
does the asking (``stackyard.ui.approval``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from enum import StrEnum

from stackyard.engine.replacements import replaces
from stackyard.plan.model import Plan, StackPlan

__all__ = ["ApprovalPolicy", "Approvals", "By", "Decision", "Outcome", "settle"]


class Decision(StrEnum):
    """What happened to a stack that needed approval."""

    APPROVED = "approved"
    DECLINED = "declined"  # a person said no
    HELD = "awaiting approval"  # nobody could be asked (no terminal)


class By(StrEnum):
    """Who or what settled an approval."""

    FLAG = "flag"
    REVIEWED_PLAN = "reviewed plan"
    SIGNED = "signed approval"
    BREAK_GLASS = "--approve-protected"
    PROMPT = "prompt"
    NOBODY = "no terminal"


@dataclass(frozen=True)
class Outcome:
    """One decision and the plan it was made on."""

    decision: Decision
    plan: StackPlan
    by: By


@dataclass(frozen=True)
class ApprovalPolicy:
    """Where approvals come from for one run."""

    ask: Callable[[Sequence[StackPlan]], bool] | None = None
    approve_all: bool = False
    reviewed: Plan | None = None
    approved_rules: frozenset[str] = frozenset()  # rule ids a flag approves
    # Item ids approved by verified signatures. When given, the reviewed plan alone
    # approves nothing: a plan file anyone can write is not a reviewer's word.
    signed_items: frozenset[str] | None = None
    # `build -i`: one question per stack that would change (see the module docstring).
    ask_each: Callable[[StackPlan], bool] | None = None
    replacements_only: bool = False  # with ask_each: ask only where something is replaced
    # Entered before ask_each's first question and left after its last (the UI stops
    # drawing progress while the questions are asked).
    asking: Callable[[], AbstractContextManager[object]] | None = None


@dataclass
class Approvals:
    """The settled approvals of a run: an outcome per stack that needed approval."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def allows(self, name: str) -> bool:
        """True when ``name`` may run (stacks that needed no approval always may)."""
        outcome = self.outcomes.get(name)
        return outcome is None or outcome.decision is Decision.APPROVED

    @property
    def not_approved(self) -> dict[str, Outcome]:
        """Stacks that were held or declined, by name."""
        return {n: o for n, o in self.outcomes.items() if o.decision is not Decision.APPROVED}

    @property
    def approved(self) -> dict[str, Outcome]:
        """Stacks that needed approval and got it, by name."""
        return {n: o for n, o in self.outcomes.items() if o.decision is Decision.APPROVED}


def _reviewed(plan: StackPlan, reviewed: Plan | None) -> bool:
    if reviewed is None:
        return False
    saved = reviewed.stack(plan.name)
    if saved is None or saved.fqn != plan.fqn:
        return False
    approved = {i.id for i in saved.protection.items}
    return all(i.id in approved for i in plan.protection.items)


def _without_asking(stack: StackPlan, policy: ApprovalPolicy) -> Outcome | None:
    """The outcome for a stack needing approval that needs no person; None: ask (or hold)."""
    if all(i.rule_id in policy.approved_rules for i in stack.protection.items):
        return Outcome(Decision.APPROVED, stack, By.FLAG)
    if policy.signed_items is not None:
        if all(i.id in policy.signed_items for i in stack.protection.items):
            return Outcome(Decision.APPROVED, stack, By.SIGNED)
    elif _reviewed(stack, policy.reviewed):
        return Outcome(Decision.APPROVED, stack, By.REVIEWED_PLAN)
    if policy.approve_all:
        return Outcome(Decision.APPROVED, stack, By.BREAK_GLASS)
    return None


def settle(
    plan: Plan,
    policy: ApprovalPolicy | None,
    waits_for: Mapping[str, frozenset[str]] | None = None,
) -> Approvals:
    """Decide, before anything runs, which stacks of ``plan`` that need approval may run.

    Without a policy (library use) everything is approved: the caller answers for it.
    ``waits_for`` (the run's graph) lets ``ask_each`` skip the stacks that need a declined one.
    """
    if policy is not None and policy.ask_each is not None:
        return _settle_each(plan, policy, policy.ask_each, waits_for or {})
    result = Approvals()
    waiting: list[StackPlan] = []
    for stack in plan.needing_approval:
        if policy is None:
            result.outcomes[stack.name] = Outcome(Decision.APPROVED, stack, By.BREAK_GLASS)
            continue
        outcome = _without_asking(stack, policy)
        if outcome is not None:
            result.outcomes[stack.name] = outcome
        else:
            waiting.append(stack)
    if not waiting:
        return result
    assert policy is not None
    if policy.ask is not None:
        decision = Decision.APPROVED if policy.ask(waiting) else Decision.DECLINED
        for stack in waiting:
            result.outcomes[stack.name] = Outcome(decision, stack, By.PROMPT)
    else:
        for stack in waiting:
            result.outcomes[stack.name] = Outcome(Decision.HELD, stack, By.NOBODY)
    return result


def _settle_each(
    plan: Plan,
    policy: ApprovalPolicy,
    ask: Callable[[StackPlan], bool],
    waits_for: Mapping[str, frozenset[str]],
) -> Approvals:
    """``build -i``: one question per stack that would change, in plan order."""
    result = Approvals()
    declined: set[str] = set()

    def needs_declined(name: str, seen: set[str]) -> bool:
        seen.add(name)
        return any(
            dep in declined or (dep not in seen and needs_declined(dep, seen))
            for dep in waits_for.get(name, ())
        )

    with ExitStack() as questions:
        for stack in plan.stacks:
            if not stack.will_change or needs_declined(stack.name, set()):
                continue  # a stack that needs a declined one cannot run: the engine cancels it
            if stack.needs_approval:
                outcome = _without_asking(stack, policy)
                if outcome is not None:
                    result.outcomes[stack.name] = outcome
                    continue
            elif policy.replacements_only and not replaces(stack):
                continue
            if policy.asking is not None:
                questions.enter_context(policy.asking())
                policy = replace(policy, asking=None)  # entered once, left after the last
            approved = ask(stack)
            decision = Decision.APPROVED if approved else Decision.DECLINED
            result.outcomes[stack.name] = Outcome(decision, stack, By.PROMPT)
            if not approved:
                declined.add(stack.name)
    return result
