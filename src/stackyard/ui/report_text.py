"""Plain-text pieces that both plan reports (HTML and Markdown) show the same way.

Every value passes through :func:`stackyard.ui.diff.format_value`, which masks secrets
again on the way out (plans are masked already), so a report never shows more than the
terminal diff does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from stackyard.plan.model import (
    Plan,
    PropertyDiff,
    Replacement,
    ResourceChange,
    RiskKind,
    SecurityChange,
    StackAction,
    StackPlan,
)
from stackyard.ui.diff import SYMBOLS, arrow

__all__ = [
    "SecurityRow",
    "arrow",
    "change_counts",
    "diff_notes",
    "plan_title",
    "plan_totals",
    "risk_words",
    "security_rows",
    "stack_line",
    "stack_symbol",
]


def diff_notes(diff: PropertyDiff) -> str:
    """Why a property diff matters: whether it replaces, and what caused it."""
    notes: list[str] = []
    if diff.replacement is Replacement.TRUE:
        notes.append("forces replacement")
    elif diff.replacement is Replacement.CONDITIONAL:
        notes.append("may force replacement")
    if diff.cause:
        notes.append(diff.cause)
    if diff.known_after_apply and not diff.cause:
        notes.append("known after apply")
    return "; ".join(notes)


def change_counts(stack: StackPlan) -> str:
    """``+1 ~4 -1 ±1``: resource changes by action, or ``""``."""
    counts = Counter(r.action for r in stack.resources)
    return " ".join(f"{SYMBOLS[a]}{counts[a]}" for a in SYMBOLS if counts[a])


def risk_words(change: ResourceChange) -> str:
    """``destructive``, ``security``, both, or ``routine``."""
    kinds = [k for k in (RiskKind.DESTRUCTIVE, RiskKind.SECURITY) if k in change.risk_kinds]
    return " ".join(str(k) for k in kinds) or str(RiskKind.ROUTINE)


_STACK_SYMBOLS = {
    StackAction.CREATE: "+",
    StackAction.UPDATE: "~",
    StackAction.DELETE: "-",
    StackAction.RECREATE: "±",
    StackAction.NO_CHANGE: "=",
    StackAction.SKIP_LOCKED: "#",
    StackAction.WAIT: ".",
    StackAction.BLOCKED: "!",
}


def stack_symbol(stack: StackPlan) -> str:
    """The one-character mark of a stack's action (as in ``stackyard diff``)."""
    return _STACK_SYMBOLS[stack.action]


def stack_line(stack: StackPlan) -> str:
    """``name (fqn): action — reason``."""
    head = stack.name if stack.fqn in ("", stack.name) else f"{stack.name} ({stack.fqn})"
    reason = f" — {stack.reason}" if stack.reason else ""
    return f"{head}: {stack.action}{reason}"


def plan_totals(plan: Plan) -> str:
    """``Plan: 1 create, 2 update; 1 stack(s) need approval``."""
    counts = Counter(s.action for s in plan.stacks)
    parts = [f"{n} {a}" for a, n in sorted(counts.items(), key=lambda kv: str(kv[0]))]
    text = "Plan: " + (", ".join(parts) if parts else "no stacks")
    approvals = len(plan.needing_approval)
    if approvals:
        text += f"; {approvals} stack(s) need approval"
    return text


def plan_title(plan: Plan) -> str:
    """What the plan was made from, in one line."""
    inputs = plan.inputs
    if inputs is None:
        return f"made {plan.created_at}"
    files = " ".join(filter(None, (inputs.environment_file, inputs.config)))
    extra = [inputs.overrides_text()]
    if inputs.destroy:
        extra.append("--destroy")
    if inputs.prune:
        extra.append("--prune")
    if inputs.stacks:
        extra.append(" ".join(f"--stacks {s}" for s in inputs.stacks))
    shown = " ".join(filter(None, [files, *extra]))
    return f"made {plan.created_at} from {shown}"


@dataclass(frozen=True)
class SecurityRow:
    """One row of the IAM and security changes table, as text."""

    stack: str
    sign: str
    resource: str
    kind: str  # IAM statement, managed policy, ingress
    effect: str
    actions: str
    principals: str
    on: str
    condition: str
    why: str
    broadening: bool


def _row(stack: StackPlan, change: SecurityChange) -> SecurityRow:
    kind = {"statement": "IAM statement", "managed-policy": "managed policy"}.get(
        change.kind, change.kind
    )
    return SecurityRow(
        stack=stack.name,
        sign=change.sign,
        resource=change.logical_id,
        kind=kind,
        effect=change.effect,
        actions=", ".join(change.actions),
        principals=", ".join(change.principals),
        on=", ".join(change.resources),
        condition=change.condition or "",
        why=change.reason,
        broadening=change.broadening,
    )


def security_rows(plan: Plan) -> list[SecurityRow]:
    """Every IAM and security group change of the plan, stack by stack."""
    return [
        _row(stack, change)
        for stack in plan.stacks
        for resource in stack.resources
        for change in resource.security
    ]
