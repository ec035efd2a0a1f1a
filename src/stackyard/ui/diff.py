"""Rendering of a plan for people: ``stackyard diff`` and the review before approval.

Everything goes through the one injected ``rich.Console``; without a terminal rich prints
plain text. The plan is already masked; values are masked again here on the way out, so
a ``Secret`` can never be printed. ``--json`` is ``plan.to_json()``, not this module.

Per stack: a summary line; a red banner for replacements and removals; parameter, tag and
setting changes; a resource table with symbols (``+`` add, ``~`` modify, ``-`` remove,
``±`` replace); property-level diffs (path, before → after); a security table of IAM
statements, managed policies and ingress rules; output changes; what needs approval.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from stackyard.lookups.secret import MASK, mask_secrets
from stackyard.plan.model import (
    ChangeAction,
    Plan,
    PropertyDiff,
    Replacement,
    ResourceChange,
    RiskKind,
    SecurityChange,
    StackAction,
    StackPlan,
)
from stackyard.ui.terminal import heading

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "SYMBOLS",
    "format_value",
    "render_approval",
    "render_changes",
    "render_plan",
    "render_stack",
    "summary_line",
]

SYMBOLS: dict[ChangeAction, str] = {
    ChangeAction.ADD: "+",
    ChangeAction.MODIFY: "~",
    ChangeAction.REMOVE: "-",
    ChangeAction.REPLACE: "±",
}
_STYLES: dict[ChangeAction, str] = {
    ChangeAction.ADD: "green",
    ChangeAction.MODIFY: "yellow",
    ChangeAction.REMOVE: "bold red",
    ChangeAction.REPLACE: "bold red",
}
_STACK_SYMBOLS: dict[StackAction, tuple[str, str]] = {
    StackAction.CREATE: ("+", "green"),
    StackAction.UPDATE: ("~", "yellow"),
    StackAction.DELETE: ("-", "bold red"),
    StackAction.RECREATE: ("±", "bold red"),
    StackAction.NO_CHANGE: ("=", "dim"),
    StackAction.SKIP_LOCKED: ("#", "magenta"),
    StackAction.WAIT: (".", "cyan"),
    StackAction.BLOCKED: ("!", "bold red"),
}
_MAX_VALUE = 200


def format_value(value: Any, *, limit: int = _MAX_VALUE) -> str:
    """A value on one line: strings as JSON strings, data as compact JSON, secrets masked."""
    value = mask_secrets(value)
    if value is None:
        return "(absent)"
    if value == MASK or value == "(known after apply)":
        return str(value)
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def summary_line(stack: StackPlan) -> Text:
    """``~ app (dev-app): update — 2 to modify, 1 to replace [2 need approval]``."""
    symbol, style = _STACK_SYMBOLS[stack.action]
    line = Text()
    line.append(f"{symbol} ", style=style)
    line.append(stack.name, style="bold")
    if stack.fqn and stack.fqn != stack.name:
        line.append(f" ({stack.fqn})", style="dim")
    line.append(f": {stack.action}", style=style)
    counts = Counter(r.action for r in stack.resources)
    if counts:
        parts = [f"{SYMBOLS[a]}{counts[a]}" for a in SYMBOLS if counts[a]]
        line.append("  " + " ".join(parts))
    if stack.reason and stack.action is not StackAction.NO_CHANGE:
        line.append(f" — {stack.reason}", style="dim")
    destructive = sum(1 for r in stack.resources if r.destructive)
    if destructive:
        line.append(f"  [{destructive} destructive]", style="bold red")
    if stack.locked_delta is not None:
        delta = stack.locked_delta
        risks = ", ".join(f"{n} {k}" for k, n in delta.by_risk)
        since = f" since {delta.since}" if delta.since else ""
        detail = f"; {risks}" if risks else ""
        line.append(f"  [locked: {delta.changes} pending{detail}{since}]", style="magenta")
    if stack.needs_approval:
        line.append(f"  [{len(stack.protection.items)} need approval]", style="bold magenta")
    return line


def _banner(stack: StackPlan) -> RenderableType | None:
    destructive = [r for r in stack.resources if r.destructive]
    if not destructive and stack.action not in (StackAction.DELETE, StackAction.RECREATE):
        return None
    lines: list[Text] = []
    if stack.action is StackAction.DELETE:
        lines.append(Text(f"the whole stack {stack.fqn} is deleted", style="bold red"))
    if stack.action is StackAction.RECREATE:
        lines.append(Text(f"the failed stack {stack.fqn} is deleted and created again"))
    for change in destructive:
        text = Text(f"{SYMBOLS[change.action]} {change.logical_id} ", style="bold red")
        text.append(f"({change.resource_type}) ", style="red")
        text.append("; ".join(r.reason for r in change.risks if r.kind is RiskKind.DESTRUCTIVE))
        if change.replaced_by:
            text.append(" — forced by " + ", ".join(change.replaced_by), style="red")
        if change.stateful:
            text.append("  DATA", style="bold white on red")
        lines.append(text)
    # Panels and tables only for a plan's details: a build's summary needs neither.
    from rich import box
    from rich.panel import Panel

    return Panel(
        Group(*lines),
        title="DESTRUCTIVE CHANGES",
        title_align="left",
        border_style="bold red",
        box=box.HEAVY,
        expand=False,
    )


def _risk_text(change: ResourceChange) -> Text:
    kinds = change.risk_kinds
    text = Text()
    if RiskKind.DESTRUCTIVE in kinds:
        text.append("destructive", style="bold red")
    if RiskKind.SECURITY in kinds:
        text.append(" security" if text else "security", style="bold magenta")
    if not text:
        text.append("routine", style="dim")
    return text


def _resource_table(stack: StackPlan, protected: set[str]) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    for column in ("", "Logical ID", "Type", "Action", "Replacement", "Risk", ""):
        table.add_column(column)
    for change in stack.resources:
        style = _STYLES[change.action]
        repl = Text(
            str(change.replacement) if change.action is not ChangeAction.ADD else "",
            style="bold red" if change.replacement is not Replacement.FALSE else "dim",
        )
        table.add_row(
            Text(SYMBOLS[change.action], style=style),
            Text(change.logical_id, style=style),
            change.resource_type,
            Text(str(change.action), style=style),
            repl,
            _risk_text(change),
            Text("PROTECTED", style="bold magenta") if change.logical_id in protected else "",
        )
    return table


def _diff_line(diff: PropertyDiff) -> Text:
    style = _STYLES[diff.action]
    text = Text(f"    {SYMBOLS[diff.action]} {diff.path}: ", style=style)
    if diff.action is ChangeAction.ADD:
        text.append(format_value(diff.after))
    elif diff.action is ChangeAction.REMOVE:
        text.append(format_value(diff.before))
    else:
        text.append(format_value(diff.before))
        text.append(" → ")
        text.append(format_value(diff.after))
    notes: list[str] = []
    if diff.replacement is Replacement.TRUE:
        notes.append("forces replacement")
    elif diff.replacement is Replacement.CONDITIONAL:
        notes.append("may force replacement")
    if diff.cause:
        notes.append(diff.cause)
    if diff.known_after_apply and not diff.cause:
        notes.append("known after apply")
    if notes:
        repl = diff.replacement is not Replacement.FALSE
        text.append(f"  ({'; '.join(notes)})", style="bold red" if repl else "dim")
    return text


def _property_diffs(stack: StackPlan) -> list[RenderableType]:
    out: list[RenderableType] = []
    for change in stack.resources:
        if not change.diffs:
            continue
        head = Text(f"  {SYMBOLS[change.action]} {change.logical_id}", style=_STYLES[change.action])
        head.append(f" ({change.resource_type})", style="dim")
        out.append(head)
        out.extend(_diff_line(d) for d in change.diffs)
    return out


def _cell(items: Iterable[str]) -> str:
    return "\n".join(items)


def _security_tables(stack: StackPlan) -> list[RenderableType]:
    from rich import box
    from rich.table import Table

    rows = [row for change in stack.resources for row in change.security]
    out: list[RenderableType] = []
    statements = [r for r in rows if r.kind in ("statement", "managed-policy")]
    ingress = [r for r in rows if r.kind == "ingress"]
    if statements:
        table = Table(title="IAM statement changes", box=box.SQUARE, title_justify="left")
        for column in ("", "Resource", "Effect", "Action", "Principal", "On", "Condition", "Why"):
            table.add_column(column)
        for row in statements:
            table.add_row(*_security_cells(row), Text(row.reason, style=_sign_style(row)))
        out.append(table)
    if ingress:
        table = Table(title="Security group changes", box=box.SQUARE, title_justify="left")
        for column in ("", "Group", "Dir", "Protocol", "Peer", "Why"):
            table.add_column(column)
        for row in ingress:
            style = _sign_style(row)
            table.add_row(
                Text(row.sign, style=style),
                row.logical_id,
                "In",
                _cell(row.actions),
                Text(_cell(row.principals), style=style if row.broadening else ""),
                Text(row.reason, style=style),
            )
        out.append(table)
    return out


def _sign_style(row: SecurityChange) -> str:
    if row.broadening:
        return "bold red"
    return "green" if row.sign == "+" else "dim"


def _security_cells(row: SecurityChange) -> tuple[Text | str, ...]:
    style = _sign_style(row)
    if row.kind == "managed-policy":
        return (
            Text(row.sign, style=style),
            row.logical_id,
            "Allow",
            Text("(managed policy)", style=style),
            "",
            _cell(row.resources),
            "",
        )
    return (
        Text(row.sign, style=style),
        row.logical_id,
        row.effect,
        Text(_cell(row.actions), style=style if row.broadening else ""),
        _cell(row.principals),
        _cell(row.resources),
        row.condition or "",
    )


def _stack_level(stack: StackPlan) -> list[RenderableType]:
    out: list[RenderableType] = []
    for param in stack.parameters:
        line = Text(f"  {SYMBOLS[param.action]} parameter {param.key}: ", style="yellow")
        line.append(arrow(param.action, param.before, param.after, raw=True))
        if param.masked:
            line.append("  (secret)", style="dim")
        out.append(line)
    for tag in stack.tags:
        line = Text(f"  {SYMBOLS[tag.action]} tag {tag.key}: ", style="yellow")
        line.append(arrow(tag.action, tag.before, tag.after, raw=True))
        out.append(line)
    for setting in stack.settings:
        line = Text(f"  ~ {setting.name}: ", style="yellow")
        line.append(f"{format_value(setting.before)} → {format_value(setting.after)}")
        out.append(line)
    return out


def arrow(action: ChangeAction, before: Any, after: Any, *, raw: bool = False) -> str:
    """``before → after``, or only the side that exists for an addition or a removal;
    ``raw`` shows plain strings unquoted (parameters and tags)."""

    def show(value: Any) -> str:
        if raw and isinstance(value, str):
            return str(mask_secrets(value))
        return format_value(value)

    if action is ChangeAction.ADD:
        return show(after)
    if action is ChangeAction.REMOVE:
        return show(before)
    return f"{show(before)} → {show(after)}"


def _outputs(stack: StackPlan) -> list[RenderableType]:
    out: list[RenderableType] = []
    for output in stack.outputs:
        line = Text(f"  {SYMBOLS[output.action]} output {output.key}: ", style="cyan")
        line.append(arrow(output.action, output.before, output.after))
        if output.cause:
            line.append(f"  ({output.cause})", style="dim")
        out.append(line)
    return out


def _approval_lines(stack: StackPlan) -> list[RenderableType]:
    if not stack.protection.needs_approval:
        return []
    out: list[RenderableType] = [
        Text(f"  needs approval ({len(stack.protection.items)}):", style="bold magenta")
    ]
    for item in stack.protection.items:
        line = Text(f"    ! {item.subject}: ", style="bold magenta")
        line.append(item.reason)
        line.append(f"  [{item.rule}]", style="dim")
        out.append(line)
    return out


def render_stack(
    stack: StackPlan, console: Console, *, details: bool = True, summary: bool = True
) -> None:
    """One stack: summary line (or, without ``summary``, a heading), then (with
    ``details``) everything that changes."""
    if summary:
        console.print(summary_line(stack))
    else:
        title = stack.name if stack.fqn in ("", stack.name) else f"{stack.name} ({stack.fqn})"
        heading(console, Text(title, style="bold"))
    if stack.hint:
        console.print(Text(f"  hint: {stack.hint}", style="dim"))
    if not details or not stack.has_changes:
        return
    banner = _banner(stack)
    if banner is not None:
        console.print(banner)
    for renderable in _stack_level(stack):
        console.print(renderable)
    if stack.resources:
        protected = {i.subject for i in stack.protection.items}
        console.print(_resource_table(stack, protected))
    for renderable in _property_diffs(stack):
        console.print(renderable)
    for renderable in _security_tables(stack):
        console.print(renderable)
    for renderable in _outputs(stack):
        console.print(renderable)
    for renderable in _approval_lines(stack):
        console.print(renderable)
    for warning in stack.protection.warnings:
        console.print(Text(f"  warning: {warning}", style="yellow"))
    for d in stack.disagreements:
        console.print(
            Text(
                f"  note: {d.logical_id} {d.field}: planned {d.planned}, "
                f"change set says {d.change_set}",
                style="yellow",
            )
        )


def render_changes(stack: StackPlan, console: Console) -> None:
    """One stack's changes in short (``build -i``'s question): the summary line, the banner
    for replacements and removals, parameter/tag/setting changes and the resource table;
    property diffs, security and outputs are left to the full diff."""
    console.print(summary_line(stack))
    banner = _banner(stack)
    if banner is not None:
        console.print(banner)
    for renderable in _stack_level(stack):
        console.print(renderable)
    if stack.resources:
        protected = {i.subject for i in stack.protection.items}
        console.print(_resource_table(stack, protected))
    for renderable in _approval_lines(stack):
        console.print(renderable)


def render_approval(stack: StackPlan, console: Console) -> None:
    """Exactly what needs approval in ``stack``: for the prompt before it runs."""
    console.print(summary_line(stack))
    banner = _banner(stack)
    if banner is not None:
        console.print(banner)
    subjects = {i.subject for i in stack.protection.items}
    for renderable in _approval_lines(stack):
        console.print(renderable)
    for change in stack.resources:
        if change.logical_id in subjects:
            for diff in change.diffs:
                console.print(_diff_line(diff))


def render_plan(plan: Plan, console: Console, *, details: bool = True) -> None:
    """Every stack of ``plan``: summaries first, then the details of those that change."""
    for stack in plan.stacks:
        console.print(summary_line(stack))
        if stack.hint and not stack.has_changes:
            # What a "no change" cannot see (a NoEcho value stacker deployed, say) is said
            # here: such a stack has no details section below.
            console.print(Text(f"  hint: {stack.hint}", style="dim"))
    changing = [s for s in plan.stacks if s.has_changes]
    if details:
        for stack in changing:
            console.print()
            render_stack(stack, console, details=True, summary=False)
    console.print()
    counts = Counter(s.action for s in plan.stacks)
    parts = [f"{n} {a}" for a, n in sorted(counts.items(), key=lambda kv: str(kv[0]))]
    approvals = sum(1 for s in plan.stacks if s.needs_approval)
    total = Text("Plan: " + (", ".join(parts) if parts else "no stacks"), style="bold")
    if approvals:
        total.append(f"; {approvals} stack(s) need approval", style="bold magenta")
    console.print(total)
