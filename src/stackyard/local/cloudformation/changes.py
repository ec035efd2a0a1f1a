"""The resource changes a change set lists, computed from two templates and their parameters.

Replacement comes from the resource schemas (:mod:`stackyard.schemas`). Parameter values are
substituted before comparing, so a parameter-only change lists the resources that use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stackyard.local.cloudformation.models import Resource
from stackyard.local.cloudformation.replacement import property_recreation
from stackyard.template_refs import references

__all__ = ["resource_changes"]

_RESOURCE_ATTRIBUTES = ("Metadata", "DeletionPolicy", "UpdatePolicy", "UpdateReplacePolicy")


def _substitute(node: Any, params: Mapping[str, str]) -> Any:
    """``node`` with Ref to parameters and ``${Param}`` in Fn::Sub replaced by values."""
    if isinstance(node, list):
        return [_substitute(item, params) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str) and value in params:
            return params[value]
        if key == "Fn::Sub":
            text, mapping = (value[0], value[1]) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                text = re.sub(
                    r"\$\{([^}!.]+)\}",
                    lambda m: (
                        params[m.group(1)]
                        if m.group(1) in params and m.group(1) not in mapping
                        else m.group(0)
                    ),
                    text,
                )
            return {"Fn::Sub": [text, _substitute(mapping, params)] if mapping else text}
    return {key: _substitute(value, params) for key, value in node.items()}


def _active(template: Mapping[str, Any]) -> dict[str, Any]:
    return dict(template.get("Resources") or {})


def _replacement(recreations: list[str]) -> str:
    if "Always" in recreations:
        return "True"
    if "Conditionally" in recreations:
        return "Conditional"
    return "False"


def resource_changes(
    old_template: Mapping[str, Any],
    old_params: Mapping[str, str],
    old_resources: Mapping[str, Resource],
    new_template: Mapping[str, Any],
    new_params: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The ``Changes`` list of a change set, in AWS's shape."""
    old = _active(old_template)
    new = _active(new_template)
    changed_params = {
        key
        for key in set(old_params) | set(new_params)
        if old_params.get(key) != new_params.get(key)
    }
    changes: list[dict[str, Any]] = []
    replaced: set[str] = set()
    for logical_id, resource in new.items():
        if logical_id not in old:
            changes.append(_change("Add", logical_id, resource["Type"], None, None, [], []))
            continue
        before = old[logical_id]
        physical = old_resources[logical_id].physical_id if logical_id in old_resources else None
        if before.get("Type") != resource.get("Type"):
            changes.append(_change("Add", logical_id, resource["Type"], None, None, [], []))
            changes.append(_change("Remove", logical_id, before["Type"], physical, None, [], []))
            continue
        details, scope, recreations = _details(
            resource["Type"], before, resource, old_params, new_params, changed_params
        )
        if details:
            replacement = _replacement(recreations)
            if replacement != "False":
                replaced.add(logical_id)
            changes.append(
                _change(
                    "Modify", logical_id, resource["Type"], physical, replacement, scope, details
                )
            )
    for logical_id, resource in old.items():
        if logical_id not in new:
            physical = (
                old_resources[logical_id].physical_id if logical_id in old_resources else None
            )
            changes.append(_change("Remove", logical_id, resource["Type"], physical, None, [], []))
    _add_dynamic_changes(changes, replaced, old, new, old_resources)
    return changes


def _details(
    resource_type: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    old_params: Mapping[str, str],
    new_params: Mapping[str, str],
    changed_params: set[str],
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    details: list[dict[str, Any]] = []
    scope: list[str] = []
    recreations: list[str] = []
    old_props = before.get("Properties") or {}
    new_props = after.get("Properties") or {}
    old_values = _substitute(old_props, old_params)
    new_values = _substitute(new_props, new_params)
    for name in sorted(set(old_props) | set(new_props)):
        if old_values.get(name) == new_values.get(name):
            continue
        recreation = property_recreation(resource_type, name, old_values, new_values)
        recreations.append(recreation)
        attribute = "Tags" if name == "Tags" else "Properties"
        if attribute not in scope:
            scope.append(attribute)
        target = {"Attribute": attribute, "RequiresRecreation": recreation}
        if attribute == "Properties":
            target["Name"] = name
        if old_props.get(name) != new_props.get(name):
            details.append(
                {
                    "Target": target,
                    "Evaluation": "Static",
                    "ChangeSource": "DirectModification",
                }
            )
        used = sorted(
            p for p in references(new_props.get(name)) if p in changed_params and p in new_params
        )
        for parameter in used:
            details.append(
                {
                    "Target": dict(target),
                    "Evaluation": "Static",
                    "ChangeSource": "ParameterReference",
                    "CausingEntity": parameter,
                }
            )
    for attribute in _RESOURCE_ATTRIBUTES:
        if before.get(attribute) != after.get(attribute):
            if attribute not in scope:
                scope.append(attribute)
            details.append(
                {
                    "Target": {"Attribute": attribute, "RequiresRecreation": "Never"},
                    "Evaluation": "Static",
                    "ChangeSource": "DirectModification",
                }
            )
    return details, scope, recreations


def _add_dynamic_changes(
    changes: list[dict[str, Any]],
    replaced: set[str],
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    old_resources: Mapping[str, Resource],
) -> None:
    """Resources that refer to a replaced resource may change too (Evaluation Dynamic)."""
    if not replaced:
        return
    listed = {c["ResourceChange"]["LogicalResourceId"]: c for c in changes}
    for logical_id, resource in new.items():
        if logical_id not in old or logical_id in replaced:
            continue
        for name, value in sorted((resource.get("Properties") or {}).items()):
            causes = sorted(references(value) & replaced)
            if not causes:
                continue
            recreation = (
                "Conditionally"
                if property_recreation(resource["Type"], name, {name: 0}, {name: 1}) != "Never"
                else "Never"
            )
            change = listed.get(logical_id)
            if change is None:
                physical = (
                    old_resources[logical_id].physical_id if logical_id in old_resources else None
                )
                change = _change("Modify", logical_id, resource["Type"], physical, "False", [], [])
                changes.append(change)
                listed[logical_id] = change
            body = change["ResourceChange"]
            if "Properties" not in body["Scope"]:
                body["Scope"].append("Properties")
            if recreation == "Conditionally" and body["Replacement"] == "False":
                body["Replacement"] = "Conditional"
            for cause in causes:
                body["Details"].append(
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": name,
                            "RequiresRecreation": recreation,
                        },
                        "Evaluation": "Dynamic",
                        "ChangeSource": "ResourceReference",
                        "CausingEntity": cause,
                    }
                )


def _change(
    action: str,
    logical_id: str,
    resource_type: str,
    physical_id: str | None,
    replacement: str | None,
    scope: list[str],
    details: list[dict[str, Any]],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Scope": scope,
        "Details": details,
    }
    if physical_id:
        body["PhysicalResourceId"] = physical_id
    if replacement is not None:
        body["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": body}
