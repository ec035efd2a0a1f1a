"""Drift detection: the live resource, as moto holds it, against the properties the stack set.

Each supported type has a reader that turns the live resource back into template properties
(or None when it is gone). Only properties the template set are compared, as CloudFormation
does; list properties whose order carries no meaning (security group rules) are compared as
sets, and each rule added or removed outside the stack is one ``ADD`` / ``REMOVE`` difference.
Types without a reader are ``NOT_CHECKED``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stackyard.local.cloudformation.models import Resource

__all__ = ["ResourceDrift", "detect", "supported_types"]

Reader = Callable[[str, str, Resource], dict[str, Any] | None]


@dataclass(frozen=True)
class ResourceDrift:
    """One resource's drift: its status, what the stack expects, what is live, and the diffs."""

    status: str  # IN_SYNC | MODIFIED | DELETED | NOT_CHECKED
    expected: dict[str, Any] = field(default_factory=dict)
    actual: dict[str, Any] = field(default_factory=dict)
    differences: list[dict[str, str]] = field(default_factory=list)


# readers ------------------------------------------------------------------------------------


def _ssm_parameter(account_id: str, region: str, resource: Resource) -> dict[str, Any] | None:
    from moto.ssm.models import ssm_backends

    parameter = ssm_backends[account_id][region].get_parameter(resource.physical_id or "")
    if parameter is None:
        return None
    live: dict[str, Any] = {
        "Name": parameter.name,
        "Type": parameter.parameter_type,
        "Value": parameter.value,
        "DataType": parameter.data_type,
    }
    if parameter.description is not None:
        live["Description"] = parameter.description
    if parameter.allowed_pattern is not None:
        live["AllowedPattern"] = parameter.allowed_pattern
    if parameter.tier is not None:
        live["Tier"] = parameter.tier
    return live


_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1", "-1": "-1"}


def _rule(rule: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """A security group rule as (protocol, from port, to port, source), in one spelling."""
    protocol = str(rule.get("IpProtocol", "")).lower()
    protocol = _PROTOCOLS.get(protocol, protocol)
    ports = ("", "") if protocol == "-1" else (str(rule.get("FromPort")), str(rule.get("ToPort")))
    source = str(
        rule.get("CidrIp")
        or rule.get("CidrIpv6")
        or rule.get("SourceSecurityGroupId")
        or rule.get("SourcePrefixListId")
        or rule.get("DestinationSecurityGroupId")
        or ""
    )
    return protocol, ports[0], ports[1], source


def _live_rules(rules: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        item: dict[str, Any] = {"IpProtocol": rule.ip_protocol}
        if rule.from_port is not None:
            item["FromPort"] = rule.from_port
            item["ToPort"] = rule.to_port
        if rule.ip_range.get("CidrIp"):
            item["CidrIp"] = rule.ip_range["CidrIp"]
        if rule.ip_range.get("CidrIpv6"):
            item["CidrIpv6"] = rule.ip_range["CidrIpv6"]
        if rule.source_group.get("GroupId"):
            item["SourceSecurityGroupId"] = rule.source_group["GroupId"]
        if rule.ip_range.get("Description"):
            item["Description"] = rule.ip_range["Description"]
        out.append(item)
    return out


def _security_group(account_id: str, region: str, resource: Resource) -> dict[str, Any] | None:
    from moto.ec2.models import ec2_backends

    group = ec2_backends[account_id][region].get_security_group_from_id(resource.physical_id or "")
    if group is None:
        return None
    live: dict[str, Any] = {
        "GroupDescription": group.description,
        "SecurityGroupIngress": _live_rules(group.ingress_rules),
        "SecurityGroupEgress": _live_rules(group.egress_rules),
    }
    if group.vpc_id:
        live["VpcId"] = group.vpc_id
    return live


def _role(account_id: str, region: str, resource: Resource) -> dict[str, Any] | None:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region)]
    try:
        role = backend.get_role(resource.physical_id or "")
    except Exception:  # moto raises IAMNotFoundException
        return None
    document = role.assume_role_policy_document
    if isinstance(document, str):
        with contextlib.suppress(ValueError):
            document = json.loads(document)
    live: dict[str, Any] = {
        "AssumeRolePolicyDocument": document,
        "Path": role.path,
        "ManagedPolicyArns": sorted(role.managed_policies),
    }
    if role.description is not None:
        live["Description"] = role.description
    if role.max_session_duration is not None:
        live["MaxSessionDuration"] = role.max_session_duration
    return live


_QUEUE_ATTRIBUTES = {
    "DelaySeconds": "delay_seconds",
    "MaximumMessageSize": "maximum_message_size",
    "MessageRetentionPeriod": "message_retention_period",
    "ReceiveMessageWaitTimeSeconds": "receive_message_wait_time_seconds",
    "VisibilityTimeout": "visibility_timeout",
}


def _queue(account_id: str, region: str, resource: Resource) -> dict[str, Any] | None:
    from moto.sqs.models import sqs_backends

    name = (resource.physical_id or "").rstrip("/").rsplit("/", 1)[-1]
    try:
        queue = sqs_backends[account_id][region].get_queue(name)
    except Exception:  # moto raises QueueDoesNotExist
        return None
    return {
        prop: getattr(queue, attribute)
        for prop, attribute in _QUEUE_ATTRIBUTES.items()
        if getattr(queue, attribute, None) is not None
    }


_READERS: dict[str, Reader] = {
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::IAM::Role": _role,
    "AWS::SQS::Queue": _queue,
}
# What an unset property means, where something can be added to it outside the stack.
_DEFAULTS: dict[str, dict[str, Any]] = {"AWS::EC2::SecurityGroup": {"SecurityGroupIngress": []}}
_RULE_LISTS = frozenset({"SecurityGroupIngress", "SecurityGroupEgress"})
_UNORDERED = frozenset({"ManagedPolicyArns"})
_IGNORED = frozenset({"Tags"})  # compared by the tagging APIs, not here


def supported_types() -> frozenset[str]:
    """Types whose drift is detected."""
    return frozenset(_READERS)


# comparison ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rule_differences(
    name: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> list[dict[str, str]]:
    differences: list[dict[str, str]] = []
    wanted = {_rule(rule) for rule in expected}
    have = {_rule(rule) for rule in actual}
    for index, rule in enumerate(actual):
        if _rule(rule) not in wanted:
            differences.append(
                {
                    "PropertyPath": f"/{name}/{index}",
                    "ExpectedValue": "null",
                    "ActualValue": _text(rule),
                    "DifferenceType": "ADD",
                }
            )
    for index, rule in enumerate(expected):
        if _rule(rule) not in have:
            differences.append(
                {
                    "PropertyPath": f"/{name}/{index}",
                    "ExpectedValue": _text(rule),
                    "ActualValue": "null",
                    "DifferenceType": "REMOVE",
                }
            )
    return differences


def _differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[dict[str, str]]:
    differences: list[dict[str, str]] = []
    for name, want in expected.items():
        if name in _IGNORED:
            continue
        have = actual.get(name)
        if name in _RULE_LISTS:
            rules = want if isinstance(want, list) else []
            differences += _rule_differences(name, rules, have if isinstance(have, list) else [])
        elif name in _UNORDERED and isinstance(want, list) and isinstance(have, list):
            if sorted(map(_text, want)) != sorted(map(_text, have)):
                differences.append(
                    {
                        "PropertyPath": f"/{name}",
                        "ExpectedValue": _text(sorted(want)),
                        "ActualValue": _text(sorted(have)),
                        "DifferenceType": "NOT_EQUAL",
                    }
                )
        elif have is None:
            differences.append(
                {
                    "PropertyPath": f"/{name}",
                    "ExpectedValue": _text(want),
                    "ActualValue": "null",
                    "DifferenceType": "REMOVE",
                }
            )
        elif _text(want) != _text(have):
            differences.append(
                {
                    "PropertyPath": f"/{name}",
                    "ExpectedValue": _text(want),
                    "ActualValue": _text(have),
                    "DifferenceType": "NOT_EQUAL",
                }
            )
    return differences


def detect(account_id: str, region: str, resource: Resource) -> ResourceDrift:
    """The drift of one resource (call with the endpoint's lock held)."""
    reader = _READERS.get(resource.type)
    if reader is None or not resource.provisioned:
        return ResourceDrift("NOT_CHECKED")
    expected = {**_DEFAULTS.get(resource.type, {}), **resource.properties}
    live = reader(account_id, region, resource)
    if live is None:
        return ResourceDrift("DELETED", expected)
    # only what the template set is compared, so defaults the service filled in do not drift
    actual = {name: live[name] for name in expected if name in live}
    differences = _differences(expected, live)
    return ResourceDrift("MODIFIED" if differences else "IN_SYNC", expected, actual, differences)
