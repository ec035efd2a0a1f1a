"""Approval policy: flags by rule id, reviewed plans by item id, break-glass, one question."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stackyard.engine.approval import ApprovalPolicy, By, Decision, settle
from stackyard.plan.model import (
    ChangeAction,
    Plan,
    Replacement,
    ResourceChange,
    StackAction,
    StackPlan,
)
from stackyard.plan.protection import RULE_TERMINATION_PROTECTION, assess

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stack(name: str, replacement: Replacement, protected: Any = True) -> StackPlan:
    action = ChangeAction.REPLACE if replacement is Replacement.TRUE else ChangeAction.MODIFY
    plan = StackPlan(
        name,
        f"ns-{name}",
        StackAction.UPDATE,
        resources=(
            ResourceChange(
                "Queue",
                "AWS::SQS::Queue",
                action,
                replacement=replacement,
                replaced_by=("Properties.QueueName",) if replacement is Replacement.TRUE else (),
            ),
        ),
    )
    from dataclasses import replace

    return replace(plan, protection=assess(plan, protected, project=None))


def _deletion(name: str) -> StackPlan:
    from dataclasses import replace

    plan = StackPlan(name, f"ns-{name}", StackAction.DELETE)
    return replace(plan, protection=assess(plan, False, termination_protection=True))


def test_ids_are_stable_and_name_the_change() -> None:
    one = _stack("a", Replacement.TRUE).protection.items[0]
    again = _stack("a", Replacement.TRUE).protection.items[0]
    other = _stack("a", Replacement.FALSE).protection.items[0]
    assert one.id == again.id and one.id != other.id
    assert "Properties.QueueName" in one.id and one.rule_id == "protected"


def test_a_reviewed_plan_approves_exactly_the_ids_it_showed() -> None:
    reviewed = Plan.create([_stack("a", Replacement.FALSE)], now=NOW)
    same = Plan.create([_stack("a", Replacement.FALSE)], now=NOW)
    worse = Plan.create([_stack("a", Replacement.TRUE)], now=NOW)
    ok = settle(same, ApprovalPolicy(reviewed=reviewed))
    assert (
        ok.outcomes["a"].decision is Decision.APPROVED and ok.outcomes["a"].by is By.REVIEWED_PLAN
    )
    held = settle(worse, ApprovalPolicy(reviewed=reviewed))
    assert held.outcomes["a"].decision is Decision.HELD


def test_one_question_for_every_stack_left_and_flags_by_rule_id() -> None:
    plan = Plan.create([_stack("a", Replacement.TRUE), _stack("b", Replacement.TRUE)], now=NOW)
    asked: list[list[str]] = []

    def ask(stacks: Any) -> bool:
        asked.append([s.name for s in stacks])
        return False

    declined = settle(plan, ApprovalPolicy(ask=ask))
    assert asked == [["a", "b"]]
    assert {o.decision for o in declined.outcomes.values()} == {Decision.DECLINED}
    deletion = Plan.create([_deletion("c")], now=NOW)
    assert settle(deletion, ApprovalPolicy()).outcomes["c"].decision is Decision.HELD
    flagged = settle(
        deletion, ApprovalPolicy(approved_rules=frozenset({RULE_TERMINATION_PROTECTION}))
    )
    assert flagged.outcomes["c"].by is By.FLAG and flagged.allows("c")
    glass = settle(plan, ApprovalPolicy(approve_all=True, ask=ask))
    assert all(o.by is By.BREAK_GLASS for o in glass.outcomes.values()) and len(asked) == 1
