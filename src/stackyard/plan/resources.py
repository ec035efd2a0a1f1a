"""Resource diffs: two templates' resources compared property by property.

Whether a change replaces a resource comes from the CloudFormation resource schemas
(``createOnlyProperties`` → ``True``, ``conditionalCreateOnlyProperties`` →
``Conditional``), never from per-type tables. A parameter that changes reaches the
resources that use it through ``Ref`` or ``Fn::Sub`` (or any intrinsic around them); a
resource that refers to a replaced one changes too. Values known only after apply make a
create-only change ``Conditional``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stackyard import schemas
from stackyard.plan.model import ChangeAction, PropertyDiff, Replacement, ResourceChange
from stackyard.plan.risk import grade, policies_equal
from stackyard.plan.values import (
    KNOWN_AFTER_APPLY,
    Masker,
    is_intrinsic,
    plain,
    substitute,
    unknown_in,
)
from stackyard.template_refs import references

__all__ = ["ReachContext", "path_text", "resource_changes", "resources_of"]

_ATTRIBUTES = (
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "Metadata",
    "UpdatePolicy",
    "UpdateReplacePolicy",
)
# Shorter secrets are masked only where a whole value equals them, not inside text.


Segment = str | int


def path_text(segments: Sequence[Segment]) -> str:
    """``("Properties", "Tags", 0, "Value")`` → ``Properties.Tags[0].Value``."""
    out = ""
    for seg in segments:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def _prefix_match(schema_path: str, prop_path: Sequence[Segment]) -> bool:
    """True when one path lies inside the other ('*' in the schema matches any list index)."""
    pattern = [p for p in schema_path.split("/") if p]
    for want, have in zip(pattern, prop_path, strict=False):
        if want == "*":
            if not isinstance(have, int):
                return False
        elif str(have) != want:
            return False
    return True


def _replacement_of(resource_type: str, prop_path: Sequence[Segment], unknown: bool) -> Replacement:
    if any(_prefix_match(p, prop_path) for p in schemas.create_only_properties(resource_type)):
        return Replacement.CONDITIONAL if unknown else Replacement.TRUE
    conditional = schemas.conditional_create_only_properties(resource_type)
    if any(_prefix_match(p, prop_path) for p in conditional):
        return Replacement.CONDITIONAL
    return Replacement.FALSE


@dataclass
class _Raw:
    """A property difference before masking and replacement are applied."""

    path: tuple[Segment, ...]
    action: ChangeAction
    before: Any = None
    after: Any = None
    cause: str | None = None
    unknown: bool = False
    masked: bool = False


def _policy_like(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "Statement" in value
    if isinstance(value, str) and '"Statement"' in value:
        try:
            return isinstance(json.loads(value), dict)
        except ValueError:
            return False
    return False


def _compare(path: tuple[Segment, ...], old: Any, new: Any, out: list[_Raw]) -> None:
    """Textual differences between ``old`` and ``new``, as deep as they go."""
    if old == new:
        return
    if _policy_like(old) and _policy_like(new) and policies_equal(old, new):
        return
    both_maps = isinstance(old, Mapping) and isinstance(new, Mapping)
    if both_maps and not is_intrinsic(old) and not is_intrinsic(new):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                out.append(_Raw((*path, key), ChangeAction.REMOVE, before=old[key]))
            elif key not in old:
                out.append(
                    _Raw(
                        (*path, key), ChangeAction.ADD, after=new[key], unknown=unknown_in(new[key])
                    )
                )
            else:
                _compare((*path, key), old[key], new[key], out)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            _compare((*path, index), a, b, out)
        for index in range(len(new), len(old)):
            out.append(_Raw((*path, index), ChangeAction.REMOVE, before=old[index]))
        for index in range(len(old), len(new)):
            item = new[index]
            out.append(_Raw((*path, index), ChangeAction.ADD, after=item, unknown=unknown_in(item)))
        return
    out.append(_Raw(path, ChangeAction.MODIFY, before=old, after=new, unknown=unknown_in(new)))


@dataclass(frozen=True)
class ReachContext:
    """What reaches resources without changing their text."""

    changed: frozenset[str]  # parameters whose values change
    old_values: Mapping[str, Any]  # their values before (masked where secret)
    new_values: Mapping[str, Any]  # and after
    unknown_params: frozenset[str]
    masked_params: frozenset[str]
    replaced: frozenset[str]  # resources replaced (or maybe replaced)


def _reach(
    path: tuple[Segment, ...], old: Any, new: Any, ctx: ReachContext, out: list[_Raw]
) -> None:
    """Differences that come from changed parameters or replaced resources, not text."""
    if is_intrinsic(new):
        if old != new:
            return  # a textual change; ``_compare`` lists it
        names = references(new)
        params = sorted(names & ctx.changed)
        resources = sorted(names & ctx.replaced)
        if not params and not resources:
            return
        causes = [f"parameter {p} changed" for p in params]
        causes += [f"resource {r} replaced" for r in resources]
        unknown = bool(resources) or any(p in ctx.unknown_params for p in params)
        before = substitute(old, {p: ctx.old_values[p] for p in params})
        after = substitute(new, {p: ctx.new_values[p] for p in params})
        out.append(
            _Raw(
                path,
                ChangeAction.MODIFY,
                before=before,
                after=KNOWN_AFTER_APPLY if unknown else after,
                cause="; ".join(causes),
                unknown=unknown,
                masked=any(p in ctx.masked_params for p in params),
            )
        )
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) & set(new)):
            _reach((*path, key), old[key], new[key], ctx, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _reach((*path, index), a, b, ctx, out)


def _resource_change(
    logical_id: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    ctx: ReachContext,
    mask: Masker,
) -> ResourceChange | None:
    if new is None and old is not None:
        rtype = str(old.get("Type", ""))
        risks, rows = grade(logical_id, rtype, ChangeAction.REMOVE, Replacement.FALSE, old, None)
        return ResourceChange(logical_id, rtype, ChangeAction.REMOVE, risks=risks, security=rows)
    assert new is not None
    rtype = str(new.get("Type", ""))
    if old is None:
        risks, rows = grade(logical_id, rtype, ChangeAction.ADD, Replacement.FALSE, None, new)
        return ResourceChange(logical_id, rtype, ChangeAction.ADD, risks=risks, security=rows)
    old_type = str(old.get("Type", ""))
    raws: list[_Raw] = []
    if old_type != rtype:
        raws.append(_Raw(("Type",), ChangeAction.MODIFY, before=old_type, after=rtype))
    for key in ("Properties", *_ATTRIBUTES):
        a, b = old.get(key), new.get(key)
        if key == "Properties":
            a, b = a or {}, b or {}
        if a is None and b is not None:
            raws.append(_Raw((key,), ChangeAction.ADD, after=b, unknown=unknown_in(b)))
        elif b is None and a is not None:
            raws.append(_Raw((key,), ChangeAction.REMOVE, before=a))
        else:
            _compare((key,), a, b, raws)
            _reach((key,), a, b, ctx, raws)
    if not raws:
        return None
    diffs: list[PropertyDiff] = []
    replacement = Replacement.TRUE if old_type != rtype else Replacement.FALSE
    replaced_by: list[str] = ["Type"] if old_type != rtype else []
    for raw in sorted(raws, key=lambda r: path_text(r.path)):
        per = Replacement.FALSE
        if raw.path and raw.path[0] == "Properties" and len(raw.path) > 1:
            per = _replacement_of(rtype, raw.path[1:], raw.unknown)
        if per.rank > Replacement.FALSE.rank:
            replaced_by.append(path_text(raw.path))
        if per.rank > replacement.rank:
            replacement = per
        before, masked_before = mask(plain(raw.before))
        after, masked_after = mask(plain(raw.after))
        diffs.append(
            PropertyDiff(
                path=path_text(raw.path),
                action=raw.action,
                before=before,
                after=after,
                known_after_apply=raw.unknown,
                masked=raw.masked or masked_before or masked_after,
                cause=raw.cause,
                replacement=per,
            )
        )
    action = ChangeAction.REPLACE if replacement is Replacement.TRUE else ChangeAction.MODIFY
    risks, rows = grade(logical_id, rtype, action, replacement, old, new)
    reasons = tuple(dict.fromkeys(d.cause for d in diffs if d.cause))
    return ResourceChange(
        logical_id,
        rtype,
        action,
        replacement=replacement,
        diffs=tuple(diffs),
        risks=risks,
        replaced_by=tuple(replaced_by),
        security=rows,
        reasons=reasons,
    )


def resources_of(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A template's resources by logical id (entries that are not mappings left out)."""
    found = template.get("Resources") or {}
    return {str(k): v for k, v in found.items() if isinstance(v, Mapping)}


def resource_changes(
    old_template: Mapping[str, Any],
    new_template: Mapping[str, Any],
    ctx: ReachContext,
    mask: Masker,
) -> tuple[tuple[ResourceChange, ...], ReachContext]:
    """Every resource that changes between two templates, and the context with every
    replaced resource (a replacement reaches what refers to it: repeated until stable)."""
    old, new = resources_of(old_template), resources_of(new_template)
    ids = sorted(set(old) | set(new))
    # A replaced resource changes every resource that refers to it: repeat until stable.
    while True:
        changes = [_resource_change(i, old.get(i), new.get(i), ctx, mask) for i in ids]
        found = tuple(c for c in changes if c is not None)
        replaced = frozenset(
            c.logical_id
            for c in found
            if c.replacement is not Replacement.FALSE and c.logical_id in new
        )
        if replaced <= ctx.replaced:
            return found, ctx
        ctx = replace(ctx, replaced=ctx.replaced | replaced)
