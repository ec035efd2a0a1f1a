"""The per-stack decision the engine needs: create, update, no change, or why not.

``classify`` looks only at the deployed stack's status and the stack's
settings (locked, in-progress behaviour), so a locked stack is never rendered.
``compare`` then decides between update and no change without calling
UpdateStack: parameters, tags, notification ARNs, role and termination
protection come from the shared listing; the template costs one GetTemplate,
fetched only when everything else is equal; the stack policy costs one
GetStackPolicy, only for stacks that have one in the config.

An ``Action`` carries a ``StackAction`` (the project's one action enum) and a
``reason`` for people; no code branches on the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack, parameter_text
from stackyard.plan.model import StackAction
from stackyard.submission import OWNER_TAG, compared_tags

__all__ = [
    "OWNER_TAG",
    "Action",
    "classify",
    "compare",
    "is_owned",
    "normalise_template",
    "same_template",
]


UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
FAILED_CREATE = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"})
BLOCKED = frozenset(
    {"DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED", "UPDATE_FAILED"}
)
MASKED = "****"


@dataclass(frozen=True)
class Action:
    """One stack's action; ``changes`` and ``reason`` are for display only."""

    kind: StackAction
    reason: str = ""
    # What differs ("template", "parameters: A, B", "tags"...), for display.
    changes: tuple[str, ...] = ()
    # Settings that need a call of their own after (or instead of) an update.
    set_termination_protection: bool | None = None
    set_stack_policy: bool = False
    hint: str | None = None

    @property
    def needs_change_set(self) -> bool:
        """True when template, parameters, tags or stack-level settings differ."""
        return self.kind is StackAction.UPDATE and any(
            c not in ("termination protection", "stack policy") for c in self.changes
        )


def is_owned(stack: DeployedStack) -> bool:
    """True when stackyard created the stack (its tags say so)."""
    return OWNER_TAG in stack.tags


def classify(
    deployed: DeployedStack | None,
    *,
    locked: bool = False,
    forced: bool = False,
    recreate_failed: bool = False,
    wait_in_progress: bool = False,
) -> Action | None:
    """The action the status alone decides, or None when the stack must be compared."""
    if deployed is None:
        return Action(StackAction.CREATE, "does not exist")
    status = deployed.status
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        if wait_in_progress:
            return Action(StackAction.WAIT, _waiting_for(deployed))
        return Action(
            StackAction.BLOCKED,
            f"stack is busy ({status})",
            hint="rerun without --no-wait to wait for it, or retry later",
        )
    if locked and not forced and status in UPDATABLE:
        return Action(StackAction.SKIP_LOCKED, "locked")
    if status in FAILED_CREATE or status == "REVIEW_IN_PROGRESS":
        if recreate_failed and is_owned(deployed):
            return Action(StackAction.RECREATE, f"recreate ({status})")
        hint = (
            "rerun with --recreate-failed to delete and create it again"
            if is_owned(deployed)
            else "stackyard did not create this stack; delete it yourself, then rerun"
        )
        return Action(StackAction.BLOCKED, f"stack is {status}", hint=hint)
    if status in BLOCKED:
        hint = (
            "continue the rollback (aws cloudformation continue-update-rollback), then rerun"
            if status == "UPDATE_ROLLBACK_FAILED"
            else "fix the stack in the console, then rerun"
        )
        return Action(StackAction.BLOCKED, f"stack is {status}", hint=hint)
    if locked and not forced:
        return Action(StackAction.SKIP_LOCKED, "locked")
    return None


def _waiting_for(deployed: DeployedStack) -> str:
    """``waiting for the update started at 12:01:07 to finish``."""
    operation = deployed.status.split("_", 1)[0].lower()
    started = deployed.last_change
    when = f" started at {started.strftime('%H:%M:%S')}" if started is not None else ""
    return f"waiting for the {operation}{when} to finish ({deployed.status})"


def normalise_template(template: Any) -> Any:
    """A template as plain data, for comparison: JSON text and dicts alike."""
    if isinstance(template, Mapping):
        return json.loads(json.dumps(template, default=str))
    if isinstance(template, bytes | str):
        text = template.decode() if isinstance(template, bytes) else template
        try:
            return json.loads(text)
        except ValueError:
            import yaml

            from stackyard.blueprints.cfn_yaml import load_cfn_yaml

            try:
                # A template another tool deployed may be YAML with short tags (stacker
                # sends raw templates as written): read them as their long forms.
                return load_cfn_yaml(text)
            except (yaml.YAMLError, ValueError, TypeError):
                return text  # not a template we can read: compared as text
    return template


def same_template(deployed: Any, desired: Any) -> bool:
    """True when two templates (text or data) are the same but for stackyard's digests."""
    from stackyard.template_secrets import without_digests

    same: bool = _comparable(without_digests(normalise_template(deployed))) == _comparable(
        without_digests(normalise_template(desired))
    )
    return same


def _comparable(template: Any) -> Any:
    """``template`` with numbers in ``Mappings`` as text: CloudFormation reads mapping values
    as strings, so ``2`` and ``"2"`` there are the same template (stacker wrote the one,
    stackyard before it followed stacker the other)."""
    if not isinstance(template, Mapping) or not isinstance(template.get("Mappings"), Mapping):
        return template
    return {**template, "Mappings": _numbers_as_text(template["Mappings"])}


def _numbers_as_text(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _numbers_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_text(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _parameter_changes(desired: DesiredStack, deployed: DeployedStack) -> list[str]:
    changed: list[str] = []
    for key, value in sorted(desired.parameters.items()):
        if key not in desired.declared_parameters:
            continue
        if key not in deployed.parameters:
            changed.append(key)
            continue
        current = deployed.parameters[key]
        if key in desired.no_echo and current == MASKED:
            continue  # CloudFormation never shows it; it cannot be compared
        if current != parameter_text(value):
            changed.append(key)
    for key in sorted(set(deployed.parameters) - desired.declared_parameters):
        changed.append(key)
    return changed


def _changed_secrets(desired: DesiredStack, deployed: DeployedStack, template: Any) -> list[str]:
    """NoEcho parameters whose value differs from the deployed one, by the digests the
    templates record (one with no deployed digest cannot be compared: it counts as kept)."""
    from stackyard.template_secrets import digests_of

    old = digests_of(template)
    new = digests_of(normalise_template(desired.template_body))
    return sorted(k for k in desired.no_echo if k in old and k in new and old[k] != new[k])


def compare(
    desired: DesiredStack,
    deployed: DeployedStack,
    *,
    fetch_template: Callable[[], Any],
    fetch_stack_policy: Callable[[], str | None] | None = None,
) -> Action:
    """Update or no change, for a stack ``classify`` left to compare."""
    changes: list[str] = []
    params = _parameter_changes(desired, deployed)
    if params:
        changes.append("parameters: " + ", ".join(params))
    if compared_tags(deployed.tags, desired.tags) != dict(desired.tags):
        changes.append("tags")
    if sorted(deployed.notification_arns) != sorted(desired.notification_arns):
        changes.append("notification ARNs")
    if (deployed.role_arn or None) != (desired.service_role or None):
        changes.append("service role")
    if not changes:
        template = normalise_template(fetch_template())
        if not same_template(template, desired.template_body):
            changes.append("template")
        else:
            secrets = _changed_secrets(desired, deployed, template)
            if secrets:
                changes.append("parameters: " + ", ".join(secrets))
    protection: bool | None = None
    if deployed.termination_protection != desired.termination_protection:
        changes.append("termination protection")
        protection = desired.termination_protection
    set_policy = bool(desired.stack_policy)
    if desired.stack_policy and not changes and fetch_stack_policy is not None:
        current = fetch_stack_policy()
        if current is None or normalise_template(current) != normalise_template(
            desired.stack_policy
        ):
            changes.append("stack policy")
        else:
            set_policy = False
    if not changes:
        return Action(StackAction.NO_CHANGE, "in sync")
    return Action(
        StackAction.UPDATE,
        "changed: " + "; ".join(changes),
        tuple(changes),
        set_termination_protection=protection,
        set_stack_policy=set_policy,
    )
