"""Folding a CloudFormation change set into a plan (``diff --change-sets``): the worse
replacement of the two wins and every disagreement is recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from stackyard.plan.model import (
    ChangeAction,
    Disagreement,
    Replacement,
    ResourceChange,
    Risk,
    RiskKind,
    StackPlan,
)
from stackyard.plan.risk import destructive_risks

__all__ = ["merge_change_set"]

_CS_ACTIONS = {
    "Add": ChangeAction.ADD,
    "Modify": ChangeAction.MODIFY,
    "Remove": ChangeAction.REMOVE,
    "Import": ChangeAction.ADD,
    "Dynamic": ChangeAction.MODIFY,
}


def _cs_replacement(text: Any) -> Replacement:
    try:
        return Replacement(str(text))
    except ValueError:
        return Replacement.FALSE


def _worse(a: Replacement, b: Replacement) -> Replacement:
    return a if a.rank >= b.rank else b


def _fold_type_changes(changes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A change set lists a type change as Add plus Remove of one logical ID: one replacement."""
    bodies: dict[str, list[Mapping[str, Any]]] = {}
    for item in changes:
        body = item.get("ResourceChange") if isinstance(item, Mapping) else None
        if isinstance(body, Mapping):
            bodies.setdefault(str(body.get("LogicalResourceId", "")), []).append(body)
    out: list[Mapping[str, Any]] = []
    for group in bodies.values():
        if sorted(str(b.get("Action")) for b in group) == ["Add", "Remove"]:
            added = next(b for b in group if b.get("Action") == "Add")
            folded = {**added, "Action": "Modify", "Replacement": "True", "Details": []}
            out.append({"Type": "Resource", "ResourceChange": folded})
        else:
            out += [{"Type": "Resource", "ResourceChange": b} for b in group]
    return out


def merge_change_set(plan: StackPlan, changes: Sequence[Mapping[str, Any]]) -> StackPlan:
    """``plan`` cross-checked with a change set's ``Changes`` (DescribeChangeSet's shape).

    The worse replacement of the two wins; resources only the change set lists are added;
    every difference is recorded in ``plan.disagreements``.
    """
    ours = {r.logical_id: r for r in plan.resources}
    changes = _fold_type_changes(changes)
    seen: set[str] = set()
    disagreements: list[Disagreement] = list(plan.disagreements)
    merged: dict[str, ResourceChange] = dict(ours)
    for item in changes:
        body = item.get("ResourceChange") if isinstance(item, Mapping) else None
        if not isinstance(body, Mapping):
            continue
        logical_id = str(body.get("LogicalResourceId", ""))
        rtype = str(body.get("ResourceType", ""))
        theirs_action = _CS_ACTIONS.get(str(body.get("Action")), ChangeAction.MODIFY)
        theirs_repl = _cs_replacement(body.get("Replacement", "False"))
        forced_by = tuple(
            str(d.get("Target", {}).get("Name"))
            for d in body.get("Details", []) or []
            if isinstance(d, Mapping)
            and d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
            and d.get("Target", {}).get("Name")
        )
        seen.add(logical_id)
        mine = ours.get(logical_id)
        if mine is None:
            disagreements.append(
                Disagreement(logical_id, "listed", "no change", f"{theirs_action}")
            )
            action = ChangeAction.REPLACE if theirs_repl is Replacement.TRUE else theirs_action
            merged[logical_id] = ResourceChange(
                logical_id,
                rtype,
                action,
                replacement=theirs_repl,
                risks=destructive_risks(action, theirs_repl, rtype),
                replaced_by=tuple(f"Properties.{n}" for n in forced_by),
                reasons=("listed by the change set",),
            )
            continue
        mine_action = ChangeAction.MODIFY if mine.action is ChangeAction.REPLACE else mine.action
        if mine_action is not theirs_action:
            disagreements.append(
                Disagreement(logical_id, "action", str(mine.action), str(theirs_action))
            )
        if theirs_action is not ChangeAction.MODIFY:
            continue
        if theirs_repl is not mine.replacement:
            disagreements.append(
                Disagreement(logical_id, "replacement", str(mine.replacement), str(theirs_repl))
            )
        repl = _worse(mine.replacement, theirs_repl)
        if repl is mine.replacement:
            continue
        action = ChangeAction.REPLACE if repl is Replacement.TRUE else ChangeAction.MODIFY
        kept: tuple[Risk, ...] = tuple(r for r in mine.risks if r.kind is not RiskKind.DESTRUCTIVE)
        merged[logical_id] = replace(
            mine,
            action=action,
            replacement=repl,
            risks=destructive_risks(action, repl, mine.resource_type) + kept,
            replaced_by=tuple(
                dict.fromkeys((*mine.replaced_by, *(f"Properties.{n}" for n in forced_by)))
            ),
        )
    for logical_id, mine in ours.items():
        listable = mine.action in (ChangeAction.ADD, ChangeAction.REMOVE) or any(
            d.path.startswith("Properties") for d in mine.diffs
        )
        if logical_id not in seen and listable:
            disagreements.append(Disagreement(logical_id, "listed", str(mine.action), "no change"))
    resources = tuple(merged[k] for k in sorted(merged))
    return replace(plan, resources=resources, disagreements=tuple(disagreements))
