"""16 clients creating, describing, updating and deleting at once, while ECS services roll
deployments in the background: not one 5xx."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from stackyard.local.daemon import Served, ServeOptions, build_endpoint

THREADS = 16
ROUNDS = 2
ROLLERS = 2


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    served = build_endpoint(ServeOptions(port=0, latency="resource=0s"))
    served.start()
    try:
        yield served
    finally:
        served.stop()


def template(value: str) -> str:
    return json.dumps(
        {
            "Parameters": {"Value": {"Type": "String", "Default": value}},
            "Resources": {
                "Param": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
                },
                "Queue": {"Type": "AWS::SQS::Queue"},
            },
            "Outputs": {"ParamName": {"Value": {"Ref": "Param"}}},
        }
    )


def settle(cfn: Any, name: str) -> str:
    """Poll DescribeStacks until the stack leaves *_IN_PROGRESS; return its status."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status: str = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except botocore.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                return "DELETE_COMPLETE"
            raise
        if not status.endswith("_IN_PROGRESS"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{name} did not settle")


def worker(url: str, index: int, barrier: threading.Barrier) -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    # No retries: any 5xx or dropped connection surfaces as an exception.
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=30)
    ssm, s3, sqs, cfn = (
        session.client(name, endpoint_url=url, config=config)
        for name in ("ssm", "s3", "sqs", "cloudformation")
    )
    tag = f"{uuid.uuid4().hex[:8]}-{index}"
    barrier.wait()
    for round_ in range(ROUNDS):
        stack = f"stress-{tag}-{round_}"
        cfn.create_stack(StackName=stack, TemplateBody=template("one"))

        name = f"/stress/{tag}/{round_}"
        ssm.put_parameter(Name=name, Value="one", Type="String")
        ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "two"
        ssm.describe_parameters(MaxResults=10)

        bucket = f"stress-{tag}-{round_}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"one")
        s3.put_object(Bucket=bucket, Key="k", Body=b"two")
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
        s3.list_objects_v2(Bucket=bucket)

        queue = sqs.create_queue(QueueName=f"stress-{tag}-{round_}")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="m")
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "5"})
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])

        assert settle(cfn, stack) == "CREATE_COMPLETE"
        cfn.update_stack(
            StackName=stack,
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Value", "ParameterValue": "two"}],
        )
        cfn.describe_stack_events(StackName=stack)
        cfn.list_stacks()
        assert settle(cfn, stack) == "UPDATE_COMPLETE"

        ssm.delete_parameter(Name=name)
        s3.delete_object(Bucket=bucket, Key="k")
        s3.delete_bucket(Bucket=bucket)
        sqs.delete_queue(QueueUrl=queue)
        cfn.delete_stack(StackName=stack)
        assert settle(cfn, stack) == "DELETE_COMPLETE"


def roller(url: str, index: int, barrier: threading.Barrier, done: threading.Event) -> int:
    """Keep rolling an ECS service behind a target group until ``done``; return the rolls."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=30)
    ecs, ec2, elbv2 = (
        session.client(n, endpoint_url=url, config=config) for n in ("ecs", "ec2", "elbv2")
    )
    try:
        cluster = f"stress-{uuid.uuid4().hex[:8]}-{index}"
        ecs.create_cluster(clusterName=cluster)
        ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=2,
            MaxCount=2,
            InstanceType="m5.large",
            UserData=f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n",
        )
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
        group = elbv2.create_target_group(
            Name=cluster[:32], Protocol="HTTP", Port=80, VpcId=vpc["VpcId"]
        )["TargetGroups"][0]["TargetGroupArn"]
        balancer = elbv2.create_load_balancer(
            Name=cluster[:32], Subnets=[s["SubnetId"] for s in subnets["Subnets"][:2]]
        )["LoadBalancers"][0]["LoadBalancerArn"]
        elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )

        def definition(revision: int) -> str:
            arn: str = ecs.register_task_definition(
                family=cluster,
                containerDefinitions=[
                    {
                        "name": "web",
                        "image": f"app:{revision}",
                        "memory": 64,
                        "portMappings": [{"containerPort": 80}],
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
            return arn

        ecs.create_service(
            cluster=cluster,
            serviceName="web",
            taskDefinition=definition(0),
            desiredCount=2,
            loadBalancers=[{"targetGroupArn": group, "containerName": "web", "containerPort": 80}],
        )
        barrier.wait()
        rolls = 0
        while not done.is_set():
            rolls += 1
            ecs.update_service(cluster=cluster, service="web", taskDefinition=definition(rolls))
            ecs.describe_services(cluster=cluster, services=["web"])
            arns = ecs.list_tasks(cluster=cluster, serviceName="web")["taskArns"]
            if arns:
                ecs.describe_tasks(cluster=cluster, tasks=arns)
            elbv2.describe_target_health(TargetGroupArn=group)
            time.sleep(0.05)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
            states = [d["rolloutState"] for d in found["deployments"]]
            if states == ["COMPLETED"] and found["runningCount"] == 2:
                return rolls
            time.sleep(0.05)
        raise AssertionError(
            f"the service did not settle after {rolls} rolls: {found['deployments']}"
        )
    finally:
        for client in (ecs, ec2, elbv2):
            client.close()


def test_sixteen_clients_at_once_get_no_server_errors(served: Served) -> None:
    served.calls.reset()
    barrier = threading.Barrier(THREADS + ROLLERS)
    errors: list[BaseException] = []
    done = threading.Event()
    rolls: list[int] = []

    def run(index: int) -> None:
        try:
            worker(served.endpoint.url, index, barrier)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)
            barrier.abort()

    def roll(index: int) -> None:
        try:
            rolls.append(roller(served.endpoint.url, index, barrier, done))
        except BaseException as exc:  # collected and reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    rolling = [threading.Thread(target=roll, args=(i,)) for i in range(ROLLERS)]
    for thread in threads + rolling:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    for thread in rolling:
        thread.join(timeout=60)

    assert not errors, errors[:3]
    assert len(rolls) == ROLLERS and min(rolls) >= 2, rolls
    counts = served.calls.snapshot()
    statuses = counts["statuses"]
    assert "5xx" not in statuses and "dropped" not in statuses, statuses
    # The only client errors: DescribeStacks by name once a stack is gone, as on AWS.
    assert statuses.get("4xx", 0) <= THREADS * ROUNDS, statuses
    services = counts["services"]
    assert services["cloudformation"]["CreateStack"] == THREADS * ROUNDS
    assert services["cloudformation"]["DeleteStack"] == THREADS * ROUNDS
    assert services["s3"]["DeleteBucket"] == THREADS * ROUNDS
    assert services["sqs"]["DeleteQueue"] == THREADS * ROUNDS
    assert services["ssm"]["DeleteParameter"] == THREADS * ROUNDS
    assert services["ecs"]["UpdateService"] == sum(rolls)
