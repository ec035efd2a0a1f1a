"""The pre-flight check: a rendered template against CloudFormation's resource schemas.

Runs on every render, before any AWS call, so that ``diff``, ``plan``, ``build`` and
``validate`` all refuse a misspelt resource type, property, ``Fn::GetAtt`` attribute or
top-level section instead of leaving it to CloudFormation's rollback. It asks the schemas
(:mod:`stackyard.schemas`) only: no per-type code, and none of cfn-lint's rule engine,
which is too slow for the hot path.

Type checks are deliberately lenient where CloudFormation is: a number or boolean passes
for a string, ``"5"`` for an integer and ``"true"`` for a boolean. Intrinsic functions and
values known only after apply are not checked. Findings carry a stable ``code``; where in
the template is a path of keys, ``("Resources", "Topic", "Properties", "TopicNme")``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard import schemas

__all__ = ["SECTIONS", "TemplateFinding", "check_template"]

#: Top-level sections of a CloudFormation template.
SECTIONS = (
    "AWSTemplateFormatVersion",
    "Conditions",
    "Description",
    "Hooks",
    "Mappings",
    "Metadata",
    "Outputs",
    "Parameters",
    "Resources",
    "Rules",
    "Transform",
)

#: Keys a resource may have besides Type and Properties.
RESOURCE_KEYS = (
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "Metadata",
    "Properties",
    "Type",
    "UpdatePolicy",
    "UpdateReplacePolicy",
    "Version",
)

_UNKNOWN_MARK = "(known after apply"
# Nested schemas deeper than this are not walked: no real property nests that far.
_MAX_DEPTH = 30

TemplatePath = tuple[str | int, ...]


@dataclass(frozen=True)
class TemplateFinding:
    """One problem in a template: a stable code, where, what, and a hint."""

    code: str
    path: TemplatePath
    message: str
    hint: str | None = None
    severity: str = "error"

    @property
    def logical_id(self) -> str | None:
        """The resource, output or parameter the finding is about, if any."""
        return str(self.path[1]) if len(self.path) > 1 else None

    @property
    def is_error(self) -> bool:
        """Errors block the stack; warnings are only shown."""
        return self.severity == "error"

    def where(self) -> str:
        """The path as ``Resources.Topic.Properties.Tags[0].Key``."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out


def check_template(template: Mapping[str, Any], region: str | None = None) -> list[TemplateFinding]:
    """Every schema finding in ``template`` (a parsed template) for ``region``."""
    region = region or schemas.DEFAULT_REGION
    findings = list(_sections(template))
    resources = template.get("Resources")
    if not isinstance(resources, Mapping):
        return findings
    transformed = "Transform" in template
    types: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            findings.append(
                TemplateFinding(
                    "resource-type-missing",
                    ("Resources", logical_id),
                    f"resource {logical_id!r} has no Type",
                    "give it a Type such as AWS::SQS::Queue",
                )
            )
            continue
        types[logical_id] = resource["Type"]
        findings.extend(_resource(logical_id, resource, region, transformed))
    if not transformed:
        findings.extend(_getatts(template, types))
    return findings


def _suggest(name: str, known: Any) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _sections(template: Mapping[str, Any]) -> Iterator[TemplateFinding]:
    for key in template:
        if key not in SECTIONS:
            yield TemplateFinding(
                "unknown-section",
                (str(key),),
                f"unknown top-level section {key!r}",
                _suggest(str(key), SECTIONS) or f"sections are: {', '.join(SECTIONS)}",
            )


def _is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type in (
        "AWS::CloudFormation::CustomResource",
    )


def _resource(
    logical_id: str, resource: Mapping[str, Any], region: str, transformed: bool
) -> Iterator[TemplateFinding]:
    resource_type: str = resource["Type"]
    here: TemplatePath = ("Resources", logical_id)
    for key in resource:
        if key not in RESOURCE_KEYS:
            yield TemplateFinding(
                "unknown-resource-key",
                (*here, key),
                f"unknown key {key!r} in resource {logical_id!r}",
                _suggest(key, RESOURCE_KEYS),
            )
    if _is_custom(resource_type) or (transformed and not resource_type.startswith("AWS::")):
        return
    if transformed and resource_type.startswith("AWS::Serverless::"):
        return
    found = schemas.schema(resource_type, region)
    if found is None:
        yield TemplateFinding(
            "unknown-type",
            (*here, "Type"),
            f"unknown resource type {resource_type!r}",
            _suggest(resource_type, schemas.resource_types(region)),
        )
        return
    if resource_type not in schemas.resource_types(region):
        yield TemplateFinding(
            "type-not-in-region",
            (*here, "Type"),
            f"{resource_type} is not offered in {region}",
            severity="warning",
        )
    properties = resource.get("Properties")
    # A macro may rewrite the properties before CloudFormation reads them.
    if transformed or properties is None or _is_intrinsic(properties):
        return
    node = {
        "type": "object",
        "properties": found.get("properties", {}),
        "additionalProperties": False,
    }
    yield from _value(properties, node, found, (*here, "Properties"), resource_type, 0)


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition")


def _resolve(node: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        target = schema.get("definitions", {}).get(ref.rsplit("/", 1)[1])
        if isinstance(target, Mapping):
            return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _fits(value: Any, expected: str) -> bool:
    kind = _kind(value)
    if expected in ("object", "array"):
        return kind == expected
    if kind in ("object", "array"):
        return False
    if expected == "boolean":
        return kind == "boolean" or str(value).lower() in ("true", "false")
    if expected in ("integer", "number"):
        if kind == "number":
            return True
        try:
            float(str(value))
        except ValueError:
            return False
        return True
    return True  # a string: CloudFormation takes numbers and booleans as their text


def _value(
    value: Any,
    node: Mapping[str, Any],
    schema: Mapping[str, Any],
    path: TemplatePath,
    resource_type: str,
    depth: int,
) -> Iterator[TemplateFinding]:
    if depth > _MAX_DEPTH or _is_intrinsic(value):
        return
    if isinstance(value, str) and value.startswith(_UNKNOWN_MARK):
        return
    node = _resolve(node, schema)
    if any(key in node for key in ("oneOf", "anyOf", "allOf")):
        return
    expected = node.get("type")
    allowed = [expected] if isinstance(expected, str) else list(expected or [])
    if allowed and not any(_fits(value, kind) for kind in allowed):
        yield TemplateFinding(
            "wrong-type",
            path,
            f"{_label(path)} of {resource_type} must be {' or '.join(allowed)}, not {_kind(value)}",
        )
        return
    if isinstance(value, Mapping):
        yield from _object(value, node, schema, path, resource_type, depth)
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _value(item, node["items"], schema, (*path, index), resource_type, depth + 1)


def _object(
    value: Mapping[str, Any],
    node: Mapping[str, Any],
    schema: Mapping[str, Any],
    path: TemplatePath,
    resource_type: str,
    depth: int,
) -> Iterator[TemplateFinding]:
    properties = node.get("properties")
    if not isinstance(properties, Mapping) or "Fn::Transform" in value:
        return
    closed = node.get("additionalProperties") is False and "patternProperties" not in node
    for key, item in value.items():
        if key in properties:
            yield from _value(item, properties[key], schema, (*path, key), resource_type, depth + 1)
        elif closed and key != "Fn::If":
            where = "" if len(path) == 3 else f" in {_label(path)}"
            yield TemplateFinding(
                "unknown-property",
                (*path, key),
                f"unknown property {key!r}{where} of {resource_type}",
                _suggest(str(key), properties)
                or f"{resource_type} takes: {', '.join(sorted(properties))}",
            )


def _label(path: TemplatePath) -> str:
    inner = path[3:] if len(path) > 3 else path[-1:]
    out = ""
    for part in inner:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _getatts(template: Mapping[str, Any], types: Mapping[str, str]) -> Iterator[TemplateFinding]:
    for path, target, attribute in _getatt_uses(template, ()):
        resource_type = types.get(target)
        if resource_type is None:
            yield TemplateFinding(
                "getatt-unknown-resource",
                path,
                f"Fn::GetAtt names {target!r}, which is not a resource of this template",
                _suggest(target, types),
            )
            continue
        attributes = _attributes(resource_type)
        if attributes is None or attribute in attributes:
            continue
        yield TemplateFinding(
            "getatt-unknown-attribute",
            path,
            f"{resource_type} has no attribute {attribute!r} for Fn::GetAtt",
            _suggest(attribute, attributes)
            or f"its attributes: {', '.join(sorted(attributes)) or 'none'}",
        )


def _getatt_uses(value: Any, path: TemplatePath) -> Iterator[tuple[TemplatePath, str, str]]:
    stack: list[tuple[Any, TemplatePath]] = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, Mapping):
            getatt = current.get("Fn::GetAtt") if len(current) == 1 else None
            if getatt is not None:
                pair = getatt.split(".", 1) if isinstance(getatt, str) else getatt
                if (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(p, str) for p in pair)
                ):
                    yield (*where, "Fn::GetAtt"), pair[0], pair[1]
                continue
            stack.extend((v, (*where, k)) for k, v in current.items())
        elif isinstance(current, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(current))


def _attributes(resource_type: str) -> frozenset[str] | None:
    """The ``Fn::GetAtt`` attributes of a type; None when they cannot be known."""
    if _is_custom(resource_type) or resource_type == "AWS::CloudFormation::Stack":
        return None
    found = schemas.schema(resource_type)
    if found is None:
        return None
    names = set(found.get("properties", {}))
    for pointer in found.get("readOnlyProperties", ()):
        parts = [p for p in pointer.removeprefix("/properties/").split("/") if p != "*"]
        names.add(".".join(parts))
    return frozenset(names)
