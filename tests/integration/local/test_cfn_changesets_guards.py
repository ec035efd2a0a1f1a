"""Change sets, guards (protection, policies, capabilities, NoEcho, exports) and bad input."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def _queue(name_param: bool = False, fifo: bool = False, delay: int = 0) -> str:
    props: dict = {"DelaySeconds": {"Ref": "Delay"}}
    if fifo:
        props["FifoQueue"] = True
    return json.dumps(
        {
            "Parameters": {
                "Delay": {"Type": "Number", "Default": str(delay)},
                "Secret": {"Type": "String", "NoEcho": True, "Default": "hunter2"},
            },
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": props},
                "Other": {"Type": "AWS::SQS::Queue"},
            },
            "Outputs": {"Url": {"Value": {"Ref": "Queue"}, "Export": {"Name": "x"}}}
            if name_param
            else {"Url": {"Value": {"Ref": "Queue"}}},
        }
    )


def _create(aws, wait_stack, name, body, **kw):
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=body, **kw)
    return wait_stack(cfn, name)


def test_change_sets_replacement_details_and_execution(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("cs")
    created = cfn.create_change_set(
        StackName=name, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=_queue()
    )
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    described = cfn.describe_change_set(ChangeSetName=created["Id"])
    assert {c["ResourceChange"]["Action"] for c in described["Changes"]} == {"Add"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}[
        "Secret"
    ] == "****"
    cfn.execute_change_set(ChangeSetName="create", StackName=name)
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"].startswith("http")
    with pytest.raises(ClientError, match="cannot be executed"):
        cfn.execute_change_set(ChangeSetName=created["Id"])

    # parameter-only change lists the resource that uses it, no replacement
    cfn.create_change_set(
        StackName=name, ChangeSetName="param", UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Delay", "ParameterValue": "5"}],
    )  # fmt: skip
    changes = cfn.describe_change_set(ChangeSetName="param", StackName=name)["Changes"]
    assert [c["ResourceChange"]["LogicalResourceId"] for c in changes] == ["Queue"]
    change = changes[0]["ResourceChange"]
    assert change["Action"] == "Modify" and change["Replacement"] == "False"
    assert change["Scope"] == ["Properties"]
    assert any(
        d["ChangeSource"] == "ParameterReference" and d["CausingEntity"] == "Delay"
        and d["Target"]["Name"] == "DelaySeconds"
        for d in change["Details"]
    )  # fmt: skip

    # a create-only property change replaces
    cfn.create_change_set(StackName=name, ChangeSetName="fifo", TemplateBody=_queue(fifo=True))
    fifo = cfn.describe_change_set(ChangeSetName="fifo", StackName=name)["Changes"]
    queue = next(
        c["ResourceChange"] for c in fifo if c["ResourceChange"]["LogicalResourceId"] == "Queue"
    )
    assert queue["Replacement"] == "True"
    assert {"Target": {"Attribute": "Properties", "Name": "FifoQueue", "RequiresRecreation": "Always"},
            "Evaluation": "Static", "ChangeSource": "DirectModification"} in queue["Details"]  # fmt: skip

    # an empty change set fails with AWS's reason
    cfn.create_change_set(StackName=name, ChangeSetName="empty", UsePreviousTemplate=True)
    empty = cfn.describe_change_set(ChangeSetName="empty", StackName=name)
    assert empty["Status"] == "FAILED"
    assert "didn't contain changes" in empty["StatusReason"]

    summaries = cfn.list_change_sets(StackName=name)["Summaries"]
    assert {s["ChangeSetName"] for s in summaries} == {"create", "param", "fifo", "empty"}

    cfn.execute_change_set(ChangeSetName="param", StackName=name)
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    statuses = {s["ChangeSetName"]: s["ExecutionStatus"] for s in cfn.list_change_sets(
        StackName=name)["Summaries"]}  # fmt: skip
    # executing one change set deletes the stack's others, as AWS does
    assert statuses == {"param": "EXECUTE_COMPLETE"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Delay"] == "5"
    with pytest.raises(ClientError, match=r"ChangeSetNotFound|does not exist"):
        cfn.describe_change_set(ChangeSetName="fifo", StackName=name)


def test_replacement_conditional_from_schema() -> None:
    from stackyard.local.cloudformation.replacement import property_recreation
    from stackyard.schemas import conditional_create_only_properties

    kinds = [t for t in ("AWS::Lambda::Function", "AWS::RDS::DBInstance", "AWS::EC2::Instance")
             if conditional_create_only_properties(t)]  # fmt: skip
    assert kinds
    rtype = kinds[0]
    prop = conditional_create_only_properties(rtype)[0].split("/")[0]
    assert property_recreation(rtype, prop, {prop: "a"}, {prop: "b"}) == "Conditionally"


def test_termination_protection(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("tp")
    stack_id = _create(aws, wait_stack, name, _queue(), EnableTerminationProtection=True)["StackId"]
    with pytest.raises(ClientError, match="TerminationProtection is enabled"):
        cfn.delete_stack(StackName=name)
    cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    assert not cfn.describe_stacks(StackName=name)["Stacks"][0]["EnableTerminationProtection"]
    cfn.delete_stack(StackName=name)
    assert wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_stack_policy_blocks_update(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("policy")
    policy = {"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "Update:*", "Principal": "*",
         "Resource": "LogicalResourceId/Queue"},
    ]}  # fmt: skip
    _create(aws, wait_stack, name, _queue(), StackPolicyBody=json.dumps(policy))
    assert json.loads(cfn.get_stack_policy(StackName=name)["StackPolicyBody"]) == policy
    cfn.update_stack(StackName=name, TemplateBody=_queue(delay=3))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason", "") for e in cfn.describe_stack_events(
        StackName=name)["StackEvents"] if e["ResourceStatus"] == "UPDATE_FAILED"]  # fmt: skip
    assert any("stack policy" in r for r in reasons)


def test_capabilities_and_noecho(aws, unique) -> None:
    cfn = aws("cloudformation")
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": []}}}  # fmt: skip
    with pytest.raises(ClientError) as err:
        cfn.create_stack(
            StackName=unique("iam"), TemplateBody=json.dumps({"Resources": {"R": role}})
        )
    assert err.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    named = dict(role, Properties=dict(role["Properties"], RoleName=unique("role")))
    with pytest.raises(ClientError, match="CAPABILITY_NAMED_IAM"):
        cfn.create_stack(
            StackName=unique("iam"), TemplateBody=json.dumps({"Resources": {"R": named}}),
            Capabilities=["CAPABILITY_IAM"],
        )  # fmt: skip
    cfn.create_stack(
        StackName=unique("iam"), TemplateBody=json.dumps({"Resources": {"R": named}}),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )  # fmt: skip


def test_noecho_masked_in_describe(aws, unique, wait_stack) -> None:
    stack = _create(aws, wait_stack, unique("noecho"), _queue(),
                    Parameters=[{"ParameterKey": "Secret", "ParameterValue": "s3cr3t"}])  # fmt: skip
    values = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert values["Secret"] == "****"


def test_export_in_use_cannot_be_deleted(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    export = unique("export")
    producer, consumer = unique("producer"), unique("consumer")
    _create(aws, wait_stack, producer, json.dumps({
        "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Q", "Arn"]}, "Export": {"Name": export}}},
    }))  # fmt: skip
    exports = {e["Name"]: e for e in cfn.list_exports()["Exports"]}
    assert exports[export]["Value"].startswith("arn:aws:sqs")
    consumed = _create(aws, wait_stack, consumer, json.dumps({
        "Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": {"Fn::ImportValue": export}}}},
    }))  # fmt: skip
    assert consumed["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_imports(ExportName=export)["Imports"] == [consumer]
    with pytest.raises(ClientError, match="in use by"):
        cfn.delete_stack(StackName=producer)
    cfn.update_stack(StackName=producer, TemplateBody=json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))  # fmt: skip
    assert wait_stack(cfn, producer)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert export in {e["Name"] for e in cfn.list_exports()["Exports"]}


def test_unknown_type_rejected_and_unprovisionable_recorded(
    aws, unique, wait_stack, local_endpoint
) -> None:
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match=r"Unrecognized resource types: \[AWS::Foo::Bar\]"):
        cfn.create_stack(StackName=unique("bad"), TemplateBody=json.dumps(
            {"Resources": {"X": {"Type": "AWS::Foo::Bar"}}}))  # fmt: skip
    name = unique("waf")
    stack = _create(aws, wait_stack, name, json.dumps({
        "Resources": {
            "Acl": {"Type": "AWS::WAFv2::RegexPatternSet", "Properties": {
                "Scope": "REGIONAL", "RegularExpressionList": ["^a"]}},
        },
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Acl", "Arn"]}}},
    }))  # fmt: skip
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"].startswith("arn:aws:wafv2:us-east-1:")
    physical = cfn.describe_stack_resources(StackName=name)["StackResources"][0]
    assert physical["PhysicalResourceId"].endswith("|REGIONAL")
    assert local_endpoint.emulator.unsupported_types().get("AWS::WAFv2::RegexPatternSet", 0) >= 1


def test_template_url_on_own_host(aws, unique, wait_stack, local_endpoint) -> None:
    s3 = aws("s3")
    bucket = unique("templates")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="t.json", Body=_queue().encode())
    cfn = aws("cloudformation")
    name = unique("url")
    cfn.create_stack(StackName=name, TemplateURL=f"{local_endpoint.url}/{bucket}/t.json")
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    port = local_endpoint.port
    summary = cfn.get_template_summary(TemplateURL=f"http://localhost:{port}/{bucket}/t.json")
    assert {p["ParameterKey"] for p in summary["Parameters"]} == {"Delay", "Secret"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"StackName": "ok", "TemplateBody": "{not json"}, "JSON not well-formed"),
        ({"StackName": "ok", "TemplateBody": "Resources: [a"}, "YAML not well-formed"),
        ({"StackName": "ok", "TemplateBody": "{}"}, "At least one Resources member"),
        ({"StackName": "bad_name!", "TemplateBody": '{"Resources": {}}'}, "stackName"),
        ({"StackName": "ok", "TemplateBody": json.dumps({
            "Parameters": {"P": {"Type": "String"}},
            "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})}, r"Parameters: \[P\] must have values"),
        ({"StackName": "ok", "TemplateBody": json.dumps({"Resources": {"Q": {
            "Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": "Nope"}}}}})},
         r"Unresolved resource dependencies \[Nope\]"),
    ],
)  # fmt: skip
def test_bad_input_gives_aws_errors_and_endpoint_keeps_serving(aws, kwargs, message) -> None:
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match=message) as err:
        cfn.create_stack(**kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="never-created-stack")
    cfn.list_stacks()
