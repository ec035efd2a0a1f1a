"""Stack tags on resources: AWS copies a stack's tags, and its own ``aws:cloudformation:*``
tags, onto every resource of the stack that takes tags.

Whether a type takes tags, and in which shape (a list of ``Key``/``Value`` or a map), comes
from its resource schema's ``Tags`` property. Tags the template sets win over stack tags of the
same key; the ``aws:`` ones are always CloudFormation's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard import schemas

__all__ = ["tags_shape", "with_stack_tags"]

# ECS and ELBv2 behaviour belongs to the local ECS/ELBv2 layer, which decides their tags.
_NOT_HERE = ("AWS::ECS::", "AWS::ElasticLoadBalancingV2::")


def tags_shape(resource_type: str) -> str | None:
    """``"list"`` or ``"map"``: how the type's ``Tags`` property is written; None if it has none."""
    schema = schemas.schema(resource_type)
    if schema is None:
        return None
    spec = (schema.get("properties") or {}).get("Tags")
    if not isinstance(spec, dict):
        return None
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        spec = (schema.get("definitions") or {}).get(ref.rsplit("/", 1)[-1]) or {}
    kind = spec.get("type")
    if kind == "array" or "items" in spec:
        return "list"
    if kind == "object" or "patternProperties" in spec or "additionalProperties" in spec:
        return "map"
    return None


def with_stack_tags(
    resource_type: str, properties: Mapping[str, Any], stack_tags: list[dict[str, str]]
) -> dict[str, Any]:
    """``properties`` with the stack's tags merged into ``Tags`` (unchanged if none apply)."""
    shape = None if resource_type.startswith(_NOT_HERE) else tags_shape(resource_type)
    out = dict(properties)
    if shape is None or not stack_tags:
        return out
    given = out.get("Tags")
    if shape == "map" and (given is None or isinstance(given, dict)):
        merged = {tag["Key"]: tag["Value"] for tag in stack_tags}
        merged.update(given or {})
        merged.update({t["Key"]: t["Value"] for t in stack_tags if t["Key"].startswith("aws:")})
        out["Tags"] = merged
    elif shape == "list" and (given is None or isinstance(given, list)):
        own = [tag for tag in given or [] if isinstance(tag, dict)]
        keys = {tag.get("Key") for tag in own}
        extra = [t for t in stack_tags if t["Key"] not in keys or t["Key"].startswith("aws:")]
        out["Tags"] = [t for t in own if not str(t.get("Key", "")).startswith("aws:")] + extra
    return out
