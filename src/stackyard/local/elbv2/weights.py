"""Weighted forward actions (``ForwardConfig``): AWS's limits, and CloudFormation's shape.

A forward action sends each request to one of up to five target groups, chosen by weight
(0 to 999; a group with weight 0 gets nothing). The limits are checked by the service, not by
the SDK, so the local endpoint refuses what AWS refuses, with AWS's validation text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "MAX_TARGET_GROUPS",
    "MAX_WEIGHT",
    "check_actions",
    "forward_targets",
    "listener_actions_from_template",
]

MAX_WEIGHT = 999
MAX_TARGET_GROUPS = 5


def _data(action: Any) -> Mapping[str, Any]:
    data = getattr(action, "data", action)
    return data if isinstance(data, Mapping) else {}


def _weight(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def forward_targets(action: Any) -> list[tuple[str, int]]:
    """(target group ARN, weight) of a forward action; a single group has weight 1."""
    data = _data(action)
    config = data.get("ForwardConfig") or {}
    groups = config.get("TargetGroups") or []
    if groups:
        found = []
        for group in groups:
            if isinstance(group, Mapping) and group.get("TargetGroupArn"):
                weight = _weight(group.get("Weight"))
                found.append((str(group["TargetGroupArn"]), 1 if weight is None else weight))
        return found
    if data.get("TargetGroupArn"):
        return [(str(data["TargetGroupArn"]), 1)]
    return []


def check_actions(actions: Sequence[Any], field: str) -> None:
    """Refuse weights outside 0 to 999 and more than five target groups, as AWS does.

    ``field`` is the request's name for the list (``defaultActions`` or ``actions``).
    """
    from moto.elbv2.exceptions import ValidationError

    for index, action in enumerate(actions, start=1):
        config = _data(action).get("ForwardConfig") or {}
        groups = list(config.get("TargetGroups") or [])
        where = f"{field}.{index}.member.forwardConfig.targetGroups"
        if len(groups) > MAX_TARGET_GROUPS:
            raise ValidationError(
                f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_TARGET_GROUPS}"
            )
        for position, group in enumerate(groups, start=1):
            raw = group.get("Weight") if isinstance(group, Mapping) else None
            weight = _weight(raw)
            if raw is None:
                continue
            if weight is None:
                raise ValidationError(f"'{raw}' is not a valid target group weight")
            bound = None
            if weight > MAX_WEIGHT:
                bound = f"less than or equal to {MAX_WEIGHT}"
            elif weight < 0:
                bound = "greater than or equal to 0"
            if bound is not None:
                raise ValidationError(
                    f"1 validation error detected: Value '{weight}' at "
                    f"'{where}.{position}.member.weight' failed to satisfy constraint: "
                    f"Member must have value {bound}"
                )


def listener_actions_from_template(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A Listener's ``DefaultActions`` as moto's backend takes them, keeping ``ForwardConfig``
    (moto's own conversion reads only ``TargetGroupArn``)."""
    from moto.elbv2.exceptions import InvalidActionTypeError
    from moto.elbv2.models import ALLOWED_ACTIONS

    actions: list[dict[str, Any]] = []
    for index, action in enumerate(properties.get("DefaultActions") or [], start=1):
        kind = action.get("Type")
        if kind == "forward":
            converted: dict[str, Any] = {"Type": "forward"}
            if action.get("TargetGroupArn"):
                converted["TargetGroupArn"] = action["TargetGroupArn"]
            if action.get("ForwardConfig"):
                converted["ForwardConfig"] = _forward_config(action["ForwardConfig"])
            if "Order" in action:
                converted["Order"] = action["Order"]
            actions.append(converted)
        elif kind in ALLOWED_ACTIONS:
            actions.append(dict(action))
        else:
            raise InvalidActionTypeError(kind, index)
    return actions


def _forward_config(config: Mapping[str, Any]) -> dict[str, Any]:
    groups = []
    for group in config.get("TargetGroups") or []:
        entry = {"TargetGroupArn": group.get("TargetGroupArn")}
        if group.get("Weight") is not None:
            weight = _weight(group["Weight"])
            entry["Weight"] = weight if weight is not None else group["Weight"]
        groups.append(entry)
    converted: dict[str, Any] = {"TargetGroups": groups}
    if config.get("TargetGroupStickinessConfig"):
        converted["TargetGroupStickinessConfig"] = dict(config["TargetGroupStickinessConfig"])
    return converted
