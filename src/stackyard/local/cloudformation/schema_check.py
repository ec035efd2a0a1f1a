"""What the resource schemas (cfn-lint's copy of CloudFormation's registry) say a template may
use: the template's top-level sections, each type's properties, and its ``Fn::GetAtt``
attributes. Types without a schema (custom resources, transform types) are not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from stackyard import schemas

__all__ = [
    "TEMPLATE_SECTIONS",
    "supports_attribute",
    "unknown_sections",
    "unsupported_properties",
]

TEMPLATE_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
        "Mappings", "Conditions", "Transform", "Resources", "Outputs", "Hooks",
    }
)  # fmt: skip

_UNCHECKED_PREFIXES = ("Custom::", "AWS::Serverless::")
_UNCHECKED_TYPES = frozenset({"AWS::CloudFormation::CustomResource"})


def unknown_sections(template: Mapping[str, Any]) -> list[str]:
    """Top-level keys CloudFormation does not know, in template order."""
    return [key for key in template if key not in TEMPLATE_SECTIONS]


def _checked_schema(resource_type: str, region: str) -> dict[str, Any] | None:
    if resource_type in _UNCHECKED_TYPES or resource_type.startswith(_UNCHECKED_PREFIXES):
        return None
    if resource_type.endswith("::MODULE"):
        return None
    return schemas.schema(resource_type, region)


def unsupported_properties(resource_type: str, properties: Iterable[str], region: str) -> list[str]:
    """Property names the type's schema does not declare (none if the type has no schema)."""
    schema = _checked_schema(resource_type, region)
    if schema is None or schema.get("additionalProperties", False) is not False:
        return []
    declared = schema.get("properties") or {}
    return [name for name in properties if name not in declared]


def supports_attribute(resource_type: str, attribute: str, region: str) -> bool:
    """Whether ``Fn::GetAtt`` of ``attribute`` (``Endpoint.Address`` style) is answered.

    An attribute is a read-only property (or a part of one), or a declared property: some
    types answer those too (a security group's ``VpcId``).
    """
    schema = _checked_schema(resource_type, region)
    if schema is None:
        return True
    if resource_type == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
        return True
    read_only = [p.removeprefix("/properties/") for p in schema.get("readOnlyProperties") or []]
    if not read_only:
        return True
    path = attribute.replace(".", "/")
    if attribute.split(".", 1)[0] in (schema.get("properties") or {}):
        return True
    return any(path == p or path.startswith(f"{p}/") or p.startswith(f"{path}/") for p in read_only)
