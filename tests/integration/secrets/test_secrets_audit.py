"""The key blueprint deployed, roles deployed by stacks, and the audit's matrix over them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from troposphere import iam

from stackyard.blueprints.base import Blueprint
from stackyard.context import Context
from stackyard.library.secrets_key import SecretsKey
from stackyard.lint import lint_template
from stackyard.secrets.audit import run_audit
from stackyard.secrets.policy import SecretsAccessMixin
from stackyard.secrets.store import SecretStore

REGION = "us-east-1"


class ServiceRole(SecretsAccessMixin, Blueprint):
    """A role for one service, reading its declared secrets (the way library roles do)."""

    VARIABLES = {"RoleName": {"type": str}, "RolePath": {"type": str}}

    def create_template(self) -> None:
        variables = self.get_variables()
        policy = self.secrets_policy()
        self.template.add_resource(
            iam.Role(
                "Role",
                RoleName=variables["RoleName"],
                Path=variables["RolePath"],
                AssumeRolePolicyDocument=_trust(),
                Policies=[policy] if policy else [],
            )
        )


def _trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            }
        ],
    }


def _raw_roles(namespace: str, path: str, key_arn: str) -> str:
    """Hand-written roles: one with wildcards, one with an explicit deny."""
    params = f"arn:aws:ssm:{REGION}:123456789012:parameter/{namespace}"
    roles = {
        "Wild": {
            "RoleName": f"{namespace}-wild",
            "Policies": [
                {
                    "PolicyName": "hand-written",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "All",
                                "Effect": "Allow",
                                "Action": "ssm:GetParameter*",
                                "Resource": f"arn:aws:ssm:*:*:parameter/{namespace}/*",
                            },
                            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
                        ],
                    },
                }
            ],
        },
        "Denied": {
            "RoleName": f"{namespace}-denied",
            "Policies": [
                {
                    "PolicyName": "all-but-app",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": "*"},
                            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
                            {
                                "Sid": "NoApp",
                                "Effect": "Deny",
                                "Action": "ssm:*",
                                "Resource": f"{params}/app/*",
                            },
                        ],
                    },
                }
            ],
        },
    }
    resources = {
        logical: {
            "Type": "AWS::IAM::Role",
            "Properties": {**props, "Path": path, "AssumeRolePolicyDocument": _trust()},
        }
        for logical, props in roles.items()
    }
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def _managed_role(
    aws: Callable[[str], Any], name: str, path: str, document: dict[str, Any]
) -> None:
    client = aws("iam")
    client.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(_trust()))
    arn = client.create_policy(PolicyName=f"{name}-policy", PolicyDocument=json.dumps(document))[
        "Policy"
    ]["Arn"]
    client.attach_role_policy(RoleName=name, PolicyArn=arn)


def test_the_key_blueprint_deploys_with_rotation_and_its_policy(
    aws: Callable[[str], Any],
    namespace: str,
    deploy: Callable[[str, str], dict[str, str]],
) -> None:
    body = SecretsKey("secrets-key", Context(namespace=namespace)).to_json({})
    assert lint_template(body, REGION) == []
    outputs = deploy(f"{namespace}-secrets-key", body)
    assert outputs["AliasName"] == f"alias/{namespace}/secrets"
    kms = aws("kms")
    meta = kms.describe_key(KeyId=outputs["AliasName"])["KeyMetadata"]
    assert meta["Arn"] == outputs["KeyArn"] and meta["KeyId"] == outputs["KeyId"]
    assert kms.get_key_rotation_status(KeyId=outputs["KeyId"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=outputs["KeyId"], PolicyName="default")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["AdministerKey", "UseThroughSsmOnly"]


def test_audit_matrix_over_roles_deployed_by_stacks(
    aws: Callable[[str], Any],
    namespace: str,
    store: SecretStore,
    deploy: Callable[[str, str], dict[str, str]],
    make_key: Callable[[str], str],
) -> None:
    ns = namespace
    path = f"/{ns}/"
    key_arn = deploy(f"{ns}-key", SecretsKey("k", Context(namespace=ns)).to_json({}))["KeyArn"]
    other_key = make_key(f"alias/{ns}/legacy")
    for name in ("app/DB", "app/deep/TOKEN", "shared/DB_URL", "shared/OTHER"):
        store.put(f"/{ns}/{name}", f"value of {name}")
    store.put(f"/{ns}/orphan/X", "nobody reads me", key=other_key)

    context = Context(namespace=ns)
    for short, secrets in (("app", [f"/{ns}/app/*"]), ("shared", [f"/{ns}/shared/DB_URL"])):
        body = ServiceRole(short, context).to_json(
            {
                "RoleName": f"{ns}-{short}",
                "RolePath": path,
                "secrets": secrets,
                "secrets_key_arn": key_arn,
            }
        )
        assert lint_template(body, REGION) == []
        deploy(f"{ns}-{short}-role", body)
    deploy(f"{ns}-raw-roles", _raw_roles(ns, path, key_arn))
    _managed_role(
        aws,
        f"{ns}-managed",
        path,
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParameter",
                    "Resource": f"arn:aws:ssm:{REGION}:123456789012:parameter/{ns}/shared/*",
                },
                {
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
                    },
                },
            ],
        },
    )
    _managed_role(
        aws,
        f"{ns}-odd",
        path,
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Odd",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}},
                },
            ],
        },
    )

    report = run_audit(store, role_path=path)

    matrix = {
        s.name.removeprefix(f"/{ns}/"): {r.removeprefix(f"{ns}-") for r in s.readers}
        for s in report.secrets
    }
    assert matrix == {
        "app/DB": {"app", "wild"},
        "app/deep/TOKEN": {"app", "wild"},
        "orphan/X": set(),
        "shared/DB_URL": {"shared", "wild", "denied", "managed"},
        "shared/OTHER": {"wild", "denied", "managed"},
    }
    assert report.unreadable == (f"/{ns}/orphan/X",)
    roles = {r.role.removeprefix(f"{ns}-"): r for r in report.roles}
    assert roles["app"].declared == (f"/{ns}/app/*",) and not roles["app"].overreaches
    assert roles["shared"].declared == (f"/{ns}/shared/DB_URL",)
    assert not roles["shared"].overreaches
    assert roles["wild"].undeclared == tuple(
        f"/{ns}/{n}" for n in ("app/DB", "app/deep/TOKEN", "shared/DB_URL", "shared/OTHER")
    )
    assert roles["wild"].broad == (
        f"{ns}-wild/hand-written:All: ssm:GetParameter on arn:aws:ssm:*:*:parameter/{ns}/*",
    )
    assert roles["denied"].broad == (f"{ns}-denied/all-but-app: ssm:GetParameter on *",)
    assert roles["managed"].overreaches
    assert {r.role for r in report.overreaching} == {
        f"{ns}-{r}" for r in ("wild", "denied", "managed", "odd")
    }
    assert any("NumericLessThan is unknown → treated as not matching" in n for n in report.notes)
    assert json.loads(json.dumps(report.as_dict()))["unreadable"] == [f"/{ns}/orphan/X"]
