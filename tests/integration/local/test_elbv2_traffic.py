"""Load balancers on the local endpoint: ECS tasks as targets with health that follows them,
weighted forward actions with AWS's limits, and simulated traffic through listeners."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions
import pytest
from ecs_helpers import boto3_clients, completed, launch, task_definition, wait_for

from stackyard.local.elbv2.traffic import send_traffic
from stackyard.local.runner import LocalEndpoint


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    served = LocalEndpoint(latency="resource=0s,AWS::ECS::Task=0.1s,AWS::ECS::HealthCheck=0.1s")
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def client(endpoint: LocalEndpoint) -> Iterator[Callable[[str], Any]]:
    with boto3_clients(endpoint.url) as make:
        yield make


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def network(client: Callable[[str], Any]) -> dict[str, Any]:
    """A VPC with two subnets, a load balancer and two target groups."""
    ec2, elbv2 = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    balancer = elbv2.create_load_balancer(Name=name("lb"), Subnets=subnets)["LoadBalancers"][0]
    groups = [
        elbv2.create_target_group(
            Name=name(f"tg{i}"),
            Protocol="HTTP",
            Port=80,
            VpcId=vpc,
            HealthCheckIntervalSeconds=5,
            HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        for i in range(6)
    ]
    return {"vpc": vpc, "subnets": subnets, "lb": balancer["LoadBalancerArn"], "groups": groups}


def forward(*weighted: tuple[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weighted]
            },
        }
    ]


def refused(call: Callable[[], Any]) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationError"
    return str(error["Message"])


def test_weights_outside_aws_limits_are_refused(
    client: Callable[[str], Any], network: dict[str, Any]
) -> None:
    elbv2 = client("elbv2")
    a, b = network["groups"][:2]

    def listener(actions: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: elbv2.create_listener(
            LoadBalancerArn=network["lb"], Protocol="HTTP", Port=8081, DefaultActions=actions
        )

    assert refused(listener(forward((a, 1000), (b, 1)))) == (
        "1 validation error detected: Value '1000' at "
        "'defaultActions.1.member.forwardConfig.targetGroups.1.member.weight' failed to "
        "satisfy constraint: Member must have value less than or equal to 999"
    )
    assert refused(listener(forward((a, 5), (b, -1)))).endswith(
        "'defaultActions.1.member.forwardConfig.targetGroups.2.member.weight' failed to "
        "satisfy constraint: Member must have value greater than or equal to 0"
    )
    six = [(arn, 1) for arn in network["groups"]]
    assert "Member must have length less than or equal to 5" in refused(listener(forward(*six)))
    made = elbv2.create_listener(
        LoadBalancerArn=network["lb"],
        Protocol="HTTP",
        Port=8082,
        DefaultActions=forward((a, 999), (b, 0)),
    )["Listeners"][0]
    rule = lambda w: elbv2.create_rule(  # noqa: E731
        ListenerArn=made["ListenerArn"],
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/x/*"]}],
        Actions=forward((a, w)),
    )
    assert "'actions.1.member.forwardConfig.targetGroups.1.member.weight'" in refused(
        lambda: rule(1500)
    )
    assert "Member must have value less than or equal to 999" in refused(
        lambda: elbv2.modify_listener(
            ListenerArn=made["ListenerArn"], DefaultActions=forward((a, 1), (b, 1000))
        )
    )
    elbv2.delete_listener(ListenerArn=made["ListenerArn"])


@pytest.fixture(scope="module")
def canary(client: Callable[[str], Any], network: dict[str, Any]) -> dict[str, Any]:
    """Services 'stable' (2 tasks, group 0) and 'canary' (1 task, group 1) behind a listener
    that forwards 90/10, with a rule sending /canary/* to the canary only and one sending
    api.*.example.com to the stable group only."""
    ecs, ec2, elbv2 = client("ecs"), client("ec2"), client("elbv2")
    cluster = name("lbc")
    ecs.create_cluster(clusterName=cluster)
    launch(ec2, cluster, "m5.large", 2)
    stable_group, canary_group = network["groups"][:2]
    listener = elbv2.create_listener(
        LoadBalancerArn=network["lb"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=forward((stable_group, 90), (canary_group, 10)),
    )["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/canary/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": canary_group}],
    )
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.*.example.com"]}}
        ],
        Actions=[{"Type": "forward", "TargetGroupArn": stable_group}],
    )
    for service, group, count, image in (
        ("stable", stable_group, 2, "app:1"),
        ("canary", canary_group, 1, "app:2"),
    ):
        ecs.create_service(
            cluster=cluster,
            serviceName=service,
            taskDefinition=task_definition(ecs, name(service), image=image),
            desiredCount=count,
            loadBalancers=[{"targetGroupArn": group, "containerName": "web", "containerPort": 80}],
        )
    return {
        "cluster": cluster,
        "listener": listener,
        "stable": stable_group,
        "canary": canary_group,
    }


def test_a_service_on_a_target_group_no_listener_uses_is_refused(
    client: Callable[[str], Any], network: dict[str, Any]
) -> None:
    ecs = client("ecs")
    cluster = name("lonely")
    ecs.create_cluster(clusterName=cluster)
    lonely = network["groups"][5]  # no listener forwards to it
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ecs.create_service(
            cluster=cluster,
            serviceName="web",
            taskDefinition=task_definition(ecs, name("web")),
            desiredCount=1,
            loadBalancers=[{"targetGroupArn": lonely, "containerName": "web", "containerPort": 80}],
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == (
        f"The target group with targetGroupArn {lonely} does not have an associated load balancer."
    )


def target_states(elbv2: Any, group: str) -> list[str]:
    described = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return [d["TargetHealth"]["State"] for d in described]


def test_service_tasks_become_healthy_targets(
    client: Callable[[str], Any], canary: dict[str, Any]
) -> None:
    ecs, elbv2 = client("ecs"), client("elbv2")
    seen: set[str] = set()

    def healthy() -> bool:
        states = target_states(elbv2, canary["stable"])
        seen.update(states)
        return states == ["healthy", "healthy"]

    wait_for(healthy)
    assert "initial" in seen  # registered first, healthy after the health check
    wait_for(lambda: target_states(elbv2, canary["canary"]) == ["healthy"])
    described = elbv2.describe_target_health(TargetGroupArn=canary["stable"])
    tasks = ecs.describe_tasks(
        cluster=canary["cluster"],
        tasks=ecs.list_tasks(cluster=canary["cluster"], serviceName="stable")["taskArns"],
    )["tasks"]
    instances = ecs.describe_container_instances(
        cluster=canary["cluster"], containerInstances=[t["containerInstanceArn"] for t in tasks]
    )["containerInstances"]
    ids = {d["Target"]["Id"] for d in described["TargetHealthDescriptions"]}
    assert ids <= {i["ec2InstanceId"] for i in instances}
    ports = {d["Target"]["Port"] for d in described["TargetHealthDescriptions"]}
    assert all(port >= 32768 for port in ports)  # dynamic host ports


def test_weights_ninety_ten_split_simulated_traffic(
    endpoint: LocalEndpoint, client: Callable[[str], Any], canary: dict[str, Any]
) -> None:
    elbv2 = client("elbv2")
    wait_for(lambda: target_states(elbv2, canary["stable"]) == ["healthy", "healthy"])
    wait_for(lambda: target_states(elbv2, canary["canary"]) == ["healthy"])
    answer = send_traffic(endpoint.url, canary["listener"], 1000, path="/orders", seed=42)
    assert answer["statuses"] == {"200": 1000}
    share = answer["target_groups"].get(canary["canary"], 0)
    assert 70 <= share <= 130, answer["target_groups"]
    assert answer["target_groups"][canary["stable"]] == 1000 - share
    assert len(answer["tasks"]) == 3
    routed = send_traffic(endpoint.url, canary["listener"], 50, path="/canary/x", seed=1)
    assert routed["target_groups"] == {canary["canary"]: 50}
    assert routed["rule"].startswith("arn:aws:elasticloadbalancing:")
    hosted = send_traffic(endpoint.url, canary["listener"], 50, host="API.eu.example.com", seed=1)
    assert hosted["target_groups"] == {canary["stable"]: 50}  # host rule, priority 5
    assert hosted["rule"] != routed["rule"]


def test_an_image_marked_unhealthy_fails_its_targets_and_tasks(
    endpoint: LocalEndpoint, client: Callable[[str], Any], canary: dict[str, Any]
) -> None:
    ecs, elbv2 = client("ecs"), client("elbv2")
    wait_for(lambda: completed(ecs, canary["cluster"], "canary"))
    [before] = ecs.list_tasks(cluster=canary["cluster"], serviceName="canary")["taskArns"]

    def post(body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            endpoint.url + "/_stackyard/health/images",
            data=json.dumps(body).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    assert post({"image": "app:2", "healthy": False})["failing"] == ["app:2"]
    try:
        seen: set[str] = set()

        def stopped() -> dict[str, Any] | None:
            seen.update(target_states(elbv2, canary["canary"]))
            task = ecs.describe_tasks(cluster=canary["cluster"], tasks=[before])["tasks"][0]
            return task if task["lastStatus"] == "STOPPED" else None

        task = wait_for(stopped)
        assert task["stoppedReason"] == (
            f"Task failed ELB health checks in (target-group {canary['canary']})"
        )
        assert "unhealthy" in seen
    finally:
        assert post({"image": "app:2", "healthy": True})["failing"] == []
    wait_for(lambda: target_states(elbv2, canary["canary"]) == ["healthy"])
    [after] = ecs.list_tasks(cluster=canary["cluster"], serviceName="canary")["taskArns"]
    assert after != before  # the service replaced its failed task


def test_fargate_tasks_register_their_addresses_in_ip_target_groups(
    client: Callable[[str], Any], network: dict[str, Any]
) -> None:
    ecs, ec2, elbv2 = client("ecs"), client("ec2"), client("elbv2")
    group = elbv2.create_target_group(
        Name=name("ip"), Protocol="HTTP", Port=8080, VpcId=network["vpc"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=network["lb"],
        Protocol="HTTP",
        Port=9090,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    security_group = ec2.create_security_group(
        GroupName=name("sg"), Description="tasks", VpcId=network["vpc"]
    )["GroupId"]
    cluster = name("fargate")
    ecs.create_cluster(clusterName=cluster)
    definition = ecs.register_task_definition(
        family=name("api"),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "api", "image": "api:1", "portMappings": [{"containerPort": 8080}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName="api",
        taskDefinition=definition,
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": network["subnets"][:1],
                "securityGroups": [security_group],
            }
        },
        loadBalancers=[{"targetGroupArn": group, "containerName": "api", "containerPort": 8080}],
    )
    wait_for(lambda: target_states(elbv2, group) == ["healthy", "healthy"])
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="api")["taskArns"]
    )["tasks"]
    addresses = {
        detail["value"]
        for task in tasks
        for attachment in task["attachments"]
        for detail in attachment["details"]
        if detail["name"] == "privateIPv4Address"
    }
    described = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    assert {d["Target"]["Id"] for d in described} == addresses
    assert {d["Target"]["Port"] for d in described} == {8080}


def test_a_rollout_registers_new_targets_and_drains_old_ones(
    client: Callable[[str], Any], canary: dict[str, Any]
) -> None:
    ecs, elbv2 = client("ecs"), client("elbv2")
    wait_for(lambda: completed(ecs, canary["cluster"], "canary"))

    def targets() -> dict[str, str]:
        described = elbv2.describe_target_health(TargetGroupArn=canary["canary"])
        return {
            f"{d['Target']['Id']}:{d['Target']['Port']}": d["TargetHealth"]["State"]
            for d in described["TargetHealthDescriptions"]
        }

    [before] = targets()
    ecs.update_service(
        cluster=canary["cluster"],
        service="canary",
        taskDefinition=task_definition(ecs, name("canary"), image="app:3"),
    )
    seen: set[str] = set()

    def replaced() -> bool:
        now = targets()
        seen.add(now.get(before, "gone"))
        return before not in now and list(now.values()) == ["healthy"]

    wait_for(replaced)
    assert {"healthy", "draining", "gone"} <= seen
