"""What CloudFormation is sent for one stack: parameters, tags, template and settings.

Shared by the engine (CreateStack and update change sets) and the planner's
``--change-sets`` cross-check, so both send exactly the same thing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from stackyard.desired import DesiredStack, parameter_text

if TYPE_CHECKING:
    from stackyard.aws.cloudformation import DeployedStack, StackSubmission
    from stackyard.aws.session import Location
    from stackyard.aws.template_store import TemplateStore

__all__ = [
    "OWNER_TAG",
    "OWN_TAG_PREFIX",
    "PROTECTION_TAG",
    "STACK_TAG",
    "TOOL_TAGS",
    "compared_tags",
    "protection_from_tag",
    "protection_tag",
    "stack_submission",
    "submitted_parameters",
    "submitted_tags",
]

# Tags stackyard puts on stacks; never compared with the config's tags.
OWN_TAG_PREFIX = "stackyard:"
OWNER_TAG = "stackyard:namespace"
# The stack's name in the config, so a stack the config no longer names can be found
# and pruned under the name it had.
STACK_TAG = "stackyard:stack"
# The protection a stack was deployed under (see ``plan.protection.protection_tag``).
PROTECTION_TAG = "stackyard:protected"
# Tags other tools put on the stacks they deploy, unless the config sets tags: stacker 1.7
# tags every stack ``stacker_namespace: <namespace>`` when the config has no ``tags``. A
# stack it deployed keeps the tag, and it is not a difference, unless the config names it.
TOOL_TAGS = frozenset({"stacker_namespace"})


def compared_tags(deployed: Mapping[str, str], desired: Mapping[str, str]) -> dict[str, str]:
    """The deployed tags the config's are compared with: not stackyard's own, and not
    another tool's that the config does not name."""
    return {
        k: v
        for k, v in deployed.items()
        if not k.startswith(OWN_TAG_PREFIX) and (k not in TOOL_TAGS or k in desired)
    }


def submitted_parameters(
    desired: DesiredStack, deployed: DeployedStack | None
) -> tuple[tuple[str, str | None], ...]:
    """Parameters to send: config values, else ``UsePreviousValue`` (None) where the stack has
    the parameter, else nothing (the template's default applies)."""
    out: list[tuple[str, str | None]] = []
    for key in sorted(desired.declared_parameters):
        if key in desired.parameters:
            out.append((key, parameter_text(desired.parameters[key])))
        elif deployed is not None and key in deployed.parameters:
            out.append((key, None))
    return tuple(out)


def submitted_tags(
    desired: DesiredStack,
    deployed: DeployedStack | None,
    namespace: str,
    protection: str | None = None,
) -> dict[str, str]:
    """The config's tags plus stackyard's own: the owner and stack-name tags (added on
    create, kept on update) and the protection the stack is deployed under
    (``protection``; None removes it). Another tool's tags (``TOOL_TAGS``) are kept on
    update unless the config sets them."""
    tags = dict(desired.tags)
    if deployed is None:
        tags[OWNER_TAG] = namespace or "-"
        tags[STACK_TAG] = desired.name
    else:
        tags.update(
            {
                k: v
                for k, v in deployed.tags.items()
                if k.startswith(OWN_TAG_PREFIX) or (k in TOOL_TAGS and k not in tags)
            }
        )
    tags.pop(PROTECTION_TAG, None)
    if protection is not None:
        tags[PROTECTION_TAG] = protection
    return tags


def stack_submission(
    desired: DesiredStack,
    deployed: DeployedStack | None,
    location: Location,
    store: TemplateStore,
    *,
    namespace: str,
    protection: str | None = None,
    stack_policy: str | None = None,
) -> StackSubmission:
    """Everything CreateStack, UpdateStack or CreateChangeSet takes for ``desired``; a template
    over the inline limit is stored in the template bucket first (a write, said by the
    caller). For an existing stack, ``stack_policy`` is the policy to set with the update
    (None: leave it as it is)."""
    from stackyard.aws.cloudformation import StackSubmission

    body, url = store.template_location(desired.fqn, desired.template_body)
    return StackSubmission(
        fqn=desired.fqn,
        location=location,
        template_body=body,
        template_url=url,
        parameters=submitted_parameters(desired, deployed),
        tags=submitted_tags(desired, deployed, namespace, protection),
        capabilities=desired.capabilities,
        notification_arns=desired.notification_arns,
        role_arn=desired.service_role,
        termination_protection=desired.termination_protection,
        stack_policy=stack_policy if deployed is not None else desired.stack_policy,
    )


def protection_tag(protected: bool | Sequence[str]) -> str | None:
    """The value of the ``stackyard:protected`` stack tag for a setting (None: no tag).

    Tag values propagate to resources, and IAM allows few characters in them, so rules are
    written as URL-safe base64 of their JSON.
    """
    if protected is True:
        return "true"
    if not protected:
        return None
    text = json.dumps(list(protected), separators=(",", ":"))
    return "rules:" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def protection_from_tag(value: str | None) -> bool | tuple[str, ...]:
    """Read back what :func:`protection_tag` wrote; anything unreadable counts as protected."""
    if not value:
        return False
    if value == "true":
        return True
    if value.startswith("rules:"):
        data = value[len("rules:") :]
        try:
            rules = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except ValueError:
            return True
        if isinstance(rules, list) and all(isinstance(r, str) for r in rules):
            return tuple(rules)
    return True
