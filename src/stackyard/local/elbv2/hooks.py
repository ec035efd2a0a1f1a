"""Where the local ELBv2 meets moto: wrappers around moto's ELBv2 methods.

- CreateListener, ModifyListener, CreateRule and ModifyRule refuse weights outside 0 to 999 and
  more than five target groups per forward action;
- a CloudFormation Listener keeps ``ForwardConfig`` in its default actions;
- DescribeTargetHealth answers for targets that ECS registered from the task's state;
- ModifyRule leaves a pinned rule's actions as they are (:mod:`~stackyard.local.elbv2.pins`).

Installed once per process; each wrapper calls moto's original.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from stackyard.local.elbv2 import targets, weights
from stackyard.local.elbv2.pins import rule_pins

__all__ = ["install"]

_installed = False


def install() -> None:
    """Install the wrappers (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.elbv2.models import ELBv2Backend, FakeTargetGroup

    for name, field in (
        ("create_listener", "defaultActions"),
        ("modify_listener", "defaultActions"),
        ("create_rule", "actions"),
        ("modify_rule", "actions"),
    ):
        original = getattr(ELBv2Backend, name)
        setattr(ELBv2Backend, name, _checking(original, field))
    ELBv2Backend.modify_rule = _pinnable(ELBv2Backend.modify_rule)  # type: ignore[method-assign]
    ELBv2Backend.convert_and_validate_properties = _template_actions  # type: ignore[method-assign]
    FakeTargetGroup.health_for = _health_for(FakeTargetGroup.health_for)  # type: ignore[method-assign]


def _checking(original: Callable[..., Any], field: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        actions = kwargs.get("actions")
        if actions is None:
            actions = next(
                (a for a in args if isinstance(a, list) and _looks_like_actions(a)), None
            )
        weights.check_actions(actions or [], field)
        return original(self, *args, **kwargs)

    return checked


def _pinnable(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def modify_rule(self: Any, rule_arn: str, conditions: Any, actions: Any) -> Any:
        if rule_pins.is_pinned(rule_arn):
            weights.check_actions(actions or [], "actions")
            found = self.describe_rules(listener_arn=None, rule_arns=[rule_arn])
            return found[0]  # accepted, and left as it was
        return original(self, rule_arn, conditions, actions)

    return modify_rule


def _looks_like_actions(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(item, dict) and "Type" in item for item in value)


def _template_actions(self: Any, properties: dict[str, Any]) -> list[dict[str, Any]]:
    return weights.listener_actions_from_template(properties)


def _health_for(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        found = targets.health_of(self, target)
        return found if found is not None else original(self, target, ec2_backend)

    return health_for
