"""What moved between a saved plan and the plan its recorded inputs give now, in words.

``apply PLANFILE`` executes a plan only when planning again from the plan's inputs gives
exactly the saved plan. When it does not, this names each difference as precisely as it
can: an input file that changed, the deployed stack that moved, a parameter ("stack queue,
parameter VisibilityTimeout: planned 90, now 30"), a resource whose change differs, and,
when the deployed state and the inputs are the same, the plan file itself (edited).
"""

from __future__ import annotations

import json
from typing import Any

from stackyard.plan.fingerprint import moved_in_plan
from stackyard.plan.model import Plan, StackPlan

__all__ = ["what_moved"]


def _comparable(plan: Plan) -> dict[str, Any]:
    data = plan.to_dict()
    data.pop("created_at", None)
    return data


def _digests(saved: Plan, fresh: Plan) -> list[str]:
    before = dict(saved.inputs.digests) if saved.inputs else {}
    after = dict(fresh.inputs.digests) if fresh.inputs else {}
    out: list[str] = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            out.append(f"{name} changed since the plan was made")
    return out


def _value(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value) if not isinstance(value, str) else value


def _stack_differences(saved: StackPlan, fresh: StackPlan) -> list[str]:
    name = saved.name
    out: list[str] = []
    if saved.action is not fresh.action:
        out.append(f"stack {name}: planned {saved.action}, now {fresh.action}")
    before = {p.key: p for p in saved.parameters}
    after = {p.key: p for p in fresh.parameters}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a != b:
            planned = a.after if a is not None else "(unchanged)"
            now = b.after if b is not None else "(unchanged)"
            out.append(
                f"stack {name}, parameter {key}: planned {_value(planned)}, now {_value(now)}"
            )
    old = {r.logical_id: r for r in saved.resources}
    new = {r.logical_id: r for r in fresh.resources}
    for logical_id in sorted(set(old) | set(new)):
        a_res, b_res = old.get(logical_id), new.get(logical_id)
        if a_res == b_res:
            continue
        planned = f"{a_res.action}" if a_res is not None else "no change"
        now = f"{b_res.action}" if b_res is not None else "no change"
        if planned == now:
            out.append(f"stack {name}, resource {logical_id}: its {now} differs in detail")
        else:
            out.append(f"stack {name}, resource {logical_id}: planned {planned}, now {now}")
    if not out and saved != fresh:
        out.append(f"stack {name}: its plan differs (outputs, settings, tags or approvals)")
    return out


def what_moved(saved: Plan, fresh: Plan) -> list[str]:
    """Every difference between ``saved`` and ``fresh`` (empty when they are the same)."""
    if _comparable(saved) == _comparable(fresh):
        return []
    out = _digests(saved, fresh)
    out += [str(m) for m in moved_in_plan(saved, dict(fresh.fingerprints))]
    fresh_stacks = {s.name: s for s in fresh.stacks}
    saved_stacks = {s.name: s for s in saved.stacks}
    for name in sorted(set(saved_stacks) | set(fresh_stacks)):
        a, b = saved_stacks.get(name), fresh_stacks.get(name)
        if a is None:
            out.append(f"stack {name}: not in the plan, selected now")
        elif b is None:
            out.append(f"stack {name}: in the plan, not selected now")
        else:
            out += _stack_differences(a, b)
    same_state = saved.fingerprints == fresh.fingerprints and not _digests(saved, fresh)
    if same_state:
        out.append(
            "the inputs and the deployed stacks are as the plan recorded them, so the plan "
            "file itself differs from what they give: it was edited"
        )
    if saved.inputs is not None and saved.inputs.overrides:
        out.append(f"the plan was made with {saved.inputs.overrides_text()}")
    return out or ["the plan differs from what would run now"]
