"""Reading and validating CloudFormation templates (JSON or YAML with short-form tags)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from stackyard import schemas
from stackyard.local.cloudformation.errors import ValidationError
from stackyard.local.cloudformation.schema_check import supports_attribute, unknown_sections

__all__ = ["IAM_NAME_PROPERTIES", "load_template", "required_capabilities", "validate_template"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``!Ref`` and friends into their long ``Fn::`` form."""


def _construct(tag: str) -> Any:
    key = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in (
    "Ref", "Condition", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or",
    "Not", "FindInMap", "ImportValue", "GetAZs", "Base64", "Cidr", "Transform", "ToJsonString",
    "Length",
):  # fmt: skip
    _Loader.add_constructor(f"!{_tag}", _construct(_tag))

# Timestamps and dates stay strings, as CloudFormation reads them.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(body: str) -> dict[str, Any]:
    """Parse a template body, answering malformed input with AWS's format errors."""
    text = body.strip()
    if not text:
        raise ValidationError(
            "Template format error: At least one Resources member must be defined."
        )
    parsed: Any
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "Template format error: JSON not well-formed. "
                f"(line {exc.lineno}, column {exc.colno})"
            ) from exc
    else:
        try:
            parsed = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ValidationError(f"Template format error: YAML not well-formed.{where}") from exc
    if not isinstance(parsed, dict):
        raise ValidationError("Template format error: unsupported structure.")
    return parsed


def _refs_and_getatts(node: Any, refs: set[str], getatts: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                refs.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else value
                if isinstance(target, str):
                    getatts.add(target.split(".", 1)[0])
            else:
                _refs_and_getatts(value, refs, getatts)
    elif isinstance(node, list):
        for item in node:
            _refs_and_getatts(item, refs, getatts)


PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
        "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    }
)  # fmt: skip


def validate_template(template: dict[str, Any], region: str) -> None:
    """Reject what CloudFormation rejects before it starts: structure, types, references."""
    extra = unknown_sections(template)
    if extra:
        raise ValidationError(
            f"Template format error: Invalid template property or properties [{', '.join(extra)}]"
        )
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise ValidationError(
            "Template format error: At least one Resources member must be defined."
        )
    for section in ("Parameters", "Outputs", "Mappings", "Conditions"):
        if section in template and template[section] is None:
            raise ValidationError(f"[/{section}] 'null' values are not allowed in templates")
    unknown: list[str] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise ValidationError(
                f"Template format error: [/Resources/{logical_id}] Every Resources object must "
                "contain a Type member."
            )
        rtype = resource["Type"]
        if not schemas.is_known_type(rtype, region) and rtype not in unknown:
            unknown.append(rtype)
    if unknown:
        raise ValidationError(
            f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]"
        )
    known = set(resources) | set(template.get("Parameters") or {}) | PSEUDO_PARAMETERS
    refs: set[str] = set()
    getatts: set[str] = set()
    _refs_and_getatts(resources, refs, getatts)
    missing = sorted(r for r in refs if r not in known) + sorted(
        g for g in getatts if g not in resources
    )
    if missing:
        raise ValidationError(
            "Template format error: Unresolved resource dependencies "
            f"[{', '.join(dict.fromkeys(missing))}] in the Resources block of the template"
        )
    for resource in resources.values():
        depends = resource.get("DependsOn", [])
        for dep in [depends] if isinstance(depends, str) else depends:
            if dep not in resources:
                raise ValidationError(
                    f"Template format error: Unresolved resource dependencies [{dep}] in the "
                    "Resources block of the template"
                )
        if "Condition" in resource and resource["Condition"] not in (
            template.get("Conditions") or {}
        ):
            raise ValidationError(
                f"Template format error: Unresolved dependencies [{resource['Condition']}]. "
                "Cannot reference resources in the Conditions block of the template"
            )
    _check_attributes(template, region)
    out_refs: set[str] = set()
    out_getatts: set[str] = set()
    _refs_and_getatts(template.get("Outputs") or {}, out_refs, out_getatts)
    out_missing = [r for r in sorted(out_refs) if r not in known] + [
        g for g in sorted(out_getatts) if g not in resources
    ]
    if out_missing:
        raise ValidationError(
            "Template format error: Unresolved resource dependencies "
            f"[{', '.join(out_missing)}] in the Outputs block of the template"
        )


def _getatt_pairs(node: Any, found: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                if isinstance(value, str) and "." in value:
                    logical_id, attribute = value.split(".", 1)
                    found.append((logical_id, attribute))
                elif (
                    isinstance(value, list)
                    and len(value) == 2
                    and all(isinstance(part, str) for part in value)
                ):
                    found.append((value[0], value[1]))
            else:
                _getatt_pairs(value, found)
    elif isinstance(node, list):
        for item in node:
            _getatt_pairs(item, found)


def _check_attributes(template: Mapping[str, Any], region: str) -> None:
    """Refuse ``Fn::GetAtt`` of an attribute the resource's type does not have."""
    resources = template.get("Resources") or {}
    pairs: list[tuple[str, str]] = []
    _getatt_pairs(resources, pairs)
    _getatt_pairs(template.get("Outputs") or {}, pairs)
    for logical_id, attribute in pairs:
        rtype = (resources.get(logical_id) or {}).get("Type")
        if isinstance(rtype, str) and not supports_attribute(rtype, attribute, region):
            raise ValidationError(
                f"Template error: resource {logical_id} does not support attribute type "
                f"{attribute} in Fn::GetAtt"
            )


IAM_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}

_IAM_TYPES = frozenset(
    {
        "AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::InstanceProfile",
        "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User",
        "AWS::IAM::UserToGroupAddition", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    }
)  # fmt: skip


def required_capabilities(template: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The IAM capability the template needs (or None) and the resources that need it."""
    needed: str | None = None
    reasons: list[str] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        rtype = resource.get("Type")
        if rtype not in _IAM_TYPES:
            continue
        reasons.append(logical_id)
        name_property = IAM_NAME_PROPERTIES.get(rtype)
        if name_property and name_property in (resource.get("Properties") or {}):
            needed = "CAPABILITY_NAMED_IAM"
        elif needed is None:
            needed = "CAPABILITY_IAM"
    return needed, reasons
