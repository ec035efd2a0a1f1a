"""The IAM evaluator against the evaluation rules and examples AWS documents.

Cases are written from the documented semantics (policy evaluation logic,
NotAction, NotResource, wildcards, condition operators, policy variables), not
copied from anywhere.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from stackyard.secrets.iam_eval import (
    Decision,
    PolicyParseError,
    Request,
    arn_matches,
    evaluate,
    parse_policy,
    wildcard_match,
)


def decide(
    policy: dict[str, Any] | list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, Any] | None = None,
) -> Decision:
    documents = policy if isinstance(policy, list) else [policy]
    statements = [s for i, d in enumerate(documents) for s in parse_policy(d, f"p{i}")]
    return evaluate(statements, Request(action, resource, context or {})).decision


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW, DENY, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY


# -- allow, deny, default -----------------------------------------------------------------


def test_no_policies_is_an_implicit_deny() -> None:
    assert evaluate([], Request("s3:GetObject", "arn:aws:s3:::b/k")).decision is IMPLICIT


def test_an_allow_for_another_action_leaves_the_default_deny() -> None:
    policy = doc({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::b/k") is IMPLICIT


def test_explicit_deny_wins_over_allow_in_the_same_policy() -> None:
    policy = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
    )
    assert decide(policy, "s3:DeleteBucket", "arn:aws:s3:::b") is DENY
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::b/k") is ALLOW


def test_explicit_deny_wins_across_policies_whatever_their_order() -> None:
    allow = doc({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"})
    deny = doc({"Effect": "Deny", "Action": "ssm:*", "Resource": "arn:aws:ssm:*:*:parameter/x/*"})
    arn = "arn:aws:ssm:us-east-1:111122223333:parameter/x/DB"
    assert decide([allow, deny], "ssm:GetParameter", arn) is DENY
    assert decide([deny, allow], "ssm:GetParameter", arn) is DENY


def test_the_iam_get_list_example_allow_implicit_and_explicit_deny() -> None:
    # Allow iam:Get* and iam:List*, deny anything ending in Report.
    policy = doc(
        {
            "Sid": "AllowGetList",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*"],
            "Resource": "*",
        },
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
    )
    assert decide(policy, "iam:GetUser", "*") is ALLOW
    assert decide(policy, "iam:CreatePolicy", "*") is IMPLICIT
    assert decide(policy, "iam:GetCredentialReport", "*") is DENY


def test_the_statement_that_decided_is_reported() -> None:
    statements = parse_policy(
        doc(
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "D", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
        ),
        "mine",
    )
    result = evaluate(statements, Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    assert [s.label for s in result.denied_by] == ["mine:D"]
    assert [s.label for s in result.allowed_by] == ["mine:A"]
    assert not result.allowed


# -- shapes -------------------------------------------------------------------------------


def test_a_single_statement_object_and_string_values_work_like_lists() -> None:
    single = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
    }
    listed = doc({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["*"]})
    for policy in (single, listed):
        assert decide(policy, "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q") is ALLOW


def test_json_text_and_url_encoded_documents_parse() -> None:
    text = json.dumps(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    assert len(parse_policy(text)) == 1
    assert len(parse_policy(urllib.parse.quote(text))) == 1


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*"},
        {"Effect": "Allow", "Action": 3, "Resource": "*"},
    ],
    ids=["bad-effect", "no-action", "both-actions", "no-resource", "action-not-string"],
)
def test_malformed_statements_are_rejected(statement: dict[str, Any]) -> None:
    with pytest.raises(PolicyParseError):
        parse_policy(doc(statement))


# -- NotAction and NotResource -----------------------------------------------------------


def test_allow_with_not_action_allows_everything_else_but_not_the_excluded_service() -> None:
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(policy, "s3:ListAllMyBuckets", "*") is ALLOW
    assert decide(policy, "iam:CreateUser", "*") is IMPLICIT  # not allowed, not denied


def test_deny_with_not_action_denies_all_but_the_excluded_unless_mfa() -> None:
    policy = doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    assert decide(policy, "s3:GetObject", "*", {"aws:MultiFactorAuthPresent": False}) is DENY
    assert decide(policy, "s3:GetObject", "*", {}) is DENY  # IfExists: missing key matches
    assert decide(policy, "s3:GetObject", "*", {"aws:MultiFactorAuthPresent": True}) is ALLOW
    assert decide(policy, "iam:ListUsers", "*", {"aws:MultiFactorAuthPresent": False}) is ALLOW


def test_allow_with_not_resource_allows_everything_but_the_listed_resources() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        }
    )
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::HRBucket/Reviews/a") is ALLOW
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024") is IMPLICIT
    assert decide(policy, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll") is IMPLICIT


def test_deny_with_not_resource_denies_everything_outside_the_listed_resources() -> None:
    policy = doc(
        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "ssm:*",
            "NotResource": "arn:aws:ssm:us-east-1:111122223333:parameter/app/*",
        },
    )
    inside = "arn:aws:ssm:us-east-1:111122223333:parameter/app/DB"
    outside = "arn:aws:ssm:us-east-1:111122223333:parameter/other/DB"
    assert decide(policy, "ssm:GetParameter", inside) is ALLOW
    assert decide(policy, "ssm:GetParameter", outside) is DENY


# -- wildcards ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:*", "s3:GetObject", True),
        ("*", "kms:Decrypt", True),
        ("iam:*AccessKey*", "iam:CreateAccessKey", True),
        ("iam:*AccessKey*", "iam:ListAccessKeys", True),
        ("iam:*AccessKey*", "iam:CreateUser", False),
        ("ssm:GetParameter?", "ssm:GetParameters", True),
        ("ssm:GetParameter?", "ssm:GetParameter", False),
        ("ssm:GetParameter", "ssm:GetParameters", False),
        ("S3:getobject", "s3:GetObject", True),  # actions are case-insensitive
        ("ec2:*", "s3:GetObject", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    policy = doc({"Effect": "Allow", "Action": pattern, "Resource": "*"})
    assert (decide(policy, action, "*") is ALLOW) is matches


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        ("*", "arn:aws:s3:::anything", True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::Bucket/a/b/c", True),
        ("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/a", False),  # resources are case-sensitive
        ("arn:aws:s3:::b/file?.txt", "arn:aws:s3:::b/file1.txt", True),
        ("arn:aws:s3:::b/file?.txt", "arn:aws:s3:::b/file10.txt", False),
        ("arn:aws:ssm:*:*:parameter/ns/*", "arn:aws:ssm:eu-west-1:1:parameter/ns/a/B", True),
        ("arn:aws:ssm:*:*:parameter/ns/*", "arn:aws:ssm:eu-west-1:1:parameter/other/B", False),
        ("arn:aws:ssm:us-east-1:*:parameter/ns/*", "arn:aws:ssm:us-east-2:1:parameter/ns/B", False),
        ("arn:aws:ssm:*:1:parameter/ns/X", "arn:aws:ssm:us-east-1:1:parameter/ns/X", True),
    ],
)
def test_resource_wildcards(pattern: str, resource: str, matches: bool) -> None:
    policy = doc({"Effect": "Allow", "Action": "*", "Resource": pattern})
    assert (decide(policy, "s3:GetObject", resource) is ALLOW) is matches


def test_a_wildcard_in_one_arn_component_does_not_cross_into_the_next() -> None:
    assert not arn_matches("arn:aws:s3:::*", "arn:aws:sqs:us-east-1:1:q")
    assert not arn_matches("arn:aws:ssm:us-*:1:parameter/x", "arn:aws:ssm:us-east-1:2:parameter/x")
    assert arn_matches("arn:aws:ssm:us-*:1:parameter/x", "arn:aws:ssm:us-east-1:1:parameter/x")
    assert wildcard_match("a*c", "abbbc") and not wildcard_match("a?c", "abbc")


# -- conditions ---------------------------------------------------------------------------

KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234"
PARAM = "arn:aws:ssm:us-east-1:111122223333:parameter/ns/app/DB"


def decrypt_policy(condition: dict[str, Any]) -> dict[str, Any]:
    return doc(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KMS_KEY, "Condition": condition}
    )


def test_string_equals_any_listed_value_matches() -> None:
    policy = decrypt_policy(
        {
            "StringEquals": {
                "kms:ViaService": ["ssm.us-east-1.amazonaws.com", "ssm.us-west-2.amazonaws.com"]
            }
        }
    )
    assert (
        decide(policy, "kms:Decrypt", KMS_KEY, {"kms:ViaService": "ssm.us-west-2.amazonaws.com"})
        is ALLOW
    )
    assert (
        decide(policy, "kms:Decrypt", KMS_KEY, {"kms:ViaService": "s3.us-west-2.amazonaws.com"})
        is IMPLICIT
    )
    assert decide(policy, "kms:Decrypt", KMS_KEY, {}) is IMPLICIT  # missing key: no match


def test_all_keys_and_all_operators_must_match() -> None:
    policy = decrypt_policy(
        {
            "StringEquals": {
                "kms:ViaService": "ssm.us-east-1.amazonaws.com",
                "kms:CallerAccount": "111122223333",
            },
            "StringLike": {
                "kms:EncryptionContext:PARAMETER_ARN": "arn:aws:ssm:us-east-1:111122223333:parameter/ns/app/*"
            },
        }
    )
    good = {
        "kms:ViaService": "ssm.us-east-1.amazonaws.com",
        "kms:CallerAccount": "111122223333",
        "kms:EncryptionContext:PARAMETER_ARN": PARAM,
    }
    assert decide(policy, "kms:Decrypt", KMS_KEY, good) is ALLOW
    other_path = {**good, "kms:EncryptionContext:PARAMETER_ARN": PARAM.replace("/app/", "/web/")}
    assert decide(policy, "kms:Decrypt", KMS_KEY, other_path) is IMPLICIT
    other_account = {**good, "kms:CallerAccount": "444455556666"}
    assert decide(policy, "kms:Decrypt", KMS_KEY, other_account) is IMPLICIT


def test_condition_key_names_are_case_insensitive_values_are_not() -> None:
    policy = decrypt_policy({"StringEquals": {"KMS:VIASERVICE": "ssm.us-east-1.amazonaws.com"}})
    assert (
        decide(policy, "kms:Decrypt", KMS_KEY, {"kms:ViaService": "ssm.us-east-1.amazonaws.com"})
        is ALLOW
    )
    assert (
        decide(policy, "kms:Decrypt", KMS_KEY, {"kms:ViaService": "SSM.us-east-1.amazonaws.com"})
        is IMPLICIT
    )
    ignore_case = decrypt_policy(
        {"StringEqualsIgnoreCase": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
    )
    assert (
        decide(
            ignore_case, "kms:Decrypt", KMS_KEY, {"kms:ViaService": "SSM.us-east-1.amazonaws.com"}
        )
        is ALLOW
    )


def test_negated_operators_match_when_the_key_is_missing_or_differs() -> None:
    policy = decrypt_policy({"StringNotEquals": {"aws:PrincipalTag/team": ["ops", "sec"]}})
    assert decide(policy, "kms:Decrypt", KMS_KEY, {}) is ALLOW
    assert decide(policy, "kms:Decrypt", KMS_KEY, {"aws:PrincipalTag/team": "web"}) is ALLOW
    assert decide(policy, "kms:Decrypt", KMS_KEY, {"aws:PrincipalTag/team": "sec"}) is IMPLICIT


def test_arn_like_compares_component_by_component() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app-*"}},
        }
    )
    assert (
        decide(
            policy,
            "ssm:GetParameter",
            PARAM,
            {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/app-web"},
        )
        is ALLOW
    )
    assert (
        decide(
            policy,
            "ssm:GetParameter",
            PARAM,
            {"aws:PrincipalArn": "arn:aws:iam::444455556666:role/app-web"},
        )
        is IMPLICIT
    )


def test_bool_and_null() -> None:
    secure = doc(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    )
    assert decide(secure, "s3:GetObject", "*", {"aws:SecureTransport": False}) is DENY
    assert decide(secure, "s3:GetObject", "*", {"aws:SecureTransport": True}) is ALLOW
    assert decide(secure, "s3:GetObject", "*", {}) is ALLOW  # Bool without IfExists: no match
    tagged = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Null": {"aws:PrincipalTag/team": "false"}},
        }
    )
    assert decide(tagged, "s3:GetObject", "*", {"aws:PrincipalTag/team": "x"}) is ALLOW
    assert decide(tagged, "s3:GetObject", "*", {}) is IMPLICIT


def test_for_any_value_and_for_all_values() -> None:
    any_of = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team"]}},
        }
    )
    all_of = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}},
        }
    )
    assert decide(any_of, "x:Y", "*", {"aws:TagKeys": ["env", "cost"]}) is ALLOW
    assert decide(any_of, "x:Y", "*", {"aws:TagKeys": ["cost"]}) is IMPLICIT
    assert decide(any_of, "x:Y", "*", {}) is IMPLICIT
    assert decide(all_of, "x:Y", "*", {"aws:TagKeys": ["env", "team"]}) is ALLOW
    assert decide(all_of, "x:Y", "*", {"aws:TagKeys": ["env", "cost"]}) is IMPLICIT
    assert decide(all_of, "x:Y", "*", {}) is ALLOW  # vacuously true, as AWS documents


def test_unknown_operators_do_not_match_and_are_reported() -> None:
    statements = parse_policy(
        doc(
            {
                "Sid": "Cheap",
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"s3:max-keys": "10"}},
            }
        ),
        "p",
    )
    result = evaluate(statements, Request("s3:ListBucket", "*", {"s3:max-keys": "5"}))
    assert result.decision is IMPLICIT
    assert result.unknown == (
        "p:Cheap: condition operator NumericLessThan is unknown → treated as not matching",
    )


def test_policy_variables_come_from_the_request_context() -> None:
    policy = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}
    )
    assert (
        decide(policy, "s3:GetObject", "arn:aws:s3:::home/ana/notes", {"aws:username": "ana"})
        is ALLOW
    )
    assert (
        decide(policy, "s3:GetObject", "arn:aws:s3:::home/bo/notes", {"aws:username": "ana"})
        is IMPLICIT
    )
