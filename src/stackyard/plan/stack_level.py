"""Stack-level diffs: parameters, tags, settings and outputs of one stack."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard import schemas
from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack, parameter_text
from stackyard.lookups.secret import MASK, Secret, is_secret
from stackyard.plan.actions import normalise_template
from stackyard.plan.model import (
    ChangeAction,
    OutputChange,
    ParameterChange,
    ResourceChange,
    Setting,
    SettingChange,
    TagChange,
)
from stackyard.plan.resources import ReachContext
from stackyard.plan.risk import policies_equal
from stackyard.plan.values import (
    KNOWN_AFTER_APPLY,
    Masker,
    is_intrinsic,
    plain,
    substitute,
    unknown_in,
)
from stackyard.submission import compared_tags
from stackyard.template_refs import attribute_references, references
from stackyard.template_secrets import recorded_digest
from stackyard.unknown import Unknown

__all__ = [
    "ParameterChanges",
    "output_changes",
    "parameter_changes",
    "setting_changes",
    "tag_changes",
]


@dataclass(frozen=True)
class ParameterChanges:
    """Parameter changes, and what they carry into the resources."""

    changes: tuple[ParameterChange, ...]
    ctx: ReachContext
    # NoEcho parameters given a value whose deployed value cannot be compared: the deployed
    # template records no digest (another tool deployed it, or its value was never sent).
    uncompared: tuple[str, ...] = ()


def _parameter_defaults(template: Mapping[str, Any]) -> dict[str, Any]:
    params = template.get("Parameters") or {}
    return {k: v["Default"] for k, v in params.items() if isinstance(v, Mapping) and "Default" in v}


def parameter_changes(
    desired: DesiredStack | None,
    deployed: DeployedStack | None,
    new_template: Mapping[str, Any],
    secret_keys: frozenset[str],
    *,
    send_uncompared: bool = False,
) -> ParameterChanges:
    """Parameters that change (NoEcho ones compared through the digests templates record).

    A NoEcho value that cannot be compared (no deployed digest) is listed in ``uncompared``
    and counts as unchanged, unless ``send_uncompared`` (the stack is updated anyway, so
    the value is sent and may change what it reaches).
    """
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
    uncompared: list[str] = []
    for key in sorted(set(old) | set(new)):
        masked = key in secret_keys
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None:
            if before == MASK and masked:
                # CloudFormation never shows a NoEcho value: compare the digests the
                # templates record instead.
                old_digest = recorded_digest(deployed.template if deployed else None, key)
                new_digest = recorded_digest(new_template, key)
                if new_digest is None or old_digest == new_digest:
                    continue
                if old_digest is None:
                    uncompared.append(key)
                    if not send_uncompared:
                        continue
            if str.__str__(before) == str.__str__(after) and not isinstance(after, Unknown):
                continue
            action = ChangeAction.MODIFY
        elif after is not None:
            action = ChangeAction.ADD
        else:
            action = ChangeAction.REMOVE
        changed.add(key)
        unknown = isinstance(after, Unknown) or (after is not None and unknown_in(after))
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
        return KNOWN_AFTER_APPLY if unknown_in(values[key]) else str.__str__(values[key])

    ctx = ReachContext(
        changed=frozenset(changed),
        old_values={k: shown(old, k) for k in changed},
        new_values={k: shown(new, k) for k in changed},
        unknown_params=frozenset(k for k in changed if unknown_in(new.get(k))),
        masked_params=frozenset(changed & secret_keys),
        replaced=frozenset(),
    )
    return ParameterChanges(tuple(changes), ctx, tuple(uncompared))


def tag_changes(
    desired: DesiredStack | None, deployed: DeployedStack | None
) -> tuple[TagChange, ...]:
    """Stack tags that change (stackyard's own tags are not compared)."""
    new = dict(desired.tags) if desired else {}
    old = compared_tags(deployed.tags if deployed else {}, new)
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


def setting_changes(
    desired: DesiredStack | None, deployed: DeployedStack | None
) -> tuple[SettingChange, ...]:
    """Settings that change: termination protection, stack policy, notifications, role."""
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
            out.append(SettingChange(Setting.STACK_POLICY, plain(old_policy), plain(new_policy)))
    old_arns = sorted(deployed.notification_arns) if deployed else []
    if old_arns != sorted(desired.notification_arns):
        out.append(
            SettingChange(Setting.NOTIFICATION_ARNS, old_arns, sorted(desired.notification_arns))
        )
    old_role = (deployed.role_arn if deployed else None) or None
    if old_role != (desired.service_role or None):
        out.append(SettingChange(Setting.SERVICE_ROLE, old_role, desired.service_role or None))
    return tuple(out)


def output_changes(
    old_template: Mapping[str, Any],
    new_template: Mapping[str, Any],
    deployed: DeployedStack | None,
    ctx: ReachContext,
    resources: Iterable[ResourceChange],
    mask: Masker,
) -> tuple[OutputChange, ...]:
    """Outputs that change; a value that can change in an apply is "known after apply"."""
    old = old_template.get("Outputs") or {}
    new = new_template.get("Outputs") or {}
    current = dict(deployed.outputs) if deployed else {}
    changed_resources = {r.logical_id for r in resources if r.action is not ChangeAction.REMOVE}
    modified = {r.logical_id: r for r in resources if r.action is ChangeAction.MODIFY}
    out: list[OutputChange] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        before = current.get(key, plain((a or {}).get("Value")) if a else None)
        if b is None:
            out.append(OutputChange(key, ChangeAction.REMOVE, before=mask(before)[0]))
            continue
        value = b.get("Value") if isinstance(b, Mapping) else None
        names = references(value)
        after = substitute(value, {p: ctx.new_values[p] for p in names & ctx.changed})
        unknown = bool(names & changed_resources) or unknown_in(after)
        if a is None:
            out.append(
                OutputChange(
                    key,
                    ChangeAction.ADD,
                    after=mask(plain(after))[0],
                    known_after_apply=unknown or is_intrinsic(after),
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
                after=KNOWN_AFTER_APPLY if unknown else mask(plain(after))[0],
                known_after_apply=unknown or unknown_in(after),
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
