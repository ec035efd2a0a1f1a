"""Per-type fixes where moto's CloudFormation models lose or reject what AWS accepts.

Each adapter is small and keyed by resource type: ``before_create`` reshapes properties
into what moto's model expects, ``after_create`` applies settings moto's model drops,
``record`` makes plausible records for types moto cannot provision.
"""

from __future__ import annotations

import json
import random
import string
import types
import uuid
from typing import Any, Protocol

from stackyard.local.cloudformation.errors import ResourceFailure

__all__ = [
    "NAME_PROPERTIES",
    "after_create",
    "before_create",
    "generated_name",
    "get_att",
    "record",
]

NAME_PROPERTIES = {
    "AWS::SSM::Parameter": "Name",
    "AWS::WAFv2::IPSet": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::WAFv2::RegexPatternSet": "Name",
    "AWS::WAFv2::RuleGroup": "Name",
}


class _Context(Protocol):
    account_id: str
    region: str


def _suffix(size: int = 12) -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=size))


def generated_name(resource_type: str, stack_name: str, logical_id: str) -> str | None:
    """AWS's style of generated name for types where moto's differs, else None."""
    if resource_type == "AWS::SSM::Parameter":
        return f"CFN-{logical_id}-{_suffix()}"
    if resource_type.startswith("AWS::WAFv2::"):
        return f"{logical_id}-{_suffix()}"
    return None


def _tag_list(tags: Any) -> Any:
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return tags


def before_create(
    resource_type: str, properties: dict[str, Any], name: str, ctx: _Context
) -> dict[str, Any]:
    """Properties reshaped for moto's model of ``resource_type``."""
    if resource_type == "AWS::KMS::Key":
        policy = properties.get("KeyPolicy")
        if isinstance(policy, dict | list):
            properties["KeyPolicy"] = json.dumps(policy)
        properties.setdefault("KeyPolicy", None)
    elif resource_type == "AWS::SSM::Parameter":
        properties["Name"] = properties.get("Name") or name
        if "Tags" in properties:
            properties["Tags"] = _tag_list(properties["Tags"])
    elif resource_type == "AWS::RDS::DBInstance":
        group = properties.get("DBSubnetGroupName")
        if isinstance(group, str):
            properties["DBSubnetGroupName"] = types.SimpleNamespace(name=group)
        properties["DBSecurityGroups"] = [
            types.SimpleNamespace(name=g) if isinstance(g, str) else g
            for g in properties.get("DBSecurityGroups") or []
        ]
    elif resource_type == "AWS::S3::Bucket":
        _refuse_existing_bucket(name, ctx)
    return properties


def _refuse_existing_bucket(name: str, ctx: _Context) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if name in s3_backends[ctx.account_id][get_partition(ctx.region)].buckets:
        raise ResourceFailure(f"{name} already exists")


def after_create(resource_type: str, model: Any, properties: dict[str, Any], ctx: _Context) -> None:
    """Apply the settings moto's model of ``resource_type`` dropped."""
    if model is None:
        return
    if resource_type == "AWS::ECS::Service":
        model.placement_constraints = [
            {k[0].lower() + k[1:]: v for k, v in item.items()}
            for item in properties.get("PlacementConstraints") or []
        ]
        model.placement_strategy = [
            {k[0].lower() + k[1:]: v for k, v in item.items()}
            for item in properties.get("PlacementStrategies") or []
        ]
        if properties.get("LaunchType"):
            model.launch_type = properties["LaunchType"]
    elif resource_type == "AWS::RDS::DBInstance":
        if "MonitoringInterval" in properties:
            model.monitoring_interval = int(properties["MonitoringInterval"])
        if "MonitoringRoleArn" in properties:
            model.monitoring_role_arn = properties["MonitoringRoleArn"]
    elif resource_type == "AWS::KMS::Key" and properties.get("KeyPolicy") is None:
        model.policy = model.generate_default_policy()


def get_att(resource_type: str, model: Any, attribute: str) -> Any:
    """Attributes moto's models lack, else None."""
    if resource_type == "AWS::KMS::Key" and attribute == "KeyId":
        return model.id
    if resource_type == "AWS::SSM::Parameter" and attribute == "Type":
        return model.type
    if resource_type == "AWS::SSM::Parameter" and attribute == "Value":
        return model.value
    return None


_WAF_KINDS = {
    "AWS::WAFv2::IPSet": "ipset",
    "AWS::WAFv2::WebACL": "webacl",
    "AWS::WAFv2::RegexPatternSet": "regexpatternset",
    "AWS::WAFv2::RuleGroup": "rulegroup",
}


def record(
    resource_type: str, name: str, properties: dict[str, Any], region: str, account_id: str
) -> tuple[str | None, dict[str, Any]]:
    """A physical id and attributes for a recorded resource of a type with a known shape."""
    if resource_type in _WAF_KINDS:
        identifier = str(uuid.uuid4())
        scope = str(properties.get("Scope", "REGIONAL"))
        where = "global" if scope == "CLOUDFRONT" else "regional"
        arn = (
            f"arn:aws:wafv2:{region}:{account_id}:{where}/{_WAF_KINDS[resource_type]}/"
            f"{name}/{identifier}"
        )
        attributes: dict[str, Any] = {"Arn": arn, "Id": identifier}
        if resource_type == "AWS::WAFv2::WebACL":
            attributes["LabelNamespace"] = f"awswaf:{account_id}:webacl:{name}:"
            attributes["Capacity"] = 0
        return f"{name}|{identifier}|{scope}", attributes
    if resource_type == "AWS::WAFv2::WebACLAssociation":
        physical = f"{properties.get('ResourceArn', '')}|{properties.get('WebACLArn', '')}"
        return physical, {}
    return None, {}
