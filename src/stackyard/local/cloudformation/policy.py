"""Stack policies: which update actions on which resources a policy allows."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from stackyard.local.cloudformation.errors import ValidationError

__all__ = ["allows", "parse_policy"]


def parse_policy(body: str) -> dict[str, Any]:
    """Parse and check a stack policy document."""
    try:
        policy = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"Error validating stack policy: Invalid JSON: {exc.msg}") from exc
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        raise ValidationError("Error validating stack policy: Missing required field Statement")
    return policy


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action, p) for p in _as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action, p) for p in _as_list(statement.get("Action", [])))


def _matches_resource(statement: dict[str, Any], logical_id: str) -> bool:
    target = f"LogicalResourceId/{logical_id}"
    if "NotResource" in statement:
        return not any(fnmatch.fnmatchcase(target, p) for p in _as_list(statement["NotResource"]))
    return any(
        p == "*" or fnmatch.fnmatchcase(target, p) for p in _as_list(statement.get("Resource", []))
    )


def _matches_condition(statement: dict[str, Any], resource_type: str) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        patterns = _as_list((tests or {}).get("ResourceType", []))
        if operator == "StringEquals" and resource_type not in patterns:
            return False
        if operator == "StringLike" and not any(
            fnmatch.fnmatchcase(resource_type, p) for p in patterns
        ):
            return False
    return True


def allows(policy: dict[str, Any], action: str, logical_id: str, resource_type: str) -> bool:
    """Whether ``policy`` lets ``action`` (e.g. ``Update:Replace``) touch the resource."""
    allowed = False
    for statement in policy.get("Statement", []):
        if not (
            _matches_action(statement, action)
            and _matches_resource(statement, logical_id)
            and _matches_condition(statement, resource_type)
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
