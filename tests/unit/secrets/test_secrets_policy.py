"""Path patterns, the generated read statements (exactly), the mixin and the key blueprint."""

from __future__ import annotations

import json
from typing import Any

import pytest
from troposphere import iam

from stackyard.blueprints.base import Blueprint
from stackyard.context import Context
from stackyard.errors import VariableError
from stackyard.library.secrets_key import SecretsKey
from stackyard.lint import lint_template
from stackyard.secrets.iam_eval import Request, evaluate, parse_policy
from stackyard.secrets.paths import (
    SecretPathError,
    key_alias,
    path_prefix,
    validate_name,
    validate_patterns,
)
from stackyard.secrets.policy import (
    SECRETS_POLICY_NAME,
    SecretsAccessMixin,
    declared_patterns,
    secret_read_policy,
    secret_read_statements,
)

KEY = "arn:aws:kms:us-east-1:111122223333:key/abcd"
ARN = "arn:aws:ssm:us-east-1:111122223333:parameter"


def rendered(obj: Any) -> Any:
    return json.loads(obj.to_json())


# -- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("acme/web/DB", "must start with /"),
        ("/acme/web/DB URL", "characters SSM does not allow"),
        ("/acme/web/", "not a valid parameter path"),
        ("/acme//DB", "not a valid parameter path"),
        ("/acme", "not under a namespace"),
        ("/other/web/DB", "outside the namespace 'acme'"),
        ("/aws/web/DB", "reserves"),
    ],
)
def test_bad_names_are_refused_with_a_reason(path: str, problem: str) -> None:
    with pytest.raises(SecretPathError, match=problem) as info:
        validate_name(path, "acme")
    assert info.value.exit_code == 2


def test_wildcards_are_for_patterns_only_and_never_in_the_namespace() -> None:
    with pytest.raises(SecretPathError, match="characters"):
        validate_name("/acme/web/*", "acme")
    assert validate_patterns(["/acme/web/*", "/acme/*/DB_?", "/acme/web/*"], "acme") == [
        "/acme/*/DB_?",
        "/acme/web/*",
    ]
    with pytest.raises(SecretPathError, match="wildcard in the namespace"):
        validate_patterns(["/*/web/DB"])
    with pytest.raises(SecretPathError, match="reserves"):
        validate_patterns(["/ssm/web/DB"])


def test_prefixes_and_aliases() -> None:
    assert path_prefix("/acme/web/*") == "/acme/web"
    assert path_prefix("/acme/web/DB") is None
    assert path_prefix("/acme/*/x/*") is None
    assert key_alias("acme-prod") == "alias/acme-prod/secrets"
    with pytest.raises(SecretPathError):
        key_alias("acme.prod")


# -- statements ---------------------------------------------------------------------------


def test_read_statements_are_exactly_least_privilege() -> None:
    statements = secret_read_statements(
        ["/acme/web/*", "/acme/shared/DB_URL"], KEY, "us-east-1", "111122223333", "acme"
    )
    assert [rendered(s) for s in statements] == [
        {
            "Sid": "ReadSecrets",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": [f"{ARN}/acme/shared/DB_URL", f"{ARN}/acme/web/*"],
        },
        {
            "Sid": "ListSecretPaths",
            "Effect": "Allow",
            "Action": ["ssm:GetParametersByPath"],
            "Resource": [f"{ARN}/acme/web", f"{ARN}/acme/web/*"],
        },
        {
            "Sid": "DecryptSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [KEY],
            "Condition": {
                "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"},
                "StringLike": {
                    "kms:EncryptionContext:PARAMETER_ARN": [
                        f"{ARN}/acme/shared/DB_URL",
                        f"{ARN}/acme/web/*",
                    ]
                },
            },
        },
    ]


def test_exact_names_get_no_listing_and_no_paths_get_nothing() -> None:
    statements = secret_read_statements(["/acme/a/X"], KEY, "eu-west-1", "1", "acme")
    assert [s.Sid for s in statements] == ["ReadSecrets", "DecryptSecrets"]
    assert secret_read_statements([], KEY, "eu-west-1", "1", "acme") == []


def test_reading_secrets_needs_the_key_and_paths_in_the_namespace() -> None:
    with pytest.raises(SecretPathError, match="key"):
        secret_read_statements(["/acme/a/*"], "", "us-east-1", "1", "acme")
    with pytest.raises(SecretPathError, match="outside the namespace"):
        secret_read_statements(["/other/a/*"], KEY, "us-east-1", "1", "acme")


def test_the_generated_policy_allows_exactly_its_paths_under_evaluation() -> None:
    document = rendered(
        secret_read_policy(
            ["/acme/web/*", "/acme/shared/DB_URL"], KEY, "us-east-1", "111122223333", "acme"
        )
    )
    statements = parse_policy(document, "p")

    def reads(name: str) -> bool:
        arn = f"{ARN}{name}"
        get = evaluate(statements, Request("ssm:GetParameter", arn)).allowed
        decrypt = evaluate(
            statements,
            Request(
                "kms:Decrypt",
                KEY,
                {
                    "kms:ViaService": "ssm.us-east-1.amazonaws.com",
                    "kms:EncryptionContext:PARAMETER_ARN": arn,
                },
            ),
        ).allowed
        return get and decrypt

    assert reads("/acme/web/DB") and reads("/acme/web/deep/TOKEN") and reads("/acme/shared/DB_URL")
    assert not reads("/acme/shared/OTHER") and not reads("/acme/webapp/DB")
    direct = Request(
        "kms:Decrypt", KEY, {"kms:EncryptionContext:PARAMETER_ARN": f"{ARN}/acme/web/X"}
    )
    assert not evaluate(statements, direct).allowed  # not through SSM
    assert declared_patterns(document) == ["/acme/shared/DB_URL", "/acme/web/*"]


# -- the mixin ----------------------------------------------------------------------------


class TaskRole(SecretsAccessMixin, Blueprint):
    VARIABLES = {"Service": {"type": str, "default": "web"}}

    def create_template(self) -> None:
        policy = self.secrets_policy()
        self.template.add_resource(
            iam.Role(
                "Role",
                AssumeRolePolicyDocument={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        }
                    ],
                },
                Policies=[policy] if policy else [],
            )
        )


def test_the_mixin_adds_the_secrets_variables_and_an_inline_policy() -> None:
    bp = TaskRole("web-role", Context(namespace="acme"))
    assert {"Service", "secrets", "secrets_key_arn"} <= set(bp.defined_variables())
    body = json.loads(bp.to_json({"secrets": ["/acme/web/*"], "secrets_key_arn": KEY}))
    policies = body["Resources"]["Role"]["Properties"]["Policies"]
    assert [p["PolicyName"] for p in policies] == [SECRETS_POLICY_NAME]
    read = policies[0]["PolicyDocument"]["Statement"][0]
    assert read["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/web/*"
        }
    ]
    assert lint_template(json.dumps(body), "us-east-1") == []


def test_the_mixin_without_secrets_adds_no_policy_and_reports_bad_paths() -> None:
    body = json.loads(TaskRole("r", Context(namespace="acme")).to_json({}))
    assert body["Resources"]["Role"]["Properties"]["Policies"] == []
    with pytest.raises(VariableError, match="outside the namespace") as info:
        TaskRole("r", Context(namespace="acme")).to_json(
            {"secrets": ["/other/x/*"], "secrets_key_arn": KEY}
        )
    assert info.value.key == "secrets"
    with pytest.raises(VariableError, match="secrets_key_arn"):
        TaskRole("r", Context(namespace="acme")).to_json({"secrets": ["/acme/x/*"]})


# -- the key blueprint --------------------------------------------------------------------


def test_the_key_blueprint_renders_a_rotating_key_with_an_ssm_only_policy() -> None:
    body = SecretsKey("secrets-key", Context(namespace="acme")).to_json({})
    template = json.loads(body)
    key = template["Resources"]["Key"]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert template["Resources"]["Alias"]["Properties"]["AliasName"] == "alias/acme/secrets"
    assert set(template["Outputs"]) == {"KeyArn", "KeyId", "AliasName"}
    admin, use = key["KeyPolicy"]["Statement"]
    assert admin["Sid"] == "AdministerKey"
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:*"} & set(admin["Action"])
    assert use["Sid"] == "UseThroughSsmOnly"
    assert set(use["Action"]) == {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"
    }
    assert use["Condition"]["StringLike"]["kms:EncryptionContext:PARAMETER_ARN"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/acme/*"
    }
    assert lint_template(body, "us-east-1") == []


def test_the_key_blueprint_needs_a_namespace_an_alias_can_hold() -> None:
    with pytest.raises(VariableError, match="needs a namespace"):
        SecretsKey("k", Context()).to_json({})
    with pytest.raises(VariableError, match="KMS alias"):
        SecretsKey("k", Context(namespace="a.b")).to_json({})
