"""A plan as GitHub-flavoured Markdown, for a pull-request comment.

A summary table, what needs approval, the IAM and security changes, then one collapsible
``<details>`` section per changing stack. GitHub refuses comments over 65,536 characters,
so sections are added while they fit; what is left out is named in a truncation note at
the end (the HTML report and ``stackyard diff`` have everything). Every piece of text from
the plan is HTML-escaped, so a value can neither break the layout nor inject markup.
"""

from __future__ import annotations

import html

from stackyard.plan.model import ChangeAction, Plan, StackPlan
from stackyard.ui.diff import SYMBOLS
from stackyard.ui.report_text import (
    arrow,
    change_counts,
    diff_notes,
    plan_title,
    plan_totals,
    risk_words,
    security_rows,
    stack_line,
    stack_symbol,
)

__all__ = ["GITHUB_COMMENT_LIMIT", "render_markdown"]

GITHUB_COMMENT_LIMIT = 65_536
# Room kept for the truncation note, which names what was left out.
_NOTE_ROOM = 2_000


def _e(text: object) -> str:
    """Escaped for Markdown and HTML alike; pipes too, so table cells stay cells."""
    return html.escape(str(text), quote=False).replace("|", "&#124;").replace("\n", " ")


def _code(text: object) -> str:
    return f"<code>{_e(text)}</code>" if str(text) else ""


def _summary(plan: Plan) -> list[str]:
    lines = [
        "| | stack | action | resources | needs approval |",
        "|---|---|---|---|---:|",
    ]
    for stack in plan.stacks:
        symbol = _e(stack_symbol(stack))
        approvals = len(stack.protection.items) if stack.needs_approval else 0
        lines.append(
            f"| {symbol} | {_e(stack.name)} | {_e(stack.action)} | {_e(change_counts(stack))} "
            f"| {approvals or ''} |"
        )
    return lines


def _approvals(plan: Plan) -> list[str]:
    stacks = plan.needing_approval
    if not stacks:
        return []
    lines = [
        "",
        "### Needs approval",
        "",
        "| stack | change | rule | item id |",
        "|---|---|---|---|",
    ]
    for stack in stacks:
        for item in stack.protection.items:
            lines.append(
                f"| {_e(stack.name)} | {_e(item.subject)}: {_e(item.reason)} | {_e(item.rule)} "
                f"| {_code(item.id)} |"
            )
    return lines


def _security(plan: Plan) -> list[str]:
    rows = security_rows(plan)
    if not rows:
        return []
    lines = [
        "",
        "### IAM and security changes",
        "",
        "| | stack | resource | kind | effect | actions | principals | on | why |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        why = f"**{_e(r.why)}**" if r.broadening and r.why else _e(r.why)
        lines.append(
            f"| {_e(r.sign)} | {_e(r.stack)} | {_e(r.resource)} | {_e(r.kind)} | {_e(r.effect)} "
            f"| {_e(r.actions)} | {_e(r.principals)} | {_e(r.on)} | {why} |"
        )
    return lines


def _stack_section(stack: StackPlan) -> str:
    lines = [f"<details><summary><b>{_e(stack_line(stack))}</b></summary>", ""]
    if stack.hint:
        lines += [f"hint: {_e(stack.hint)}", ""]
    if stack.locked_delta is not None:
        delta = stack.locked_delta
        since = f" since {_e(delta.since)}" if delta.since else ""
        risks = ", ".join(f"{n} {_e(k)}" for k, n in delta.by_risk)
        lines += [f"Locked: {delta.changes} change(s) pending{since} ({risks})", ""]
    for param in stack.parameters:
        secret = " (secret)" if param.masked else ""
        shown = arrow(param.action, param.before, param.after, raw=True)
        lines.append(f"- {SYMBOLS[param.action]} parameter `{_e(param.key)}`: {_e(shown)}{secret}")
    for tag in stack.tags:
        shown = arrow(tag.action, tag.before, tag.after, raw=True)
        lines.append(f"- {SYMBOLS[tag.action]} tag `{_e(tag.key)}`: {_e(shown)}")
    for setting in stack.settings:
        shown = arrow(ChangeAction.MODIFY, setting.before, setting.after)
        lines.append(f"- ~ {_e(setting.name)}: {_e(shown)}")
    if stack.parameters or stack.tags or stack.settings:
        lines.append("")
    if stack.resources:
        lines += [
            "| | resource | type | action | replacement | risk |",
            "|---|---|---|---|---|---|",
        ]
        protected = {i.subject for i in stack.protection.items}
        for r in stack.resources:
            replacement = "" if r.action is ChangeAction.ADD else str(r.replacement)
            if r.replaced_by:
                replacement += " (forced by " + ", ".join(r.replaced_by) + ")"
            mark = " **PROTECTED**" if r.logical_id in protected else ""
            lines.append(
                f"| {SYMBOLS[r.action]} | {_e(r.logical_id)} | {_e(r.resource_type)} "
                f"| {_e(r.action)} | {_e(replacement)} | {_e(risk_words(r))}{mark} |"
            )
        lines.append("")
    for r in stack.resources:
        if not r.diffs:
            continue
        lines += [f"**{SYMBOLS[r.action]} {_e(r.logical_id)}** ({_e(r.resource_type)})", ""]
        for d in r.diffs:
            notes = diff_notes(d)
            tail = f" _({_e(notes)})_" if notes else ""
            shown = _code(arrow(d.action, d.before, d.after))
            lines.append(f"- {SYMBOLS[d.action]} {_code(d.path)}: {shown}{tail}")
        lines.append("")
    for o in stack.outputs:
        cause = f" _({_e(o.cause)})_" if o.cause else ""
        shown = arrow(o.action, o.before, o.after)
        lines.append(f"- {SYMBOLS[o.action]} output `{_e(o.key)}`: {_code(shown)}{cause}")
    for warning in stack.protection.warnings:
        lines.append(f"- warning: {_e(warning)}")
    for dis in stack.disagreements:
        lines.append(
            f"- note: {_e(dis.logical_id)} {_e(dis.field)}: planned {_e(dis.planned)}, "
            f"change set says {_e(dis.change_set)}"
        )
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _fit(lines: list[str], used: int, room: int, what: str, skipped: list[str]) -> list[str]:
    """As many of ``lines`` as fit in ``room`` after ``used``; a table keeps its header
    (its first lines up to the ``|---`` row). What is left out is named in ``skipped``."""
    header = next((i + 1 for i, line in enumerate(lines) if line.startswith("|---")), 0)
    kept = lines[:header]
    size = used + sum(len(line) + 1 for line in kept)
    for index, line in enumerate(lines[header:]):
        if size + len(line) + 1 > room:
            skipped.append(f"{len(lines) - header - index} row(s) of {what}")
            break
        kept.append(line)
        size += len(line) + 1
    return kept if len(kept) > header else []


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The plan as one pull-request comment of at most ``limit`` characters.

    The summary table comes first, then what needs approval and the security changes
    (together at most half the room), then the stacks' details while they fit.
    """
    budget = limit - _NOTE_ROOM
    skipped: list[str] = []
    out = "\n".join(
        ["## stackyard plan", "", _e(plan_title(plan)), "", f"**{_e(plan_totals(plan))}**", ""]
    )
    out += "\n".join(_fit(_summary(plan), len(out), budget, "the summary", skipped)) + "\n"
    for lines, what in (
        (_approvals(plan), "what needs approval"),
        (_security(plan), "the security changes"),
    ):
        out += "\n".join(_fit(lines, len(out), max(budget // 2, len(out)), what, skipped))
        out += "\n"
    out += "\n### Stacks\n\n"
    left_out: list[str] = []
    for stack in plan.stacks:
        if not stack.has_changes:
            continue
        section = _stack_section(stack)
        if left_out or len(out) + len(section) > budget:
            left_out.append(stack.name)
            continue
        out += section
    if skipped or left_out:
        out += _truncation_note(skipped, left_out)
    return out


def _truncation_note(skipped: list[str], left_out: list[str]) -> str:
    parts = list(skipped)
    if left_out:
        names = ", ".join(left_out[:20])
        if len(left_out) > 20:
            names += f" and {len(left_out) - 20} more"
        parts.append(f"the details of {len(left_out)} stack(s) ({names})")
    return (
        f"\n> **Truncated:** {_e('; '.join(parts))} did not fit GitHub's 65,536-character "
        "comment limit. The HTML report (`stackyard report PLANFILE`) and `stackyard diff` "
        "show everything.\n"
    )
