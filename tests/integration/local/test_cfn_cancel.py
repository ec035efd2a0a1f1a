"""CancelUpdateStack on the local CloudFormation, with plain boto3.

Timing matters here, so each test runs its own endpoint with a per-resource latency that leaves
time to cancel, instead of the shared endpoint with none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackyard.local.runner import LocalEndpoint

Waiter = Callable[..., dict[str, Any]]
Namer = Callable[[str], str]


@pytest.fixture
def slow_cfn() -> Iterator[Any]:
    """A CloudFormation client on a private endpoint where each resource takes 0.6s."""
    import boto3

    with LocalEndpoint(latency="resource=0.6s") as endpoint:
        yield boto3.client(
            "cloudformation",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _template(value: str, delay: int) -> str:
    """A parameter, and a queue that waits for it (so an update takes two steps)."""
    return json.dumps(
        {
            "Resources": {
                "Param": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": value},
                },
                "Queue": {
                    "Type": "AWS::SQS::Queue",
                    "DependsOn": "Param",
                    "Properties": {"DelaySeconds": delay},
                },
            },
            "Outputs": {"Value": {"Value": {"Fn::GetAtt": ["Param", "Value"]}}},
        }
    )


def _events(cfn: Any, name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        events.extend(page["StackEvents"])
    return events[::-1]  # oldest first


def test_cancel_update_rolls_back_to_the_previous_template(
    slow_cfn: Any, unique: Namer, wait_stack: Waiter
) -> None:
    cfn = slow_cfn
    name = unique("cancel")
    before = _template("one", 0)
    cfn.create_stack(StackName=name, TemplateBody=before)
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    param = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Param")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]

    cfn.update_stack(StackName=name, TemplateBody=_template("two", 5))
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
    cfn.cancel_update_stack(StackName=name)

    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {"Value": "one"}
    body = cfn.get_template(StackName=name)["TemplateBody"]  # botocore parses JSON bodies
    assert (json.loads(body) if isinstance(body, str) else body) == json.loads(before)

    statuses = [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
        for e in _events(cfn, name)
    ]
    stack_statuses = [s for logical, s, _ in statuses if logical == name]
    assert stack_statuses[-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    assert (name, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled") in statuses
    # the queue waits for the parameter, so the cancel stopped the update before reaching it
    started = statuses.index((name, "UPDATE_IN_PROGRESS", "User Initiated"))
    assert not [s for s in statuses[started:] if s[0] == "Queue"]

    # the parameter itself is back at its previous value
    import boto3

    ssm = boto3.client(
        "ssm",
        endpoint_url=cfn.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert ssm.get_parameter(Name=param)["Parameter"]["Value"] == "one"

    # and the stack takes a new update afterwards
    cfn.update_stack(StackName=name, TemplateBody=_template("three", 1))
    assert wait_stack(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name=param)["Parameter"]["Value"] == "three"


def test_cancel_outside_an_update_is_refused(
    slow_cfn: Any, unique: Namer, wait_stack: Waiter
) -> None:
    cfn = slow_cfn
    name = unique("cancel-idle")
    cfn.create_stack(StackName=name, TemplateBody=_template("one", 0))
    with pytest.raises(ClientError) as creating:
        cfn.cancel_update_stack(StackName=name)
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as idle:
        cfn.cancel_update_stack(StackName=name)
    for raised in (creating, idle):
        error = raised.value.response["Error"]
        assert error["Code"] == "ValidationError"
        assert "CancelUpdateStack cannot be called from current stack status" in error["Message"]


def test_cancel_during_the_last_resource_still_rolls_back(
    slow_cfn: Any, unique: Namer, wait_stack: Waiter
) -> None:
    cfn = slow_cfn
    name = unique("cancel-last")

    def template(value: str) -> str:
        return json.dumps(
            {
                "Resources": {
                    "Param": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Type": "String", "Value": value},
                    }
                },
                "Outputs": {"Value": {"Value": {"Fn::GetAtt": ["Param", "Value"]}}},
            }
        )

    cfn.create_stack(StackName=name, TemplateBody=template("one"))
    assert wait_stack(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_stack(StackName=name, TemplateBody=template("two"))
    cfn.cancel_update_stack(StackName=name)
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert stack["Outputs"][0]["OutputValue"] == "one"
