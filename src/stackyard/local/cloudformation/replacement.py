"""Whether a property change replaces a resource, from the resource schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard import schemas

__all__ = ["MISSING", "property_recreation", "value_at"]

MISSING: Any = object()


def value_at(properties: Mapping[str, Any], path: str) -> Any:
    """The value at a ``A/B/C`` path (``*`` matches every list item), or MISSING."""
    current: Any = properties
    parts = [p for p in path.split("/") if p]
    for index, part in enumerate(parts):
        if part == "*" and isinstance(current, list):
            rest = "/".join(parts[index + 1 :])
            return [value_at(item, rest) if rest else item for item in current]
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def _changed(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> bool:
    return bool(value_at(old, path) != value_at(new, path))


def property_recreation(
    resource_type: str, name: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> str:
    """``Always``, ``Conditionally`` or ``Never``: what changing top-level ``name`` does."""
    for path in schemas.create_only_properties(resource_type):
        if path.split("/", 1)[0] == name and _changed(old, new, path):
            return "Always"
    for path in schemas.conditional_create_only_properties(resource_type):
        if path.split("/", 1)[0] == name and _changed(old, new, path):
            return "Conditionally"
    return "Never"
