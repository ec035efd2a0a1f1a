"""iam.EcsTaskRoles and iam.EmrRoles: least privilege, secrets, and EMR ⊂ AWS's default roles."""

from __future__ import annotations

import fnmatch
import json

import pytest

from stackyard.errors import BlueprintError, VariableError
from stackyard.library.iam import EcsTaskRoles, EmrRoles, default_emr_actions, policy_actions

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

SERVICES = {
    "web": {
        "Secrets": ["/ops-test/web/*"],
        "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"],
        "Statements": [{"Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::ops-assets/*"}],
    },
    "worker": {"Secrets": ["/ops-test/worker/DB_URL"]},
    "cron": {},
}


def covered(action: str, patterns: list[str]) -> bool:
    """True if some (wildcard) pattern of an IAM policy allows ``action``."""
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _policies(role: dict) -> dict[str, dict]:
    return {p["PolicyName"]: p["PolicyDocument"] for p in role["Properties"].get("Policies", [])}


def test_one_task_role_per_service_with_only_its_grants(render) -> None:
    r = render(
        EcsTaskRoles,
        {"Services": SERVICES, "Secrets": ["/ops-test/shared/*"], "SecretsKeyArn": KEY_ARN},
    )
    roles = r.of_type("AWS::IAM::Role")
    assert sorted(roles) == ["CronTaskRole", "WebTaskRole", "WorkerTaskRole"]
    web = roles["WebTaskRole"]["Properties"]
    assert web["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"]
    trust = web["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    web_policies = _policies(roles["WebTaskRole"])
    assert policy_actions(web_policies["web-task"]) == {"s3:GetObject"}
    secrets = web_policies["stackyard-secrets"]
    text = json.dumps(secrets)
    assert "parameter/ops-test/web/*" in text and "parameter/ops-test/shared/*" in text
    assert "worker" not in text
    assert policy_actions(secrets) <= {
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "kms:Decrypt",
    }
    worker_text = json.dumps(_policies(roles["WorkerTaskRole"]))
    assert "parameter/ops-test/worker/DB_URL" in worker_text and "web" not in worker_text
    # Every task role reads the shared path; none reads another's.
    assert "/ops-test/shared/*" in json.dumps(roles["CronTaskRole"])
    assert {"WebTaskRoleArn", "WorkerTaskRoleArn", "CronTaskRoleName"} <= set(r.outputs)
    assert r.lint_errors() == []


def test_service_without_grants_has_no_policies(render) -> None:
    r = render(EcsTaskRoles, {"Services": {"cron": {}}})
    props = r.one("AWS::IAM::Role")
    assert "Policies" not in props and "ManagedPolicyArns" not in props


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ({"web": {"Statements": [{"Action": "s3:*", "Resource": "*"}]}}, "wildcard actions"),
        ({"web": {"Statements": [{"Action": "*", "Resource": "*"}]}}, "wildcard actions"),
        ({"web": {"Statement": []}}, "unknown keys"),
        ({"web app": {}}, "is not a service name"),
        ({}, "at least one service"),
    ],
)
def test_task_roles_refuse_broad_or_malformed_grants(render, services, message: str) -> None:
    with pytest.raises(BlueprintError, match=message):
        render(EcsTaskRoles, {"Services": services})


def test_secret_paths_outside_the_namespace_are_refused(render) -> None:
    with pytest.raises(VariableError, match=r"Services\.web\.Secrets"):
        render(
            EcsTaskRoles,
            {"Services": {"web": {"Secrets": ["/other-team/web/*"]}}, "SecretsKeyArn": KEY_ARN},
        )


EMR_VARS = {
    "LogBucket": "ops-emr-logs",
    "DataBuckets": ["ops-emr-data"],
    "Secrets": ["/ops-test/emr/*"],
    "SecretsKeyArn": KEY_ARN,
}


@pytest.fixture
def emr(render):
    return render(EmrRoles, EMR_VARS)


def _role_actions(r, logical: str) -> set[str]:
    actions: set[str] = set()
    for document in _policies(r.resources[logical]).values():
        actions |= policy_actions(document)
    return actions


@pytest.mark.parametrize(
    ("logical", "default_policy"),
    [
        ("ServiceRole", "AmazonElasticMapReduceRole"),
        ("InstanceRole", "AmazonElasticMapReduceforEC2Role"),
    ],
)
def test_emr_roles_are_a_strict_subset_of_the_default_roles(
    emr, logical: str, default_policy: str
) -> None:
    ours = _role_actions(emr, logical)
    if logical == "InstanceRole":
        # Reading secrets is the one grant beyond EMR's own needs (declared by the config).
        ours -= {"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "kms:Decrypt"}
    default = default_emr_actions(default_policy)
    assert ours, "no actions found"
    assert not any("*" in a for a in ours), "our roles name actions exactly"
    beyond = sorted(a for a in ours if not covered(a, default))
    assert beyond == [], f"actions not in {default_policy}: {beyond}"
    dropped = [p for p in default if not any(covered(a, [p]) for a in ours)]
    assert dropped, "not a strict subset"


def test_emr_service_role_drops_the_riskiest_default_grants(emr) -> None:
    ours = _role_actions(emr, "ServiceRole")
    for risky in (
        "ec2:CreateSecurityGroup",
        "ec2:DeleteSecurityGroup",
        "ec2:ModifyImageAttribute",
        "s3:CreateBucket",
        "iam:CreateServiceLinkedRole",
        "sqs:CreateQueue",
    ):
        assert risky not in ours


def test_emr_grants_are_scoped_by_tag_bucket_and_role(emr) -> None:
    service = _policies(emr.resources["ServiceRole"])["emr-service"]["Statement"]
    for statement in service:
        if statement["Resource"] == "*":
            assert all(a.startswith("ec2:Describe") for a in statement["Action"]), statement["Sid"]
    by_sid = {s["Sid"]: s for s in service}
    assert "aws:ResourceTag/for-use-with-amazon-emr-managed-policies" in json.dumps(
        by_sid["ManageTagged"]
    )
    assert by_sid["PassInstanceRole"]["Resource"] == {"Fn::GetAtt": ["InstanceRole", "Arn"]}
    assert "ops-emr-logs" in json.dumps(by_sid["ReadLogBucket"])
    instance = json.dumps(_policies(emr.resources["InstanceRole"]))
    assert "ops-emr-data" in instance and "parameter/ops-test/emr/*" in instance
    assert {"ServiceRoleArn", "InstanceProfileArn", "InstanceRoleArn"} <= set(emr.outputs)
    assert emr.lint_errors() == []


def test_emr_scope_tag_is_configurable(render) -> None:
    r = render(EmrRoles, {"LogBucket": "logs", "ScopeTagKey": "team", "ScopeTagValue": "data"})
    assert '"aws:ResourceTag/team": "data"' in r.body
