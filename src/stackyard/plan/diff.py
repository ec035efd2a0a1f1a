"""The differ: desired stack vs deployed stack → :class:`~stackyard.plan.model.StackPlan`.

Resources are compared property by property. Whether a change replaces a resource comes
from the CloudFormation resource schemas (``createOnlyProperties`` → ``True``,
``conditionalCreateOnlyProperties`` → ``Conditional``), never from per-type tables. A
parameter that changes reaches the resources that use it through ``Ref`` or ``Fn::Sub``
(or any intrinsic around them); a resource that refers to a replaced one changes too.
Values known only after apply make a create-only change ``Conditional``.

Secrets never reach the plan: NoEcho parameters, ``Secret`` values, and any text that
contains one of them are replaced by ``****``.

:func:`merge_change_set` folds a CloudFormation change set into a plan, where one exists:
the worse replacement wins and every disagreement is recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stackyard import schemas
from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack, parameter_text
from stackyard.lookups.secret import MASK, Secret, is_secret
from stackyard.plan.actions import classify, normalise_template
from stackyard.plan.conditions import active_template
from stackyard.plan.model import (
    ChangeAction,
    Disagreement,
    LockedDelta,
    OutputChange,
    ParameterChange,
    PropertyDiff,
    Replacement,
    ResourceChange,
    Risk,
    RiskKind,
    Setting,
    SettingChange,
    StackAction,
    StackPlan,
    TagChange,
)
from stackyard.plan.protection import DEFAULT_PROJECT_PROTECTION, ProjectProtection, assess
from stackyard.plan.risk import destructive_risks, grade, policies_equal
from stackyard.submission import OWN_TAG_PREFIX
from stackyard.template_refs import SUB_VARIABLE, attribute_references, references
from stackyard.template_secrets import recorded_digest
from stackyard.unknown import Unknown

__all__ = [
    "KNOWN_AFTER_APPLY",
    "DeployedStack",
    "diff_stack",
    "merge_change_set",
    "snapshot",
]

KNOWN_AFTER_APPLY = "(known after apply)"
_UNKNOWN_MARK = "(known after apply:"
# Resource attributes compared besides Properties; none of them replaces a resource.
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
_MIN_SECRET_IN_TEXT = 4


def snapshot(described: DeployedStack, template: Any, stack_policy: Any = None) -> DeployedStack:
    """``described`` with its template and stack policy (JSON text, YAML text or dicts, as
    ``GetTemplate``/``GetStackPolicy`` return them) as data: what the differ compares."""
    body = normalise_template(template)
    policy = normalise_template(stack_policy) if stack_policy else None
    return described.with_template(
        body if isinstance(body, Mapping) else {},
        policy if isinstance(policy, Mapping) else None,
    )


# --- values -------------------------------------------------------------------------------


def _unknown(value: Any) -> bool:
    if isinstance(value, str):
        return isinstance(value, Unknown) or _UNKNOWN_MARK in value
    if isinstance(value, Mapping):
        return any(_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_unknown(v) for v in value)
    return False


def _is_intrinsic(node: Any) -> bool:
    if not isinstance(node, Mapping) or len(node) != 1:
        return False
    (key,) = node
    return key == "Ref" or key == "Condition" or str(key).startswith("Fn::")


@dataclass(frozen=True)
class _Masker:
    """Replaces secrets inside any value by ``****``."""

    exact: frozenset[str]
    inside: tuple[str, ...]

    @classmethod
    def of(cls, secrets: Iterable[str]) -> _Masker:
        plain = {str.__str__(s) for s in secrets if s and s != MASK}
        return cls(
            exact=frozenset(plain),
            inside=tuple(sorted((s for s in plain if len(s) >= _MIN_SECRET_IN_TEXT), key=len)),
        )

    def __call__(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, Secret):
            return MASK, True
        if isinstance(value, str):
            plain = str.__str__(value)
            if plain in self.exact:
                return MASK, True
            masked = plain
            for secret in reversed(self.inside):
                masked = masked.replace(secret, MASK)
            return (masked, True) if masked != plain else (value, False)
        if isinstance(value, Mapping):
            items = {k: self(v) for k, v in value.items()}
            return {k: v for k, (v, _) in items.items()}, any(m for _, m in items.values())
        if isinstance(value, list | tuple):
            parts = [self(v) for v in value]
            return [v for v, _ in parts], any(m for _, m in parts)
        return value, False


def _plain(value: Any) -> Any:
    """JSON-ready data: Unknowns as the marker text, tuples as lists."""
    if isinstance(value, Unknown):
        return KNOWN_AFTER_APPLY
    if isinstance(value, str):
        return KNOWN_AFTER_APPLY if _UNKNOWN_MARK in value else value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- references ----------------------------------------------------------------------------


def _substitute(node: Any, values: Mapping[str, Any]) -> Any:
    """``node`` with ``Ref`` to and ``${}`` of the names in ``values`` replaced by them."""
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if not isinstance(node, Mapping):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str) and value in values:
            return values[value]
        if key == "Fn::Sub":
            text, local = (value[0], value[1]) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                local_names = set(local) if isinstance(local, Mapping) else set()
                text = SUB_VARIABLE.sub(
                    lambda m: (
                        parameter_text(values[m.group(1)])
                        if m.group(1) in values and m.group(1) not in local_names
                        else m.group(0)
                    ),
                    text,
                )
                if not local and not SUB_VARIABLE.search(text):
                    return text
            return {"Fn::Sub": [text, _substitute(local, values)] if local else text}
    return {key: _substitute(value, values) for key, value in node.items()}


# --- paths and create-only properties ------------------------------------------------------

Segment = str | int


def _path_text(segments: Sequence[Segment]) -> str:
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


# --- resource diffs ------------------------------------------------------------------------


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
    if both_maps and not _is_intrinsic(old) and not _is_intrinsic(new):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                out.append(_Raw((*path, key), ChangeAction.REMOVE, before=old[key]))
            elif key not in old:
                out.append(
                    _Raw((*path, key), ChangeAction.ADD, after=new[key], unknown=_unknown(new[key]))
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
            out.append(_Raw((*path, index), ChangeAction.ADD, after=item, unknown=_unknown(item)))
        return
    out.append(_Raw(path, ChangeAction.MODIFY, before=old, after=new, unknown=_unknown(new)))


@dataclass(frozen=True)
class _Context:
    """What reaches resources without changing their text."""

    changed: frozenset[str]  # parameters whose values change
    old_values: Mapping[str, Any]  # their values before (masked where secret)
    new_values: Mapping[str, Any]  # and after
    unknown_params: frozenset[str]
    masked_params: frozenset[str]
    replaced: frozenset[str]  # resources replaced (or maybe replaced)


def _reach(path: tuple[Segment, ...], old: Any, new: Any, ctx: _Context, out: list[_Raw]) -> None:
    """Differences that come from changed parameters or replaced resources, not text."""
    if _is_intrinsic(new):
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
        before = _substitute(old, {p: ctx.old_values[p] for p in params})
        after = _substitute(new, {p: ctx.new_values[p] for p in params})
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
    ctx: _Context,
    mask: _Masker,
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
            raws.append(_Raw((key,), ChangeAction.ADD, after=b, unknown=_unknown(b)))
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
    for raw in sorted(raws, key=lambda r: _path_text(r.path)):
        per = Replacement.FALSE
        if raw.path and raw.path[0] == "Properties" and len(raw.path) > 1:
            per = _replacement_of(rtype, raw.path[1:], raw.unknown)
        if per.rank > Replacement.FALSE.rank:
            replaced_by.append(_path_text(raw.path))
        if per.rank > replacement.rank:
            replacement = per
        before, masked_before = mask(_plain(raw.before))
        after, masked_after = mask(_plain(raw.after))
        diffs.append(
            PropertyDiff(
                path=_path_text(raw.path),
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


def _resources(template: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = template.get("Resources") or {}
    return {str(k): v for k, v in found.items() if isinstance(v, Mapping)}


def _resource_changes(
    old_template: Mapping[str, Any],
    new_template: Mapping[str, Any],
    ctx: _Context,
    mask: _Masker,
) -> tuple[tuple[ResourceChange, ...], _Context]:
    old, new = _resources(old_template), _resources(new_template)
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


# --- stack-level changes --------------------------------------------------------------------


@dataclass(frozen=True)
class _Parameters:
    changes: tuple[ParameterChange, ...]
    ctx: _Context


def _parameter_defaults(template: Mapping[str, Any]) -> dict[str, Any]:
    params = template.get("Parameters") or {}
    return {k: v["Default"] for k, v in params.items() if isinstance(v, Mapping) and "Default" in v}


def _parameters(
    desired: DesiredStack | None,
    deployed: DeployedStack | None,
    new_template: Mapping[str, Any],
    secret_keys: frozenset[str],
) -> _Parameters:
    old: dict[str, str] = dict(deployed.parameters) if deployed else {}
    new: dict[str, Any] = {}
    declared: frozenset[str] = frozenset()
    if desired is not None:
        declared = desired.declared_parameters
        defaults = _parameter_defaults(new_template)
        for key in sorted(declared):
            if key in desired.parameters:
                value = desired.parameters[key]
                new[key] = value if isinstance(value, Unknown) else parameter_text(value)
                if isinstance(value, Secret):
                    new[key] = value
            elif key in old:
                new[key] = old[key]  # UsePreviousValue
            elif key in defaults:
                new[key] = parameter_text(defaults[key])
    changes: list[ParameterChange] = []
    changed: set[str] = set()
    for key in sorted(set(old) | set(new)):
        masked = key in secret_keys
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None:
            if before == MASK and masked:
                # CloudFormation never shows a NoEcho value: compare the digests the
                # templates record instead. With no digest deployed yet, the template (and
                # so the stack) changes anyway, so the value counts as changed.
                old_digest = recorded_digest(deployed.template if deployed else None, key)
                new_digest = recorded_digest(new_template, key)
                if new_digest is None or old_digest == new_digest:
                    continue
            if str.__str__(before) == str.__str__(after) and not isinstance(after, Unknown):
                continue
            action = ChangeAction.MODIFY
        elif after is not None:
            action = ChangeAction.ADD
        else:
            action = ChangeAction.REMOVE
        changed.add(key)
        unknown = isinstance(after, Unknown) or (after is not None and _unknown(after))
        changes.append(
            ParameterChange(
                key=key,
                action=action,
                before=None if before is None else (MASK if masked else str(before)),
                after=(
                    None
                    if after is None
                    else KNOWN_AFTER_APPLY
                    if unknown
                    else MASK
                    if masked
                    else str.__str__(after)
                ),
                masked=masked,
                known_after_apply=unknown,
            )
        )

    def shown(values: Mapping[str, Any], key: str) -> Any:
        if key not in values:
            return None
        if key in secret_keys:
            return MASK
        return KNOWN_AFTER_APPLY if _unknown(values[key]) else str.__str__(values[key])

    ctx = _Context(
        changed=frozenset(changed),
        old_values={k: shown(old, k) for k in changed},
        new_values={k: shown(new, k) for k in changed},
        unknown_params=frozenset(k for k in changed if _unknown(new.get(k))),
        masked_params=frozenset(changed & secret_keys),
        replaced=frozenset(),
    )
    return _Parameters(tuple(changes), ctx)


def _tags(desired: DesiredStack | None, deployed: DeployedStack | None) -> tuple[TagChange, ...]:
    old = {
        k: v
        for k, v in (deployed.tags if deployed else {}).items()
        if not k.startswith(OWN_TAG_PREFIX)
    }
    new = dict(desired.tags) if desired else {}
    out: list[TagChange] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        action = (
            ChangeAction.ADD
            if before is None
            else ChangeAction.REMOVE
            if after is None
            else ChangeAction.MODIFY
        )
        out.append(
            TagChange(
                key,
                action,
                None if before is None else (MASK if is_secret(before) else before),
                None if after is None else (MASK if is_secret(after) else str.__str__(after)),
            )
        )
    return tuple(out)


def _settings(
    desired: DesiredStack | None, deployed: DeployedStack | None
) -> tuple[SettingChange, ...]:
    if desired is None:
        return ()
    out: list[SettingChange] = []
    old_tp = deployed.termination_protection if deployed else False
    if old_tp != desired.termination_protection:
        out.append(
            SettingChange(Setting.TERMINATION_PROTECTION, old_tp, desired.termination_protection)
        )
    if desired.stack_policy:
        new_policy = normalise_template(desired.stack_policy)
        old_policy = deployed.stack_policy if deployed else None
        if old_policy is None or not policies_equal(old_policy, new_policy):
            out.append(SettingChange(Setting.STACK_POLICY, _plain(old_policy), _plain(new_policy)))
    old_arns = sorted(deployed.notification_arns) if deployed else []
    if old_arns != sorted(desired.notification_arns):
        out.append(
            SettingChange(Setting.NOTIFICATION_ARNS, old_arns, sorted(desired.notification_arns))
        )
    old_role = (deployed.role_arn if deployed else None) or None
    if old_role != (desired.service_role or None):
        out.append(SettingChange(Setting.SERVICE_ROLE, old_role, desired.service_role or None))
    return tuple(out)


def _outputs(
    old_template: Mapping[str, Any],
    new_template: Mapping[str, Any],
    deployed: DeployedStack | None,
    ctx: _Context,
    resources: Iterable[ResourceChange],
    mask: _Masker,
) -> tuple[OutputChange, ...]:
    old = old_template.get("Outputs") or {}
    new = new_template.get("Outputs") or {}
    current = dict(deployed.outputs) if deployed else {}
    changed_resources = {r.logical_id for r in resources if r.action is not ChangeAction.REMOVE}
    modified = {r.logical_id: r for r in resources if r.action is ChangeAction.MODIFY}
    out: list[OutputChange] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        before = current.get(key, _plain((a or {}).get("Value")) if a else None)
        if b is None:
            out.append(OutputChange(key, ChangeAction.REMOVE, before=mask(before)[0]))
            continue
        value = b.get("Value") if isinstance(b, Mapping) else None
        names = references(value)
        after = _substitute(value, {p: ctx.new_values[p] for p in names & ctx.changed})
        unknown = bool(names & changed_resources) or _unknown(after)
        if a is None:
            out.append(
                OutputChange(
                    key,
                    ChangeAction.ADD,
                    after=mask(_plain(after))[0],
                    known_after_apply=unknown or _is_intrinsic(after),
                )
            )
            continue
        params = sorted(names & ctx.changed)
        replaced = sorted(names & ctx.replaced)
        read = _changed_attributes(value, modified)
        if a == b and not params and not replaced and not read:
            continue
        causes = [f"parameter {p} changed" for p in params]
        causes += [f"resource {r} replaced" for r in replaced]
        causes += [f"{r} changes" for r in read]
        unknown = bool(replaced or read)
        out.append(
            OutputChange(
                key,
                ChangeAction.MODIFY,
                before=mask(before)[0],
                after=KNOWN_AFTER_APPLY if unknown else mask(_plain(after))[0],
                known_after_apply=unknown or _unknown(after),
                cause="; ".join(causes) or None,
            )
        )
    return tuple(out)


def _changed_attributes(value: Any, modified: Mapping[str, ResourceChange]) -> list[str]:
    """``X.Attr`` read by ``value`` whose value changes with an in-place update of ``X``.

    An attribute that is a read-only property in the resource schema (an ARN, an id, a
    generated name) keeps its value through an in-place update; one that names a writable
    property changes when that property's diff does.
    """
    out: list[str] = []
    for target, attribute in sorted(attribute_references(value)):
        change = modified.get(target)
        if change is None:
            continue
        top = attribute.split(".", 1)[0]
        read_only = {
            p.strip("/").split("/")[1]
            for p in schemas.read_only_properties(change.resource_type)
            if p.count("/") >= 2
        }
        if top in read_only:
            continue
        prefix = f"Properties.{top}"
        if any(
            d.path == prefix or d.path.startswith((prefix + ".", prefix + "["))
            for d in change.diffs
        ):
            out.append(f"{target}.{attribute}")
    return out


def _locked_delta(plan: StackPlan, deployed: DeployedStack | None) -> LockedDelta:
    counts: Counter[str] = Counter()
    for change in plan.resources:
        for kind in change.risk_kinds:
            counts[str(kind)] += 1
    total = (
        len(plan.resources)
        + len(plan.parameters)
        + len(plan.tags)
        + len(plan.settings)
        + len(plan.outputs)
    )
    since = deployed.last_updated.isoformat() if deployed and deployed.last_updated else None
    return LockedDelta(changes=total, by_risk=tuple(sorted(counts.items())), since=since)


def _no_echo(template: Mapping[str, Any]) -> frozenset[str]:
    params = template.get("Parameters") or {}
    return frozenset(
        k
        for k, v in params.items()
        if isinstance(v, Mapping) and str(v.get("NoEcho", "")).lower() == "true"
    )


def _secret_keys(desired: DesiredStack | None, deployed: DeployedStack | None) -> frozenset[str]:
    keys = _no_echo(deployed.template) if deployed is not None else frozenset()
    if desired is None:
        return keys
    secret = frozenset(k for k, v in desired.parameters.items() if is_secret(v))
    return keys | desired.no_echo | secret


def _secret_values(desired: DesiredStack | None, extra: Iterable[str]) -> list[str]:
    values = [str(v) for v in extra]
    if desired is not None:
        for key, value in desired.parameters.items():
            if key in desired.no_echo or is_secret(value):
                values += [v for v in _flat_strings(value) if not isinstance(v, Unknown)]
    return values


def _flat_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _flat_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _flat_strings(v)]
    return []


def _summary(plan: StackPlan) -> str:
    parts: list[str] = []
    counts = Counter(str(r.action) for r in plan.resources)
    if counts:
        parts.append(", ".join(f"{n} to {a}" for a, n in sorted(counts.items())))
    if plan.parameters:
        parts.append("parameters: " + ", ".join(p.key for p in plan.parameters))
    if plan.tags:
        parts.append("tags")
    parts += [s.name for s in plan.settings]
    if plan.outputs:
        parts.append("outputs")
    return "; ".join(parts)


def _condition_values(desired: DesiredStack | None) -> dict[str, str | None]:
    if desired is None:
        return {}
    return {k: None if _unknown(v) else parameter_text(v) for k, v in desired.parameters.items()}


def _active(
    template: Mapping[str, Any],
    parameters: Mapping[str, str | None],
    fqn: str,
    region: str | None = None,
) -> Mapping[str, Any]:
    if not template.get("Conditions"):
        return template
    pseudo = {"AWS::StackName": fqn} if fqn else {}
    if region:
        pseudo["AWS::Region"] = region
    return active_template(template, parameters, pseudo)


def diff_stack(
    desired: DesiredStack | None,
    deployed: DeployedStack | None,
    *,
    secrets: Iterable[str] = (),
    forced: bool = False,
    recreate_failed: bool = False,
    wait_in_progress: bool = False,
    protected: bool | Sequence[str] | None = None,
    project_protection: ProjectProtection | None = DEFAULT_PROJECT_PROTECTION,
) -> StackPlan:
    """The plan of one stack: ``desired`` None deletes it, ``deployed`` None creates it.

    ``secrets`` are further strings to mask wherever they appear (values that reached the
    template from ``Secret`` lookups); NoEcho and ``Secret`` parameters are masked anyway.
    ``protected`` overrides ``desired.protected`` (needed when deleting).
    """
    if desired is None and deployed is None:
        raise ValueError("diff_stack needs a desired or a deployed stack")
    mask = _Masker.of(_secret_values(desired, secrets))
    secret_keys = _secret_keys(desired, deployed)
    new_template: Mapping[str, Any] = (
        normalise_template(desired.template_body) if desired is not None else {}
    )
    if not isinstance(new_template, Mapping):
        new_template = {}
    hint: str | None = None
    if desired is None:
        assert deployed is not None
        action, reason = StackAction.DELETE, "not in the config"
    else:
        decided = classify(
            deployed,
            locked=desired.locked,
            forced=forced,
            recreate_failed=recreate_failed,
            wait_in_progress=wait_in_progress,
        )
        if decided is None:
            action, reason = StackAction.UPDATE, ""
        else:
            action, reason, hint = decided.kind, decided.reason, decided.hint
    # A stack whose creation failed has no resources left: compare with nothing.
    gone = deployed is None or action is StackAction.RECREATE
    old_template: Mapping[str, Any] = {} if gone or deployed is None else deployed.template
    base = None if gone else deployed
    params = _parameters(desired, base, new_template, secret_keys)
    # Resources and outputs a condition leaves out do not exist: with the parameters
    # resolved, a condition that flips plans a creation or a deletion.
    old_active = _active(old_template, base.parameters if base else {}, base.fqn if base else "")
    new_active = _active(
        new_template,
        _condition_values(desired),
        desired.fqn if desired else "",
        desired.region if desired else None,
    )
    resources, ctx = _resource_changes(old_active, new_active, params.ctx, mask)
    plan = StackPlan(
        name=desired.name if desired else (deployed.fqn if deployed else ""),
        fqn=desired.fqn if desired else (deployed.fqn if deployed else ""),
        action=action,
        reason=reason,
        parameters=params.changes,
        tags=_tags(desired, base),
        settings=_settings(desired, base),
        resources=resources,
        outputs=_outputs(old_active, new_active, base, ctx, resources, mask),
        hint=hint,
    )
    if action is StackAction.UPDATE:
        differs = plan.parameters or plan.tags or plan.settings or plan.resources or plan.outputs
        if differs:
            plan = replace(plan, reason="changed: " + _summary(plan))
        elif normalise_template(old_template) != normalise_template(new_template):
            plan = replace(plan, reason="template changed (no resource, output or setting)")
        else:
            plan = replace(plan, action=StackAction.NO_CHANGE, reason="in sync")
    elif action is StackAction.SKIP_LOCKED:
        plan = replace(plan, locked_delta=_locked_delta(plan, deployed))
    if protected is None:
        protected = desired.protected if desired is not None else False
    verdict = assess(
        plan,
        protected,
        project=project_protection,
        termination_protection=bool(deployed and deployed.termination_protection),
        logical_ids=set(_resources(old_template)) | set(_resources(new_template)),
    )
    return replace(plan, protection=verdict)


# --- change sets ---------------------------------------------------------------------------

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
