"""Least-privilege IAM roles: one ECS task role per service, and EMR's two roles.

``iam.EcsTaskRoles`` makes one role per service, each with only what its entry
grants: IAM statements, managed policy ARNs and the SSM parameter paths it may
read (``Secrets``; reading them also grants ``kms:Decrypt`` on the secrets key,
and only through SSM)::

    Services:
      web:
        Secrets: [/ops-stage/web/*]
        ManagedPolicyArns: [arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess]
        Statements:
          - Action: [s3:GetObject]
            Resource: arn:aws:s3:::ops-stage-assets/*
      worker:
        Secrets: [/ops-stage/worker/*]

``iam.EmrRoles`` makes the EMR service role and the EC2 role (with its
instance profile). Their actions are a strict subset of AWS's default EMR roles
(``AmazonElasticMapReduceRole`` and ``AmazonElasticMapReduceforEC2Role``, kept
in ``data/emr_default_roles.json``), and what they may touch is scoped: EC2
resources by a tag (``ScopeTagKey``/``ScopeTagValue``), S3 to the named
buckets, ``iam:PassRole`` to the EC2 role alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from troposphere import GetAtt, Ref, Sub, iam

from stackyard.blueprints.base import Blueprint
from stackyard.errors import VariableError

__all__ = [
    "EcsTaskRoles",
    "EmrRoles",
    "default_emr_actions",
    "policy_actions",
    "secrets_policy",
]

_SERVICE_KEYS = {"Statements", "ManagedPolicyArns", "Secrets"}
_DATA = Path(__file__).parent / "data"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,30}$")


def default_emr_actions(policy: str) -> list[str]:
    """The documented actions of an AWS default EMR policy (see ``data/``)."""
    data = json.loads(_DATA.joinpath("emr_default_roles.json").read_text(encoding="utf-8"))
    actions: list[str] = data["policies"][policy]["actions"]
    return actions


def policy_actions(document: Mapping[str, Any]) -> set[str]:
    """Every action an IAM policy document's ``Allow`` statements name."""
    found: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def secrets_policy(
    paths: Sequence[str], key_arn: Any, namespace: str | None, *, stack: str, key: str = "Secrets"
) -> Any:
    """An inline ``iam.Policy`` letting a role read the secrets under ``paths``, or None.

    The statements come from :func:`stackyard.secrets.policy.secret_read_policy`
    (``ssm:GetParameter(s)`` on exactly those paths, listing only under prefix
    patterns, ``kms:Decrypt`` on the secrets key only through SSM and only for
    those parameters), and the policy carries the name the secrets audit reads
    (``SECRETS_POLICY_NAME``), so roles and ``stackyard secrets`` agree.
    """
    if not paths:
        return None
    from stackyard.secrets.paths import SecretPathError
    from stackyard.secrets.policy import SECRETS_POLICY_NAME, secret_read_policy

    try:
        if not all(isinstance(p, str) for p in paths):
            raise SecretPathError("secrets must be a list of path strings")
        document = secret_read_policy(
            list(paths),
            key_arn,
            "${AWS::Region}",
            "${AWS::AccountId}",
            namespace,
            partition="${AWS::Partition}",
        )
    except SecretPathError as exc:
        raise VariableError(
            f"variable {key!r}: {exc.message}", key=key, stack=stack, hint=exc.hint
        ) from exc
    return iam.Policy(PolicyName=SECRETS_POLICY_NAME, PolicyDocument=document)


def _assume_role(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def _logical(name: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", name) if p)


def _statement(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    allowed = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
    extra = set(raw) - allowed
    if extra:
        raise ValueError(f"{where}: unknown statement keys {sorted(extra)}")
    if "Action" not in raw or "Resource" not in raw:
        raise ValueError(f"{where}: a statement needs Action and Resource")
    actions = [raw["Action"]] if isinstance(raw["Action"], str) else list(raw["Action"])
    if any(a == "*" or a.endswith(":*") for a in actions):
        raise ValueError(f"{where}: wildcard actions ({actions}) are not least privilege")
    statement = {"Effect": raw.get("Effect", "Allow"), **dict(raw)}
    statement["Action"] = actions
    return statement


def _policy(statements: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


class EcsTaskRoles(Blueprint):
    """One ECS task role per service, trusting only ECS tasks of this account."""

    VARIABLES = {
        "Services": {
            "type": dict,
            "description": "Service name to {Statements, ManagedPolicyArns, Secrets}.",
        },
        "Secrets": {
            "type": list,
            "default": [],
            "description": "SSM parameter paths every service may read (e.g. /ops-stage/shared/*).",
        },
        "SecretsKeyArn": {
            "type": str,
            "default": "",
            "description": "ARN of the KMS key that encrypts the secrets (kms:Decrypt via SSM).",
        },
        "PermissionsBoundaryArn": {
            "type": str,
            "default": "",
            "description": "Managed policy ARN set as every role's permissions boundary.",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        services: Mapping[str, Any] = v["Services"]
        if not services:
            raise ValueError("Services: name at least one service")
        t.set_description(f"ECS task roles: {', '.join(sorted(services))}")
        trust = _assume_role(
            "ecs-tasks.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                "ArnLike": {
                    "aws:SourceArn": Sub(
                        "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"
                    )
                },
            },
        )
        for service, raw in sorted(services.items()):
            if not _NAME.match(str(service)):
                raise ValueError(
                    f"Services: {service!r} is not a service name (letters, digits, -)"
                )
            spec: Mapping[str, Any] = raw or {}
            extra = set(spec) - _SERVICE_KEYS
            if extra:
                raise ValueError(f"Services.{service}: unknown keys {sorted(extra)}")
            statements = [
                _statement(s, f"Services.{service}.Statements[{i}]")
                for i, s in enumerate(spec.get("Statements") or [])
            ]
            secrets = [*v["Secrets"], *(spec.get("Secrets") or [])]
            secrets_access = secrets_policy(
                secrets,
                v["SecretsKeyArn"],
                self.context.namespace or None,
                stack=self.name,
                key=f"Services.{service}.Secrets",
            )
            props: dict[str, Any] = {
                "AssumeRolePolicyDocument": trust,
                "Description": f"ECS task role of {service}",
                "Path": "/",
                "Tags": [{"Key": "service", "Value": service}],
            }
            policies = [secrets_access] if secrets_access else []
            if statements:
                policies.insert(
                    0, iam.Policy(PolicyName=f"{service}-task", PolicyDocument=_policy(statements))
                )
            if policies:
                props["Policies"] = policies
            if spec.get("ManagedPolicyArns"):
                props["ManagedPolicyArns"] = list(spec["ManagedPolicyArns"])
            if v["PermissionsBoundaryArn"]:
                props["PermissionsBoundary"] = v["PermissionsBoundaryArn"]
            role = t.add_resource(iam.Role(f"{_logical(service)}TaskRole", **props))
            self.add_output(f"{_logical(service)}TaskRoleArn", GetAtt(role, "Arn"))
            self.add_output(f"{_logical(service)}TaskRoleName", Ref(role))


_EC2_DESCRIBE = [
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSpotInstanceRequests",
    "ec2:DescribeSpotPriceHistory",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
]

_EC2_LAUNCH = ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"]

_EC2_MANAGE_TAGGED = [
    "ec2:TerminateInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:CancelSpotInstanceRequests",
    "ec2:DeleteLaunchTemplate",
    "ec2:DeleteNetworkInterface",
    "ec2:DetachNetworkInterface",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupEgress",
]


def _ec2_arn(kind: str) -> Any:
    return Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:" + kind + "/*")


def _bucket_arns(buckets: Sequence[str], objects: bool) -> list[Any]:
    arns: list[Any] = []
    for bucket in buckets:
        arns.append(Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}"))
        if objects:
            arns.append(Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/*"))
    return arns


class EmrRoles(Blueprint):
    """EMR's service role and EC2 role + instance profile, scoped down from AWS's defaults."""

    VARIABLES = {
        "NamePrefix": {
            "type": str,
            "default": "",
            "description": "Prefix of the role names; the stack's fully qualified name if empty.",
        },
        "ScopeTagKey": {
            "type": str,
            "default": "for-use-with-amazon-emr-managed-policies",
            "description": "Tag the EC2 resources EMR may use or manage must carry.",
        },
        "ScopeTagValue": {
            "type": str,
            "default": "true",
            "description": "Value of that tag.",
        },
        "LogBucket": {
            "type": str,
            "description": "S3 bucket that receives cluster logs (the only bucket EMR reads).",
        },
        "DataBuckets": {
            "type": list,
            "default": [],
            "description": "S3 buckets the cluster's instances may read and write.",
        },
        "Secrets": {
            "type": list,
            "default": [],
            "description": "SSM parameter paths the cluster's instances may read.",
        },
        "SecretsKeyArn": {
            "type": str,
            "default": "",
            "description": "ARN of the KMS key that encrypts those secrets.",
        },
    }

    def service_policy(self) -> dict[str, Any]:
        """The EMR service role's policy document."""
        v = self.get_variables()
        tagged = {"StringEquals": {f"aws:ResourceTag/{v['ScopeTagKey']}": v["ScopeTagValue"]}}
        tagging = {"StringEquals": {f"aws:RequestTag/{v['ScopeTagKey']}": v["ScopeTagValue"]}}
        return _policy(
            [
                {"Sid": "Describe", "Effect": "Allow", "Action": _EC2_DESCRIBE, "Resource": "*"},
                {
                    "Sid": "LaunchInTaggedNetwork",
                    "Effect": "Allow",
                    "Action": [*_EC2_LAUNCH, "ec2:CreateNetworkInterface"],
                    "Resource": [_ec2_arn("subnet"), _ec2_arn("security-group")],
                    "Condition": tagged,
                },
                {
                    "Sid": "LaunchTaggedResources",
                    "Effect": "Allow",
                    "Action": [*_EC2_LAUNCH, "ec2:CreateNetworkInterface"],
                    "Resource": [
                        _ec2_arn(kind)
                        for kind in (
                            "instance",
                            "volume",
                            "network-interface",
                            "launch-template",
                            "fleet",
                            "spot-instances-request",
                        )
                    ],
                    "Condition": tagging,
                },
                {
                    "Sid": "LaunchFromImages",
                    "Effect": "Allow",
                    "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                    "Resource": [
                        Sub("arn:${AWS::Partition}:ec2:${AWS::Region}::image/*"),
                        Sub("arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*"),
                    ],
                },
                {
                    "Sid": "TagOnCreate",
                    "Effect": "Allow",
                    "Action": ["ec2:CreateTags"],
                    "Resource": Sub(
                        "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*"
                    ),
                    "Condition": {
                        "StringEquals": {
                            "ec2:CreateAction": [
                                "RunInstances",
                                "CreateFleet",
                                "CreateLaunchTemplate",
                                "CreateNetworkInterface",
                            ]
                        }
                    },
                },
                {
                    "Sid": "ManageTagged",
                    "Effect": "Allow",
                    "Action": _EC2_MANAGE_TAGGED,
                    "Resource": Sub(
                        "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*"
                    ),
                    "Condition": tagged,
                },
                {
                    "Sid": "PassInstanceRole",
                    "Effect": "Allow",
                    "Action": ["iam:PassRole"],
                    "Resource": GetAtt("InstanceRole", "Arn"),
                    "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                },
                {
                    "Sid": "ReadLogBucket",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
                    "Resource": _bucket_arns([v["LogBucket"]], objects=True),
                },
            ]
        )

    def instance_policy(self) -> dict[str, Any]:
        """The EC2 role's policy document."""
        v = self.get_variables()
        statements: list[dict[str, Any]] = [
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
                "Resource": _bucket_arns([v["LogBucket"]], objects=True),
            },
            {
                "Sid": "DescribeOwnCluster",
                "Effect": "Allow",
                "Action": [
                    "elasticmapreduce:DescribeCluster",
                    "elasticmapreduce:ListBootstrapActions",
                    "elasticmapreduce:ListInstanceGroups",
                    "elasticmapreduce:ListInstances",
                    "elasticmapreduce:ListSteps",
                ],
                "Resource": Sub(
                    "arn:${AWS::Partition}:elasticmapreduce:${AWS::Region}:${AWS::AccountId}"
                    ":cluster/*"
                ),
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{v['ScopeTagKey']}": v["ScopeTagValue"]}
                },
            },
            {
                "Sid": "Metrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": "*",
            },
            {
                "Sid": "DescribeTags",
                "Effect": "Allow",
                "Action": ["ec2:DescribeTags"],
                "Resource": "*",
            },
        ]
        if v["DataBuckets"]:
            statements.append(
                {
                    "Sid": "ReadWriteData",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:ListBucket",
                        "s3:GetBucketLocation",
                    ],
                    "Resource": _bucket_arns(v["DataBuckets"], objects=True),
                }
            )
        return _policy(statements)

    def _secrets_policies(self) -> list[Any]:
        v = self.get_variables()
        policy = secrets_policy(
            v["Secrets"], v["SecretsKeyArn"], self.context.namespace or None, stack=self.name
        )
        return [policy] if policy else []

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        prefix = v["NamePrefix"] or self.context.get_fqn(self.name)
        t.set_description(f"EMR roles {prefix}: service role, EC2 role and instance profile")
        instance_role = t.add_resource(
            iam.Role(
                "InstanceRole",
                RoleName=f"{prefix}-emr-ec2",
                Description="EMR EC2 role (scoped-down AmazonElasticMapReduceforEC2Role)",
                AssumeRolePolicyDocument=_assume_role("ec2.amazonaws.com"),
                Policies=[
                    iam.Policy(PolicyName="emr-ec2", PolicyDocument=self.instance_policy()),
                    *self._secrets_policies(),
                ],
            )
        )
        profile = t.add_resource(
            iam.InstanceProfile(
                "InstanceProfile",
                InstanceProfileName=f"{prefix}-emr-ec2",
                Roles=[Ref(instance_role)],
            )
        )
        service_role = t.add_resource(
            iam.Role(
                "ServiceRole",
                RoleName=f"{prefix}-emr-service",
                Description="EMR service role (scoped-down AmazonElasticMapReduceRole)",
                AssumeRolePolicyDocument=_assume_role(
                    "elasticmapreduce.amazonaws.com",
                    {
                        "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                        "ArnLike": {
                            "aws:SourceArn": Sub(
                                "arn:${AWS::Partition}:elasticmapreduce:${AWS::Region}:"
                                "${AWS::AccountId}:*"
                            )
                        },
                    },
                ),
                Policies=[
                    iam.Policy(PolicyName="emr-service", PolicyDocument=self.service_policy())
                ],
            )
        )
        self.add_output("ServiceRoleArn", GetAtt(service_role, "Arn"))
        self.add_output("ServiceRoleName", Ref(service_role))
        self.add_output("InstanceRoleArn", GetAtt(instance_role, "Arn"))
        self.add_output("InstanceProfileName", Ref(profile))
        self.add_output("InstanceProfileArn", GetAtt(profile, "Arn"))
