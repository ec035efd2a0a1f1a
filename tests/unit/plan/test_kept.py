"""A stack rendered again once its unknowns are known keeps the plan's word, or says how not."""

from __future__ import annotations

from dataclasses import replace

from stackyard.plan.kept import broken_promises
from stackyard.plan.model import (
    ChangeAction,
    Replacement,
    ResourceChange,
    StackAction,
    StackPlan,
)
from stackyard.plan.protection import assess


def _plan(*changes: ResourceChange, protected: bool = False) -> StackPlan:
    plan = StackPlan("s", "ns-s", StackAction.UPDATE, resources=changes, unknowns=("output up::X",))
    return replace(plan, protection=assess(plan, protected, project=None))


def _queue(action: ChangeAction, replacement: Replacement = Replacement.FALSE) -> ResourceChange:
    return ResourceChange("Queue", "AWS::SQS::Queue", action, replacement=replacement)


def test_details_resolving_within_what_was_shown_keep_the_plan() -> None:
    planned = _plan(_queue(ChangeAction.MODIFY, Replacement.CONDITIONAL))
    assert broken_promises(planned, _plan(_queue(ChangeAction.MODIFY))) == []
    assert broken_promises(planned, _plan(_queue(ChangeAction.REPLACE, Replacement.TRUE))) == []
    assert broken_promises(planned, replace(planned, action=StackAction.NO_CHANGE)) == []


def test_a_replacement_or_removal_the_plan_did_not_show_breaks_it() -> None:
    planned = _plan(_queue(ChangeAction.MODIFY))
    broken = broken_promises(planned, _plan(_queue(ChangeAction.REPLACE, Replacement.TRUE)))
    assert broken == [
        "planned an in-place update of Queue; after resolving output up::X it would replace it"
    ]
    assert broken_promises(planned, _plan(_queue(ChangeAction.REMOVE)))
    other = ResourceChange("Topic", "AWS::SNS::Topic", ChangeAction.MODIFY)
    assert "planned no change of Topic" in broken_promises(planned, _plan(other))[0]


def test_on_a_protected_stack_a_change_needing_new_approval_breaks_it() -> None:
    planned = _plan(_queue(ChangeAction.MODIFY, Replacement.CONDITIONAL), protected=True)
    resolved = _plan(_queue(ChangeAction.REPLACE, Replacement.TRUE), protected=True)
    (message,) = broken_promises(planned, resolved)
    assert message.startswith("planned an in-place update (may replace) of Queue")
    assert message.endswith("it would replace it, which needs approval")
