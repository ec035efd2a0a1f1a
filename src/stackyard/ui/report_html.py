"""A plan as one self-contained HTML page, for a reviewer outside the terminal.

No external assets and no script: the styles are inline and a Content-Security-Policy
forbids loading anything, so the page works offline, from a CI artifact or an e-mail. It
shows a summary, what needs approval and why, the IAM and security changes, and per stack
the destructive changes, parameter, tag and setting changes, a resource table, property
diffs old → new with what forced each replacement, outputs, and a locked stack's pending
delta. Every piece of text from the plan is HTML-escaped; values are masked again.
"""

from __future__ import annotations

import html

from stackyard.plan.model import ChangeAction, Plan, RiskKind, StackAction, StackPlan
from stackyard.ui.diff import SYMBOLS, format_value
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

__all__ = ["render_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 75em;
  color: #1f2328; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
.meta { color: #59636e; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; }
code { font: 12px ui-monospace, monospace; background: #f6f8fa; padding: 0 .2em;
  word-break: break-all; }
details { border: 1px solid #d0d7de; border-radius: 6px; margin: .6em 0; padding: .4em .8em; }
summary { cursor: pointer; font-weight: 600; }
.add { color: #1a7f37; } .modify { color: #9a6700; }
.remove, .replace, .danger { color: #cf222e; font-weight: 600; }
.banner { border: 2px solid #cf222e; background: #ffebe9; padding: .4em .8em;
  border-radius: 6px; }
.approval { border: 2px solid #8250df; background: #fbefff; padding: .4em .8em;
  border-radius: 6px; }
.tag { font-size: 11px; border-radius: 4px; padding: 0 .4em; background: #8250df;
  color: #fff; }
.data { background: #cf222e; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _cls(action: ChangeAction) -> str:
    return str(action)


def _table(head: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    """``rows`` are HTML already (escaped by the caller)."""
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _summary(plan: Plan) -> str:
    rows = []
    for stack in plan.stacks:
        approvals = len(stack.protection.items) if stack.needs_approval else 0
        rows.append(
            [
                _e(stack_symbol(stack)),
                f'<a href="#stack-{_e(stack.name)}">{_e(stack.name)}</a>',
                _e(stack.fqn),
                _e(stack.action),
                _e(change_counts(stack)),
                _e(approvals or ""),
            ]
        )
    return _table(["", "stack", "stack name", "action", "resources", "needs approval"], rows)


def _approvals(plan: Plan) -> str:
    rows = [
        [
            _e(stack.name),
            _e(item.subject),
            _e(item.reason),
            _e(item.rule),
            f"<code>{_e(item.id)}</code>",
        ]
        for stack in plan.needing_approval
        for item in stack.protection.items
    ]
    if not rows:
        return ""
    return (
        '<section class="approval" id="approvals"><h2>Needs approval</h2>'
        + _table(["stack", "subject", "why", "rule", "item id"], rows)
        + "</section>"
    )


def _security(plan: Plan) -> str:
    rows = [
        [
            _e(r.sign),
            _e(r.stack),
            _e(r.resource),
            _e(r.kind),
            _e(r.effect),
            _e(r.actions),
            _e(r.principals),
            _e(r.on),
            _e(r.condition),
            f'<span class="danger">{_e(r.why)}</span>' if r.broadening else _e(r.why),
        ]
        for r in security_rows(plan)
    ]
    if not rows:
        return ""
    head = ["", "stack", "resource", "kind", "effect", "actions", "principals", "on"]
    return (
        '<section id="security"><h2>IAM and security changes</h2>'
        + _table([*head, "condition", "why"], rows)
        + "</section>"
    )


def _banner(stack: StackPlan) -> str:
    destructive = [r for r in stack.resources if r.destructive]
    lines = []
    if stack.action is StackAction.DELETE:
        lines.append(f"the whole stack {_e(stack.fqn)} is deleted")
    if stack.action is StackAction.RECREATE:
        lines.append(f"the failed stack {_e(stack.fqn)} is deleted and created again")
    for r in destructive:
        reasons = "; ".join(k.reason for k in r.risks if k.kind is RiskKind.DESTRUCTIVE)
        text = f"{_e(SYMBOLS[r.action])} <b>{_e(r.logical_id)}</b> ({_e(r.resource_type)}) "
        text += _e(reasons)
        if r.replaced_by:
            text += " — forced by " + ", ".join(f"<code>{_e(p)}</code>" for p in r.replaced_by)
        if r.stateful:
            text += ' <span class="tag data">DATA</span>'
        lines.append(text)
    if not lines:
        return ""
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f'<div class="banner"><b>Destructive changes</b><ul>{items}</ul></div>'


def _stack_level(stack: StackPlan) -> str:
    items = []
    for p in stack.parameters:
        secret = " (secret)" if p.masked else ""
        shown = _e(arrow(p.action, p.before, p.after, raw=True))
        items.append(f"{_e(SYMBOLS[p.action])} parameter <b>{_e(p.key)}</b>: {shown}{secret}")
    for t in stack.tags:
        shown = _e(arrow(t.action, t.before, t.after, raw=True))
        items.append(f"{_e(SYMBOLS[t.action])} tag <b>{_e(t.key)}</b>: {shown}")
    for s in stack.settings:
        items.append(f"~ {_e(s.name)}: {_e(arrow(ChangeAction.MODIFY, s.before, s.after))}")
    for o in stack.outputs:
        cause = f" ({_e(o.cause)})" if o.cause else ""
        shown = _e(arrow(o.action, o.before, o.after))
        items.append(
            f"{_e(SYMBOLS[o.action])} output <b>{_e(o.key)}</b>: <code>{shown}</code>{cause}"
        )
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def _resources(stack: StackPlan) -> str:
    if not stack.resources:
        return ""
    protected = {i.subject for i in stack.protection.items}
    rows = []
    for r in stack.resources:
        replacement = "" if r.action is ChangeAction.ADD else _e(r.replacement)
        if r.replaced_by:
            forced = ", ".join(f"<code>{_e(p)}</code>" for p in r.replaced_by)
            replacement += f" — forced by {forced}"
        mark = ' <span class="tag">PROTECTED</span>' if r.logical_id in protected else ""
        rows.append(
            [
                f'<span class="{_cls(r.action)}">{_e(SYMBOLS[r.action])}</span>',
                f'<span class="{_cls(r.action)}">{_e(r.logical_id)}</span>',
                _e(r.resource_type),
                _e(r.action),
                replacement,
                _e(risk_words(r)) + mark,
            ]
        )
    table = _table(["", "resource", "type", "action", "replacement", "risk"], rows)
    diffs = []
    for r in stack.resources:
        for d in r.diffs:
            old = "" if d.action is ChangeAction.ADD else format_value(d.before)
            new = "" if d.action is ChangeAction.REMOVE else format_value(d.after)
            diffs.append(
                [
                    f'<span class="{_cls(d.action)}">{_e(SYMBOLS[d.action])}</span>',
                    _e(r.logical_id),
                    f"<code>{_e(d.path)}</code>",
                    f"<code>{_e(old)}</code>" if old else "",
                    f"<code>{_e(new)}</code>" if new else "",
                    _e(diff_notes(d)),
                ]
            )
    if diffs:
        table += _table(["", "resource", "property", "old", "new", "note"], diffs)
    return table


def _stack(stack: StackPlan) -> str:
    parts = [
        f'<details id="stack-{_e(stack.name)}" open><summary>{_e(stack_line(stack))}</summary>'
    ]
    if stack.hint:
        parts.append(f'<p class="meta">hint: {_e(stack.hint)}</p>')
    if stack.locked_delta is not None:
        delta = stack.locked_delta
        risks = ", ".join(f"{n} {_e(k)}" for k, n in delta.by_risk)
        since = f" since {_e(delta.since)}" if delta.since else ""
        parts.append(
            f'<p class="approval">Locked: {delta.changes} change(s) pending{since} ({risks})</p>'
        )
    parts += [_banner(stack), _stack_level(stack), _resources(stack)]
    if stack.needs_approval:
        items = "".join(
            f"<li><b>{_e(i.subject)}</b>: {_e(i.reason)} [{_e(i.rule)}]</li>"
            for i in stack.protection.items
        )
        parts.append(f'<div class="approval"><b>Needs approval</b><ul>{items}</ul></div>')
    for warning in stack.protection.warnings:
        parts.append(f'<p class="modify">warning: {_e(warning)}</p>')
    for dis in stack.disagreements:
        parts.append(
            f'<p class="modify">note: {_e(dis.logical_id)} {_e(dis.field)}: planned '
            f"{_e(dis.planned)}, change set says {_e(dis.change_set)}</p>"
        )
    parts.append("</details>")
    return "".join(p for p in parts if p)


def render_html(plan: Plan) -> str:
    """The plan as one HTML document (no external assets)."""
    changing = [s for s in plan.stacks if s.has_changes]
    body = [
        "<h1>stackyard plan</h1>",
        f'<p class="meta">{_e(plan_title(plan))}</p>',
        f"<p><b>{_e(plan_totals(plan))}</b></p>",
        _summary(plan),
        _approvals(plan),
        _security(plan),
        "<h2>Stacks</h2>" if changing else "",
        *(_stack(s) for s in changing),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>stackyard plan</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body></html>\n"
    )
