"""BotoAWSAccess against moto's in-process AWS."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from moto import mock_aws

from stackyard.errors import AWSError, LookupError_
from stackyard.lookups import LookupRegistry, Secret, resolve_value
from stackyard.lookups.boto_access import BotoAWSAccess

from .conftest import MakeCtx

REGION = "us-east-1"


def session(region: str | None) -> boto3.Session:
    return boto3.Session(region_name=region or REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[BotoAWSAccess]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield BotoAWSAccess(session)


@pytest.mark.parametrize(("kind", "value"), [("String", "web"), ("SecureString", "hunter2")])
def test_ssm_parameter(aws: BotoAWSAccess, kind: Any, value: str) -> None:
    session(REGION).client("ssm").put_parameter(Name="/app/p", Value=value, Type=kind)
    assert aws.ssm_parameter("/app/p", REGION) == (value, kind)


def test_ssm_secure_string_through_the_lookup_is_secret(
    aws: BotoAWSAccess, make_ctx: MakeCtx, registry: LookupRegistry
) -> None:
    session("eu-west-1").client("ssm").put_parameter(
        Name="/db/pw", Value="hunter2", Type="SecureString"
    )
    value = resolve_value("${ssm eu-west-1@/db/pw}", registry, make_ctx(aws=aws))
    assert isinstance(value, Secret) and value == "hunter2"
    # Templates get the versioned dynamic reference in place of the value.
    assert value.reference == "{{resolve:ssm-secure:/db/pw:1}}"
    session("eu-west-1").client("ssm").put_parameter(
        Name="/db/pw", Value="hunter3", Type="SecureString", Overwrite=True
    )
    newer = resolve_value("${ssm eu-west-1@/db/pw}", registry, make_ctx(aws=aws))
    assert newer.reference == "{{resolve:ssm-secure:/db/pw:2}}"


def test_ssm_missing_parameter(aws: BotoAWSAccess) -> None:
    with pytest.raises(LookupError_, match="reading SSM parameter /nope") as info:
        aws.ssm_parameter("/nope", REGION)
    assert info.value.hint == "AWS answered ParameterNotFound"


def test_kms_round_trip(aws: BotoAWSAccess, make_ctx: MakeCtx, registry: LookupRegistry) -> None:
    kms = session(REGION).client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"s3cret")["CiphertextBlob"]
    encoded = base64.b64encode(blob).decode()
    assert aws.kms_decrypt(encoded, REGION) == "s3cret"
    value = resolve_value(f"${{kms {REGION}@{encoded}}}", registry, make_ctx(aws=aws))
    assert isinstance(value, Secret) and value == "s3cret"


def test_kms_rejects_bad_ciphertext(aws: BotoAWSAccess) -> None:
    with pytest.raises(LookupError_, match="not base64"):
        aws.kms_decrypt("not base64!", REGION)


TEMPLATE: dict[str, Any] = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "TopicArn": {"Value": {"Ref": "Topic"}},
        "Greeting": {"Value": "hello"},
    },
}


def test_stack_outputs(aws: BotoAWSAccess, make_ctx: MakeCtx, registry: LookupRegistry) -> None:
    cfn = session(REGION).client("cloudformation")
    cfn.create_stack(StackName="ns-app", TemplateBody=json.dumps(TEMPLATE))
    outputs = aws.stack_outputs("ns-app", REGION)
    assert outputs["Greeting"] == "hello"
    assert outputs["TopicArn"].startswith("arn:aws:sns:us-east-1:")
    ctx = make_ctx(aws=aws)
    assert resolve_value("${output app::Greeting}", registry, ctx) == "hello"
    assert resolve_value("${xref ns-app::Greeting}", registry, ctx) == "hello"


def test_stack_outputs_of_a_missing_stack(aws: BotoAWSAccess) -> None:
    with pytest.raises(LookupError_, match="reading outputs of stack ns-nope"):
        aws.stack_outputs("ns-nope", REGION)


def test_dynamodb_item(aws: BotoAWSAccess, make_ctx: MakeCtx, registry: LookupRegistry) -> None:
    ddb = session(REGION).client("dynamodb")
    ddb.create_table(
        TableName="Config",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"Id": {"S": "prod"}, "Settings": {"M": {"Port": {"N": "443"}}}}
    ddb.put_item(TableName="Config", Item=item)
    assert aws.dynamodb_item("Config", {"Id": {"S": "prod"}}, REGION) == item
    assert aws.dynamodb_item("Config", {"Id": {"S": "dev"}}, REGION) is None
    text = "${dynamodb us-east-1:Config@Id:prod.Settings[M].Port[N]}"
    assert resolve_value(text, registry, make_ctx(aws=aws)) == 443


def test_dynamodb_missing_table(aws: BotoAWSAccess) -> None:
    with pytest.raises(LookupError_, match="reading DynamoDB table Nope"):
        aws.dynamodb_item("Nope", {"Id": {"S": "x"}}, REGION)


def test_ami_search(aws: BotoAWSAccess, make_ctx: MakeCtx, registry: LookupRegistry) -> None:
    ec2 = session(REGION).client("ec2")
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    ids = {
        name: ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
        for name in ("web-1", "db-1")
    }
    assert aws.ami_search(["self"], {}, "web-[0-9]+", REGION) == ids["web-1"]
    text = "${ami owners:self name_regex:db-.* state:available}"
    assert resolve_value(text, registry, make_ctx(aws=aws, region=REGION)) == ids["db-1"]
    with pytest.raises(LookupError_, match="no AMI owned by self"):
        aws.ami_search(["self"], {}, "cache-.*", REGION)


def test_other_client_errors_are_aws_errors(aws: BotoAWSAccess) -> None:
    session(REGION).client("dynamodb").create_table(
        TableName="T",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(AWSError, match="reading DynamoDB table T: ValidationException") as info:
        aws.dynamodb_item("T", {"Wrong": {"S": "x"}}, REGION)
    assert isinstance(info.value.__cause__, ClientError)


def test_botocore_errors_are_aws_errors() -> None:
    class Session:
        def client(self, service: str) -> Any:
            return self

        def get_parameter(self, **kwargs: Any) -> Any:
            raise NoCredentialsError()

    access = BotoAWSAccess(lambda region: Session())  # type: ignore[arg-type, return-value]
    with pytest.raises(AWSError, match="Unable to locate credentials"):
        access.ssm_parameter("/x", REGION)
