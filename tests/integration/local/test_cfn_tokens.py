"""Client request tokens under the ``lost`` fault: the write lands, its answer is lost, and the
SDK's retry with the same token is answered as the first call would have been."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from stackyard.local.daemon import Served, ServeOptions, build_endpoint
from stackyard.local.faults import FaultSpec

REGION = "us-east-1"
TOPIC = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}'
TWO_TOPICS = (
    '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Other": {"Type": "AWS::SNS::Topic"}}}'
)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    served = build_endpoint(ServeOptions(port=0, latency="resource=0s"))
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def cfn(served: Served) -> Iterator[Any]:
    served.faults.set_spec(None)
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, read_timeout=10)
    yield session.client("cloudformation", endpoint_url=served.endpoint.url, config=config)
    served.faults.set_spec(None)


def lose_first_call(served: Served, action: str) -> None:
    """Fault the next call of ``action`` with ``lost`` and let the retry through."""
    for seed in range(1000):
        spec = FaultSpec.parse(f"seed={seed},cloudformation:{action}=lost:0.5")
        if (
            spec.decide("cloudformation", action, 1) == "lost"
            and spec.decide("cloudformation", action, 2) is None
        ):
            served.faults.set_spec(spec)
            return
    raise AssertionError("no seed loses the first call only")


def lost_count(served: Served, action: str) -> int:
    injected = served.faults.report()["injected"].get(f"cloudformation:{action}", {})
    return int(injected.get("lost", 0))


def settle(cfn: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        stack: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.02)


def tokens_of(cfn: Any, name: str) -> set[str | None]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return {event.get("ClientRequestToken") for event in events}


def test_lost_create_stack_is_retried_idempotently(served: Served, cfn: Any) -> None:
    name = f"tok-{uuid.uuid4().hex[:10]}"
    lose_first_call(served, "CreateStack")
    stack_id = cfn.create_stack(StackName=name, TemplateBody=TOPIC, ClientRequestToken="create-1")[
        "StackId"
    ]
    assert lost_count(served, "CreateStack") == 1
    stack = settle(cfn, name)
    assert (stack["StackId"], stack["StackStatus"]) == (stack_id, "CREATE_COMPLETE")
    assert tokens_of(cfn, name) == {"create-1"}


def test_lost_create_stack_without_a_token_fails_its_retry(served: Served, cfn: Any) -> None:
    name = f"tok-{uuid.uuid4().hex[:10]}"
    lose_first_call(served, "CreateStack")
    with pytest.raises(botocore.exceptions.ClientError, match="AlreadyExists"):
        cfn.create_stack(StackName=name, TemplateBody=TOPIC)
    assert settle(cfn, name)["StackStatus"] == "CREATE_COMPLETE"


def test_lost_update_and_delete_are_retried_idempotently(served: Served, cfn: Any) -> None:
    name = f"tok-{uuid.uuid4().hex[:10]}"
    cfn.create_stack(StackName=name, TemplateBody=TOPIC)
    settle(cfn, name)

    lose_first_call(served, "UpdateStack")
    cfn.update_stack(StackName=name, TemplateBody=TWO_TOPICS, ClientRequestToken="update-1")
    assert lost_count(served, "UpdateStack") == 1
    assert settle(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    assert {r["LogicalResourceId"] for r in resources} == {"Topic", "Other"}
    assert tokens_of(cfn, name) == {None, "update-1"}

    lose_first_call(served, "DeleteStack")
    stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=name, ClientRequestToken="delete-1")
    assert lost_count(served, "DeleteStack") == 1
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    newest = cfn.describe_stack_events(StackName=stack_id)["StackEvents"][0]
    assert (newest["ResourceStatus"], newest["ClientRequestToken"]) == (
        "DELETE_COMPLETE",
        "delete-1",
    )


def test_lost_change_set_calls_are_retried_idempotently(served: Served, cfn: Any) -> None:
    name = f"tok-{uuid.uuid4().hex[:10]}"
    cfn.create_stack(StackName=name, TemplateBody=TOPIC)
    settle(cfn, name)

    lose_first_call(served, "CreateChangeSet")
    created = cfn.create_change_set(
        StackName=name, ChangeSetName="more", TemplateBody=TWO_TOPICS, ClientToken="cs-1"
    )
    assert lost_count(served, "CreateChangeSet") == 1
    listed = cfn.list_change_sets(StackName=name)["Summaries"]
    assert [c["ChangeSetId"] for c in listed] == [created["Id"]]

    lose_first_call(served, "ExecuteChangeSet")
    cfn.execute_change_set(ChangeSetName=created["Id"], ClientRequestToken="exec-1")
    assert lost_count(served, "ExecuteChangeSet") == 1
    assert settle(cfn, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert "exec-1" in tokens_of(cfn, name)
    # A later execution with another token is a new request, refused as on AWS.
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(ChangeSetName=created["Id"], ClientRequestToken="exec-2")


def test_a_token_of_a_deleted_stack_creates_a_new_one(cfn: Any) -> None:
    name = f"tok-{uuid.uuid4().hex[:10]}"
    first = cfn.create_stack(StackName=name, TemplateBody=TOPIC, ClientRequestToken="again")
    retried = cfn.create_stack(StackName=name, TemplateBody=TOPIC, ClientRequestToken="again")
    assert retried["StackId"] == first["StackId"]
    settle(cfn, name)
    cfn.delete_stack(StackName=name)
    settle(cfn, first["StackId"])
    second = cfn.create_stack(StackName=name, TemplateBody=TOPIC, ClientRequestToken="again")
    assert second["StackId"] != first["StackId"]
    assert settle(cfn, name)["StackStatus"] == "CREATE_COMPLETE"
