"""Stack lifecycle on the local CloudFormation: async progress, events, failure and rollback."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from stackyard.local.runner import LocalEndpoint


def _param_template(value_ref: str = "Value", name: str | None = None) -> str:
    props: dict = {"Type": "String", "Value": {"Ref": value_ref}}
    if name:
        props["Name"] = name
    return json.dumps(
        {
            "Parameters": {"Value": {"Type": "String", "Default": "one"}},
            "Resources": {
                "Param": {"Type": "AWS::SSM::Parameter", "Properties": props},
                "Queue": {"Type": "AWS::SQS::Queue"},
            },
            "Outputs": {
                "ParamName": {"Value": {"Ref": "Param"}},
                "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
                "ValueOut": {"Value": {"Ref": "Value"}},
            },
        }
    )


def test_create_is_visibly_in_progress_then_complete(aws, unique, wait_stack) -> None:
    with LocalEndpoint(latency="resource=0.3s") as slow:
        import boto3

        cfn = boto3.client(
            "cloudformation", endpoint_url=slow.url, region_name="us-east-1",
            aws_access_key_id="t", aws_secret_access_key="t",
        )  # fmt: skip
        name = unique("slow")
        cfn.create_stack(StackName=name, TemplateBody=_param_template())
        assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == (
            "CREATE_IN_PROGRESS"
        )
        assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"


def test_events_are_per_resource_newest_first(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("events")
    cfn.create_stack(StackName=name, TemplateBody=_param_template())
    stack = wait_stack(cfn, name)
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    stamps = [e["Timestamp"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    seen = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    for logical in ("Param", "Queue"):
        assert (logical, "CREATE_IN_PROGRESS") in seen
        assert (logical, "CREATE_COMPLETE") in seen
    assert events[0]["ResourceStatus"] == "CREATE_COMPLETE"
    assert events[0]["LogicalResourceId"] == name
    assert events[-1]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    ssm = aws("ssm")
    assert ssm.get_parameter(Name=outputs["ParamName"])["Parameter"]["Value"] == "one"
    assert outputs["QueueArn"].startswith("arn:aws:sqs:us-east-1:")


def test_events_paginate(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("page")
    resources = {f"Q{i}": {"Type": "AWS::SQS::Queue"} for i in range(40)}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))
    wait_stack(cfn, name)
    pages = list(cfn.get_paginator("describe_stack_events").paginate(StackName=name))
    assert len(pages) > 1
    assert sum(len(p["StackEvents"]) for p in pages) == 2 + 40 * 3


def test_failed_create_rolls_back(aws, unique, wait_stack) -> None:
    ssm = aws("ssm")
    taken = f"/{unique('taken')}"
    ssm.put_parameter(Name=taken, Value="x", Type="String")
    cfn = aws("cloudformation")
    name = unique("fail")
    template = json.loads(_param_template(name=taken))
    template["Resources"]["Param"]["DependsOn"] = "Queue"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and failed[0]["LogicalResourceId"] == "Param"
    assert failed[0]["ResourceStatusReason"]
    own = [e for e in events if e["LogicalResourceId"] == name]
    assert [e["ResourceStatus"] for e in own[:2]] == ["ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS"]
    assert "[Param]" in own[1]["ResourceStatusReason"]
    queue = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Queue")
    assert queue["StackResourceDetail"]["ResourceStatus"] == "DELETE_COMPLETE"
    assert stack.get("Outputs", []) == []
    with pytest.raises(ClientError, match="can not be updated"):
        cfn.update_stack(StackName=name, TemplateBody=_param_template())


@pytest.mark.parametrize(
    ("options", "final"),
    [
        ({"OnFailure": "DO_NOTHING"}, "CREATE_FAILED"),
        ({"DisableRollback": True}, "CREATE_FAILED"),
        ({"OnFailure": "DELETE"}, "DELETE_COMPLETE"),
    ],
)
def test_on_failure_options(aws, unique, wait_stack, options, final) -> None:
    s3 = aws("s3")
    bucket = unique("taken-bucket")
    s3.create_bucket(Bucket=bucket)
    cfn = aws("cloudformation")
    name = unique("onfail")
    body = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}}}
    stack_id = cfn.create_stack(StackName=name, TemplateBody=json.dumps(body), **options)["StackId"]
    assert wait_stack(cfn, stack_id)["StackStatus"] == final
    if final == "DELETE_COMPLETE":
        with pytest.raises(ClientError, match="does not exist"):
            cfn.describe_stacks(StackName=name)


def test_failed_update_restores_previous_state(aws, unique, wait_stack) -> None:
    ssm = aws("ssm")
    taken = f"/{unique('taken')}"
    ssm.put_parameter(Name=taken, Value="x", Type="String")
    cfn = aws("cloudformation")
    name = unique("upd")
    cfn.create_stack(StackName=name, TemplateBody=_param_template())
    before = wait_stack(cfn, name)
    template = json.loads(_param_template())
    template["Resources"]["Clash"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": taken, "Type": "String", "Value": "y"},
        "DependsOn": "Param",
    }
    template["Outputs"]["Extra"] = {"Value": "new"}
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "Value", "ParameterValue": "two"}],
    )
    after = wait_stack(cfn, name)
    assert after["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert after["Outputs"] == before["Outputs"]
    assert after["Parameters"] == before["Parameters"]
    assert json.loads(
        cfn.get_template(StackName=name)["TemplateBody"]
        if isinstance(cfn.get_template(StackName=name)["TemplateBody"], str)
        else json.dumps(cfn.get_template(StackName=name)["TemplateBody"])
    ) == json.loads(_param_template())
    outputs = {o["OutputKey"]: o["OutputValue"] for o in after["Outputs"]}
    assert ssm.get_parameter(Name=outputs["ParamName"])["Parameter"]["Value"] == "one"
    statuses = [e["ResourceStatus"] for e in cfn.describe_stack_events(StackName=name)[
        "StackEvents"] if e["LogicalResourceId"] == name]  # fmt: skip
    assert "UPDATE_ROLLBACK_IN_PROGRESS" in statuses
    assert ssm.get_parameter(Name=taken)["Parameter"]["Value"] == "x"


def test_outputs_follow_updates_and_no_updates_is_exact(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("outs")
    cfn.create_stack(StackName=name, TemplateBody=_param_template())
    wait_stack(cfn, name)
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName=name, TemplateBody=_param_template())
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(
            StackName=name,
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Value", "UsePreviousValue": True}],
        )
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(
            StackName=name,
            TemplateBody=_param_template(),
            Parameters=[{"ParameterKey": "Value", "ParameterValue": "one"}],
        )
    cfn.update_stack(StackName=name, TemplateBody=_param_template(), Tags=[
        {"Key": "team", "Value": "infra"}])  # fmt: skip
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Value", "ParameterValue": "two"}],
    )
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["ValueOut"] == "two"


def test_delete_and_describe_deleted_by_arn(aws, unique, wait_stack) -> None:
    cfn = aws("cloudformation")
    name = unique("del")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=_param_template())["StackId"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in wait_stack(cfn, name)["Outputs"]}
    cfn.delete_stack(StackName=name)
    assert wait_stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName=name)
    with pytest.raises(ClientError):
        aws("ssm").get_parameter(Name=outputs["ParamName"])
    listed = cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert stack_id in {s["StackId"] for s in listed}


def test_emulator_state_pickles(aws, unique, wait_stack, local_endpoint) -> None:
    import pickle

    cfn = aws("cloudformation")
    name = unique("pickle")
    cfn.create_stack(StackName=name, TemplateBody=_param_template())
    wait_stack(cfn, name)
    restored = pickle.loads(pickle.dumps(local_endpoint.emulator))
    stack = next(s for s in restored.stacks.values() if s.name == name)
    assert stack.status == "CREATE_COMPLETE"
    assert stack.resources["Queue"].attributes["Arn"].startswith("arn:aws:sqs:")
