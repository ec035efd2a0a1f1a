"""What replaces something: stacker's ``--replacements-only`` (``build -i``, ``diff``).

A resource is replaced when CloudFormation says ``Replacement: True`` for its change, and
may be when it says ``Conditional`` (stacker counted only ``True``; a change that may replace
a database is worth the question too). A failed stack recreated is replaced whole.
"""

from __future__ import annotations

from dataclasses import replace

from stackyard.plan.model import Plan, Replacement, ResourceChange, StackAction, StackPlan

__all__ = ["only_replacements", "replaced_resources", "replacements_view", "replaces"]


def replaced_resources(stack: StackPlan) -> tuple[ResourceChange, ...]:
    """The resources of ``stack`` that its change replaces, or may replace."""
    return tuple(
        r for r in stack.resources if r.replacement in (Replacement.TRUE, Replacement.CONDITIONAL)
    )


def replaces(stack: StackPlan) -> bool:
    """True when executing ``stack``'s plan replaces a resource (or may), or the whole stack."""
    if stack.action is StackAction.RECREATE:
        return True
    return stack.will_change and bool(replaced_resources(stack))


def replacements_view(stack: StackPlan) -> StackPlan:
    """``stack`` showing only what is replaced: its replaced resources and nothing else
    (a recreated stack is shown whole)."""
    if stack.action is StackAction.RECREATE:
        return stack
    return replace(
        stack,
        resources=replaced_resources(stack),
        parameters=(),
        tags=(),
        settings=(),
        outputs=(),
    )


def only_replacements(plan: Plan) -> Plan:
    """``plan`` with only the stacks that replace something, each showing only that."""
    return replace(plan, stacks=tuple(replacements_view(s) for s in plan.stacks if replaces(s)))
