"""Risk grading: destructive vs stateful, IAM broadening vs narrowing, ingress widening."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.plan.model import ChangeAction, Replacement, RiskKind
from stackyard.plan.risk import (
    destructive_risks,
    grade,
    is_stateful,
    policies_equal,
    security_changes,
)

BASE_STATEMENT = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}


def role(*statements: dict[str, Any], managed: list[str] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "AssumeRolePolicyDocument": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}],
    }
    if managed is not None:
        props["ManagedPolicyArns"] = managed
    return props


def broadening(
    before: dict[str, Any] | None, after: dict[str, Any] | None, rtype: str
) -> list[str]:
    return [r.reason for r in security_changes("R", rtype, before, after) if r.broadening]


@pytest.mark.parametrize(
    ("name", "after_statement", "expected"),
    [
        (
            "action added",
            {**BASE_STATEMENT, "Action": ["s3:GetObject", "s3:PutObject"]},
            "action s3:PutObject",
        ),
        ("action wildcard", {**BASE_STATEMENT, "Action": "s3:*"}, "wildcard s3:*"),
        ("resource star", {**BASE_STATEMENT, "Resource": "*"}, "wildcard *"),
        (
            "resource added",
            {**BASE_STATEMENT, "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c/*"]},
            "resource arn:aws:s3:::c/*",
        ),
        ("NotAction", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NOT(iam:*)"),
    ],
)
def test_inline_policy_broadening(
    name: str, after_statement: dict[str, Any], expected: str
) -> None:
    found = broadening(role(BASE_STATEMENT), role(after_statement), "AWS::IAM::Role")

    assert any(expected in reason for reason in found), (name, found)


def test_statement_removed_is_narrowing_not_broadening() -> None:
    other = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    rows = security_changes(
        "R", "AWS::IAM::Role", role(BASE_STATEMENT, other), role(BASE_STATEMENT)
    )

    assert [(r.sign, r.broadening) for r in rows] == [("-", False)]
    risks, _ = grade(
        "R",
        "AWS::IAM::Role",
        ChangeAction.MODIFY,
        Replacement.FALSE,
        {"Properties": role(BASE_STATEMENT, other)},
        {"Properties": role(BASE_STATEMENT)},
    )
    assert risks == ()


def test_action_narrowed_inside_a_statement_is_not_broadening() -> None:
    wide = {**BASE_STATEMENT, "Action": "s3:*"}
    assert broadening(role(wide), role(BASE_STATEMENT), "AWS::IAM::Role") == []


def test_deny_removed_is_broadening_and_deny_added_is_not() -> None:
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    assert broadening(role(BASE_STATEMENT, deny), role(BASE_STATEMENT), "AWS::IAM::Role") == [
        "Deny statement removed"
    ]
    assert broadening(role(BASE_STATEMENT), role(BASE_STATEMENT, deny), "AWS::IAM::Role") == []


def test_trust_principal_widened() -> None:
    before = role(BASE_STATEMENT)
    after = role(BASE_STATEMENT)
    after["AssumeRolePolicyDocument"] = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    }
    found = broadening(before, after, "AWS::IAM::Role")

    assert any("principal AWS:*" in r for r in found)
    assert any("wildcard AWS:*" in r for r in found)


def test_bucket_policy_principal_widened_from_account_to_everyone() -> None:
    def policy(principal: Any) -> dict[str, Any]:
        return {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/*",
                    }
                ]
            }
        }

    found = broadening(
        policy({"AWS": "arn:aws:iam::111122223333:root"}), policy("*"), "AWS::S3::BucketPolicy"
    )
    assert any("principal *" in r for r in found)


def test_key_policy_as_json_string_is_parsed() -> None:
    doc = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"}]}'
    wider = doc.replace('"kms:*"', '["kms:*", "iam:PassRole"]')

    assert broadening({"KeyPolicy": doc}, {"KeyPolicy": doc}, "AWS::KMS::Key") == []
    assert broadening({"KeyPolicy": doc}, {"KeyPolicy": wider}, "AWS::KMS::Key") == [
        "action iam:PassRole"
    ]


def test_managed_policy_attached_is_broadening_detached_is_not() -> None:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    attach = security_changes("R", "AWS::IAM::Role", role(managed=[]), role(managed=[admin]))
    detach = security_changes("R", "AWS::IAM::Role", role(managed=[admin]), role(managed=[]))

    assert [(r.kind, r.sign, r.broadening) for r in attach] == [("managed-policy", "+", True)]
    assert [(r.kind, r.sign, r.broadening) for r in detach] == [("managed-policy", "-", False)]


def test_new_role_is_all_broadening() -> None:
    risks, rows = grade(
        "R",
        "AWS::IAM::Role",
        ChangeAction.ADD,
        Replacement.FALSE,
        None,
        {"Properties": role(BASE_STATEMENT)},
    )

    assert {r.kind for r in risks} == {RiskKind.SECURITY}
    assert all(r.sign == "+" and r.broadening for r in rows)


def test_lambda_permission_to_everyone() -> None:
    perm = {"Action": "lambda:InvokeFunction", "FunctionName": "f", "Principal": "*"}
    (found,) = broadening(None, perm, "AWS::Lambda::Permission")
    assert "grants lambda:InvokeFunction on f to *" in found
    assert "wildcard *" in found


def ingress(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"GroupDescription": "g", "SecurityGroupIngress": list(rules)}


HTTPS_INTERNAL = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}


@pytest.mark.parametrize("cidr", [{"CidrIp": "0.0.0.0/0"}, {"CidrIpv6": "::/0"}])
def test_security_group_opened_to_the_world(cidr: dict[str, str]) -> None:
    opened = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **cidr}
    found = broadening(ingress(HTTPS_INTERNAL), ingress(opened), "AWS::EC2::SecurityGroup")

    assert found and "open to the world" in found[0]


def test_security_group_narrowed_is_not_broadening() -> None:
    narrower = {**HTTPS_INTERNAL, "CidrIp": "10.1.0.0/16"}
    rows = security_changes(
        "SG", "AWS::EC2::SecurityGroup", ingress(HTTPS_INTERNAL), ingress(narrower)
    )

    assert {(r.sign, r.broadening) for r in rows} == {("+", False), ("-", False)}


def test_security_group_port_range_widened() -> None:
    wider = {**HTTPS_INTERNAL, "FromPort": 0, "ToPort": 65535}
    assert broadening(ingress(HTTPS_INTERNAL), ingress(wider), "AWS::EC2::SecurityGroup")


def test_standalone_ingress_resource() -> None:
    rule = {"GroupId": "sg-1", "IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}
    found = broadening(None, rule, "AWS::EC2::SecurityGroupIngress")
    assert found == ["ingress all traffic from 0.0.0.0/0; open to the world"]


def test_policies_equal_is_semantic() -> None:
    a = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "x", "Effect": "Allow", "Action": ["a:B", "a:C"], "Resource": "*"}],
    }
    b = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": ["a:C", "a:B"], "Resource": ["*"]},
    }
    c = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "a:C", "Resource": "*"},
    }

    assert policies_equal(a, b)
    assert not policies_equal(a, c)


@pytest.mark.parametrize(
    ("rtype", "stateful"),
    [
        ("AWS::RDS::DBInstance", True),
        ("AWS::DynamoDB::Table", True),
        ("AWS::S3::Bucket", True),
        ("AWS::Route53::HostedZone", True),
        ("AWS::Logs::LogGroup", True),
        ("AWS::SNS::Topic", False),
        ("AWS::IAM::Role", False),
    ],
)
def test_stateful_types(rtype: str, stateful: bool) -> None:
    assert is_stateful(rtype) is stateful


def test_destructive_grading() -> None:
    assert destructive_risks(ChangeAction.MODIFY, Replacement.FALSE, "AWS::S3::Bucket") == ()
    assert destructive_risks(ChangeAction.ADD, Replacement.FALSE, "AWS::S3::Bucket") == ()
    (removed,) = destructive_risks(ChangeAction.REMOVE, Replacement.FALSE, "AWS::S3::Bucket")
    assert removed.kind is RiskKind.DESTRUCTIVE and removed.stateful
    assert "data" in removed.reason
    (retained,) = destructive_risks(
        ChangeAction.REMOVE, Replacement.FALSE, "AWS::S3::Bucket", deletion_policy="Retain"
    )
    assert "keeps it" in retained.reason
    (maybe,) = destructive_risks(ChangeAction.MODIFY, Replacement.CONDITIONAL, "AWS::SNS::Topic")
    assert maybe.reason.startswith("may be replaced") and not maybe.stateful
