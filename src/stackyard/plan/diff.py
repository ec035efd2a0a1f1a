"""The differ: desired stack vs deployed stack → :class:`~stackyard.plan.model.StackPlan`.

The pieces live one concept a module: values and masking (``plan.values``), resources
(``plan.resources``), parameters, tags, settings and outputs (``plan.stack_level``), and
change sets (``plan.change_sets``). Here they are put together for one stack, with the
template ``Conditions`` evaluated on both sides, its action and its protection verdict.

Secrets never reach the plan: NoEcho parameters, ``Secret`` values, and any text that
contains one of them are replaced by ``****``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack, parameter_text
from stackyard.lookups.secret import is_secret
from stackyard.plan.actions import classify, normalise_template, same_template
from stackyard.plan.conditions import active_template
from stackyard.plan.model import LockedDelta, StackAction, StackPlan
from stackyard.plan.protection import DEFAULT_PROJECT_PROTECTION, ProjectProtection, assess
from stackyard.plan.resources import resource_changes, resources_of
from stackyard.plan.stack_level import (
    ParameterChanges,
    output_changes,
    parameter_changes,
    setting_changes,
    tag_changes,
)
from stackyard.plan.values import KNOWN_AFTER_APPLY, Masker, unknown_in
from stackyard.unknown import Unknown

__all__ = ["KNOWN_AFTER_APPLY", "diff_stack", "snapshot"]


def snapshot(described: DeployedStack, template: Any, stack_policy: Any = None) -> DeployedStack:
    """``described`` with its template and stack policy (JSON text, YAML text or dicts, as
    ``GetTemplate``/``GetStackPolicy`` return them) as data: what the differ compares."""
    body = normalise_template(template)
    policy = normalise_template(stack_policy) if stack_policy else None
    return described.with_template(
        body if isinstance(body, Mapping) else {},
        policy if isinstance(policy, Mapping) else None,
    )


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
    return {k: None if unknown_in(v) else parameter_text(v) for k, v in desired.parameters.items()}


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


def _differs(plan: StackPlan, old_template: Mapping[str, Any], new_template: Any) -> bool:
    """Whether an update plan changes anything (not counting stackyard's digests)."""
    return bool(
        plan.parameters or plan.tags or plan.settings or plan.resources or plan.outputs
    ) or not same_template(old_template, new_template)


def _uncompared_hint(names: Sequence[str]) -> str:
    listed = ", ".join(names)
    return (
        f"NoEcho parameter{'s' if len(names) > 1 else ''} {listed}: the deployed template "
        "records no digest (another tool deployed the stack), so the value cannot be "
        "compared; the deployed value is kept, and the config's is sent with the stack's "
        "next update"
    )


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
    mask = Masker.of(_secret_values(desired, secrets))
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

    def planned(send_uncompared: bool) -> tuple[StackPlan, ParameterChanges]:
        params = parameter_changes(
            desired, base, new_template, secret_keys, send_uncompared=send_uncompared
        )
        # Resources and outputs a condition leaves out do not exist: with the parameters
        # resolved, a condition that flips plans a creation or a deletion.
        old_active = _active(
            old_template, base.parameters if base else {}, base.fqn if base else ""
        )
        new_active = _active(
            new_template,
            _condition_values(desired),
            desired.fqn if desired else "",
            desired.region if desired else None,
        )
        resources, ctx = resource_changes(old_active, new_active, params.ctx, mask)
        plan = StackPlan(
            name=desired.name if desired else (deployed.fqn if deployed else ""),
            fqn=desired.fqn if desired else (deployed.fqn if deployed else ""),
            action=action,
            reason=reason,
            parameters=params.changes,
            tags=tag_changes(desired, base),
            settings=setting_changes(desired, base),
            resources=resources,
            outputs=output_changes(old_active, new_active, base, ctx, resources, mask),
            hint=hint,
        )
        return plan, params

    plan, params = planned(send_uncompared=False)
    uncompared = params.uncompared
    if uncompared and action is StackAction.UPDATE and _differs(plan, old_template, new_template):
        # The stack is updated anyway, so the config's values of the NoEcho parameters that
        # cannot be compared are sent with it: they may change what they reach.
        plan, params = planned(send_uncompared=True)
    if action is StackAction.UPDATE:
        differs = plan.parameters or plan.tags or plan.settings or plan.resources or plan.outputs
        if differs:
            plan = replace(plan, reason="changed: " + _summary(plan))
        elif not same_template(old_template, new_template):
            plan = replace(plan, reason="template changed (no resource, output or setting)")
        else:
            plan = replace(plan, action=StackAction.NO_CHANGE, reason="in sync")
            if uncompared:
                plan = replace(plan, hint=_uncompared_hint(uncompared))
    elif action is StackAction.SKIP_LOCKED:
        plan = replace(plan, locked_delta=_locked_delta(plan, deployed))
    if protected is None:
        protected = desired.protected if desired is not None else False
    verdict = assess(
        plan,
        protected,
        project=project_protection,
        termination_protection=bool(deployed and deployed.termination_protection),
        logical_ids=set(resources_of(old_template)) | set(resources_of(new_template)),
    )
    return replace(plan, protection=verdict)
