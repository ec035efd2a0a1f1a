"""Helpers shared by the local ECS and ELBv2 tests: instances that join a cluster, task
definitions, waiting for a service to settle."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user_data(cluster: str, attributes: dict[str, str] | None = None) -> str:
    lines = ["#!/bin/bash", "cat >> /etc/ecs/ecs.config <<'EOF'", f"ECS_CLUSTER={cluster}"]
    if attributes:
        lines.append(f"ECS_INSTANCE_ATTRIBUTES={json.dumps(attributes)}")
    return "\n".join([*lines, "EOF", ""])


def launch(ec2: Any, cluster: str, instance_type: str, count: int, **attributes: str) -> list[str]:
    """EC2 instances whose user data joins ``cluster``, as the ECS agent would."""
    reservation = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=count,
        MaxCount=count,
        InstanceType=instance_type,
        UserData=user_data(cluster, attributes or None),
    )
    return [i["InstanceId"] for i in reservation["Instances"]]


def wait_for(what: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def service(ecs: Any, cluster: str, name_: str) -> dict[str, Any]:
    found: dict[str, Any] = ecs.describe_services(cluster=cluster, services=[name_])["services"][0]
    return found


def task_definition(ecs: Any, family: str, image: str = "nginx:1.27", memory: int = 128) -> str:
    arn: str = ecs.register_task_definition(
        family=family,
        containerDefinitions=[
            {
                "name": "web",
                "image": image,
                "memory": memory,
                "cpu": 128,
                "portMappings": [{"containerPort": 80, "hostPort": 0}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def completed(ecs: Any, cluster: str, name_: str) -> dict[str, Any] | None:
    found = service(ecs, cluster, name_)
    deployments = found["deployments"]
    if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
        return found
    return None


@contextmanager
def boto3_clients(url: str, region: str = "us-east-1") -> Iterator[Callable[[str], Any]]:
    """``make("ecs")`` gives a boto3 client on ``url``; every client is closed at the end, so
    no socket outlives the endpoint."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    config = Config(retries={"mode": "standard", "max_attempts": 1})
    made: list[Any] = []

    def make(service_name: str) -> Any:
        made.append(session.client(service_name, endpoint_url=url, config=config))
        return made[-1]

    try:
        yield make
    finally:
        for client in made:
            client.close()
