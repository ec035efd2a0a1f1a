"""Did a stack keep the plan's word? The plan as reviewed against the stack rendered again
once the values it showed as "known after apply" are known.

A resolved value may change what the plan showed in detail (that is what "known after
apply" means), but not its shape: a resource replaced or removed where the plan showed an
in-place update or nothing, a resource changed that the plan did not list, or a change
that needs approval and was not in the reviewed plan all break the plan. The engine stops
such a stack and says what would now happen, instead of running something nobody saw.
"""

from __future__ import annotations

from stackyard.plan.model import ChangeAction, Replacement, ResourceChange, StackAction, StackPlan

__all__ = ["broken_promises"]


def _shown(change: ResourceChange | None) -> str:
    if change is None:
        return "no change"
    if change.action is ChangeAction.ADD:
        return "a creation"
    if change.action is ChangeAction.REMOVE:
        return "a removal"
    if change.replacement is Replacement.TRUE:
        return "a replacement"
    if change.replacement is Replacement.CONDITIONAL:
        return "an in-place update (may replace)"
    return "an in-place update"


def _now(change: ResourceChange) -> str:
    if change.action is ChangeAction.REMOVE:
        return "remove it"
    if change.action is ChangeAction.ADD:
        return "create it"
    if change.replacement is Replacement.TRUE:
        return "replace it"
    if change.replacement is Replacement.CONDITIONAL:
        return "possibly replace it"
    return "update it in place"


def _worse(planned: ResourceChange | None, resolved: ResourceChange) -> bool:
    """True when ``resolved`` destroys more than ``planned`` showed."""
    if planned is None:
        return True
    if resolved.action is ChangeAction.REMOVE:
        return planned.action is not ChangeAction.REMOVE
    if resolved.action is ChangeAction.ADD:
        return planned.action is not ChangeAction.ADD
    return (
        resolved.replacement.rank > planned.replacement.rank
        and planned.replacement is not Replacement.CONDITIONAL
    )


def broken_promises(planned: StackPlan, resolved: StackPlan) -> list[str]:
    """How ``resolved`` departs from ``planned`` (empty when it keeps its word)."""
    after = ", ".join(planned.unknowns) or "the values known after apply"
    approved = {i.id for i in planned.protection.items}
    if planned.action is StackAction.WAIT:
        # The plan could not decide while the stack was busy: what it does now is decided
        # afresh, but it may not need an approval the reviewed plan did not give.
        return [
            f"after the stack settled, {i.reason} needs approval, which the reviewed plan did "
            "not give"
            for i in resolved.protection.items
            if i.id not in approved
        ]
    out: list[str] = []
    if resolved.action is not planned.action and resolved.action not in (
        StackAction.NO_CHANGE,
        planned.action,
    ):
        out.append(f"planned {planned.action}; after resolving {after} it would {resolved.action}")
    shown = {r.logical_id: r for r in planned.resources}
    unapproved = {i.subject for i in resolved.protection.items if i.id not in approved}
    for change in resolved.resources:
        before = shown.get(change.logical_id)
        if _worse(before, change) or change.logical_id in unapproved:
            needs = ", which needs approval" if change.logical_id in unapproved else ""
            out.append(
                f"planned {_shown(before)} of {change.logical_id}; "
                f"after resolving {after} it would {_now(change)}{needs}"
            )
    for item in resolved.protection.items:
        if (
            item.id not in approved
            and item.subject not in shown
            and item.subject not in {r.logical_id for r in resolved.resources}
        ):
            out.append(f"{item.reason} now needs approval, which the reviewed plan did not ask for")
    return out
