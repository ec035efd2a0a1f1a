"""ECS services on the local endpoint: placement, deployments, circuit breaker and alarms.

Plain boto3 against a local endpoint whose tasks take 0.1 s to start and 0.1 s more to pass
their first health check, so deployments are visibly IN_PROGRESS and still finish in a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecs_helpers import boto3_clients, completed, launch, name, service, task_definition, wait_for

from stackyard.local.runner import LocalEndpoint


@pytest.fixture(scope="module")
def endpoint() -> Iterator[LocalEndpoint]:
    served = LocalEndpoint(latency="resource=0s,AWS::ECS::Task=0.1s,AWS::ECS::HealthCheck=0.1s")
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def client(endpoint: LocalEndpoint) -> Iterator[Callable[[str], Any]]:
    with boto3_clients(endpoint.url) as make:
        yield make


@pytest.fixture
def cluster(client: Callable[[str], Any]) -> str:
    """A cluster of two t3.micro and two m5.large instances, one m5 with profile=web."""
    ecs, ec2 = client("ecs"), client("ec2")
    cluster_name = name("cluster")
    ecs.create_cluster(clusterName=cluster_name)
    launch(ec2, cluster_name, "t3.micro", 2)
    launch(ec2, cluster_name, "m5.large", 1)
    launch(ec2, cluster_name, "m5.large", 1, profile="web")
    return cluster_name


def test_instances_join_from_user_data_with_ecs_attributes(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    assert len(arns) == 4
    types = ecs.list_attributes(
        cluster=cluster, targetType="container-instance", attributeName="ecs.instance-type"
    )["attributes"]
    assert sorted(a["value"] for a in types) == ["m5.large", "m5.large", "t3.micro", "t3.micro"]
    profiles = ecs.list_attributes(
        cluster=cluster, targetType="container-instance", attributeName="profile"
    )["attributes"]
    assert [a["value"] for a in profiles] == ["web"]
    described = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)
    for instance in described["containerInstances"]:
        names = {a["name"] for a in instance["attributes"]}
        assert {"ecs.instance-type", "ecs.availability-zone", "ecs.os-type"} <= names
        cpu = next(r for r in instance["registeredResources"] if r["name"] == "CPU")
        assert cpu["integerValue"] == 2048  # both types have 2 vCPUs


def test_member_of_places_only_on_matching_instances(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    family = name("web")
    ecs.create_service(
        cluster=cluster,
        serviceName="big",
        taskDefinition=task_definition(ecs, family),
        desiredCount=4,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"}
        ],
        placementStrategy=[{"type": "spread", "field": "instanceId"}],
    )
    ecs.create_service(cluster=cluster, serviceName="other", taskDefinition=family, desiredCount=1)
    wait_for(lambda: completed(ecs, cluster, "big"))
    found = service(ecs, cluster, "big")
    assert found["runningCount"] == 4
    assert found["placementConstraints"][0]["expression"] == "attribute:ecs.instance-type =~ m5.*"
    task_arns = ecs.list_tasks(cluster=cluster, serviceName="big")["taskArns"]
    assert len(task_arns) == 4
    tasks = ecs.describe_tasks(cluster=cluster, tasks=task_arns)["tasks"]
    instances = ecs.describe_container_instances(
        cluster=cluster, containerInstances=[t["containerInstanceArn"] for t in tasks]
    )["containerInstances"]
    kinds = {
        i["containerInstanceArn"]: next(
            a["value"] for a in i["attributes"] if a["name"] == "ecs.instance-type"
        )
        for i in instances
    }
    assert set(kinds.values()) == {"m5.large"}
    assert len(kinds) == 2  # spread over both m5 instances
    for task in tasks:
        assert task["lastStatus"] == "RUNNING"
        assert task["group"] == "service:big"
        assert task["startedAt"] and task["containerInstanceArn"]
    wait_for(lambda: completed(ecs, cluster, "other"))
    assert len(ecs.list_tasks(cluster=cluster, serviceName="other")["taskArns"]) == 1


def test_a_task_that_cannot_be_placed_reports_the_ecs_event(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    ecs.create_service(
        cluster=cluster,
        serviceName="nowhere",
        taskDefinition=task_definition(ecs, name("db")),
        desiredCount=1,
        placementConstraints=[{"type": "memberOf", "expression": "attribute:profile == db"}],
    )

    def event() -> str | None:
        messages = [e["message"] for e in service(ecs, cluster, "nowhere")["events"]]
        return next((m for m in messages if "unable to place" in m), None)

    message = wait_for(event)
    assert message.startswith(
        "service nowhere was unable to place a task because no container instance met all "
        "of its requirements. The closest matching container-instance "
    )
    assert message.endswith(
        ' encountered error "MemberOf placement constraint unsatisfied.". For more information, '
        "see the Troubleshooting section of the Amazon ECS Developer Guide."
    )
    assert service(ecs, cluster, "nowhere")["runningCount"] == 0


def test_run_task_places_by_constraints_and_reports_failures(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    family = name("batch")
    task_definition(ecs, family, memory=600)  # two do not fit on one t3.micro
    ran = ecs.run_task(
        cluster=cluster,
        taskDefinition=family,
        count=3,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}
        ],
    )
    assert len(ran["tasks"]) == 2
    # The m5 instances have room but fail the constraint: they came closest.
    assert [f["reason"] for f in ran["failures"]] == ["MemberOf placement constraint unsatisfied."]
    instances = ecs.describe_container_instances(
        cluster=cluster, containerInstances=[t["containerInstanceArn"] for t in ran["tasks"]]
    )["containerInstances"]
    assert {
        next(a["value"] for a in i["attributes"] if a["name"] == "ecs.instance-type")
        for i in instances
    } == {"t3.micro"}
    huge = name("huge")
    task_definition(ecs, huge, memory=100_000)
    refused = ecs.run_task(cluster=cluster, taskDefinition=huge)
    assert refused["tasks"] == []
    assert refused["failures"][0]["reason"] == "RESOURCE:MEMORY"


def test_distinct_instance_and_memory_limit_placement(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    ecs.create_service(
        cluster=cluster,
        serviceName="distinct",
        taskDefinition=task_definition(ecs, name("one")),
        desiredCount=5,
        placementConstraints=[{"type": "distinctInstance"}],
    )

    def four_and_event() -> bool:
        found = service(ecs, cluster, "distinct")
        stuck = any("unable to place" in e["message"] for e in found["events"])
        return found["runningCount"] == 4 and stuck

    wait_for(four_and_event)
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="distinct")["taskArns"]
    )["tasks"]
    assert len({t["containerInstanceArn"] for t in tasks}) == 4
    # A task bigger than any t3.micro lands on the m5s only, with binpack on memory.
    ecs.create_service(
        cluster=cluster,
        serviceName="hungry",
        taskDefinition=task_definition(ecs, name("big"), memory=2048),
        desiredCount=2,
        placementStrategy=[{"type": "binpack", "field": "memory"}],
    )
    wait_for(lambda: completed(ecs, cluster, "hungry"))
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="hungry")["taskArns"]
    )["tasks"]
    # binpack: both on the same m5 instance, which has room for two.
    assert len({t["containerInstanceArn"] for t in tasks}) == 1


def test_daemon_service_runs_one_task_on_each_allowed_instance(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs, ec2 = client("ecs"), client("ec2")
    ecs.create_service(
        cluster=cluster,
        serviceName="agent",
        taskDefinition=task_definition(ecs, name("agent"), memory=64),
        schedulingStrategy="DAEMON",
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}
        ],
    )
    wait_for(lambda: (s := completed(ecs, cluster, "agent")) and s["runningCount"] == 2)
    launch(ec2, cluster, "t3.micro", 1)  # a new instance gets its daemon task
    wait_for(lambda: (s := completed(ecs, cluster, "agent")) and s["runningCount"] == 3)
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="agent")["taskArns"]
    )["tasks"]
    assert len({t["containerInstanceArn"] for t in tasks}) == 3


def stopped_task(ecs: Any, cluster: str, arn: str) -> Callable[[], dict[str, Any] | None]:
    def stopped() -> dict[str, Any] | None:
        found: dict[str, Any] = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    return stopped


def test_tasks_on_terminated_or_draining_instances_are_replaced(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs, ec2 = client("ecs"), client("ec2")
    ecs.create_service(
        cluster=cluster,
        serviceName="sturdy",
        taskDefinition=task_definition(ecs, name("sturdy")),
        desiredCount=2,
        placementConstraints=[
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"},
            {"type": "distinctInstance"},
        ],
    )
    wait_for(lambda: completed(ecs, cluster, "sturdy"))
    [task] = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="sturdy")["taskArns"][:1]
    )["tasks"]
    [instance] = ecs.describe_container_instances(
        cluster=cluster, containerInstances=[task["containerInstanceArn"]]
    )["containerInstances"]
    ec2.terminate_instances(InstanceIds=[instance["ec2InstanceId"]])

    assert wait_for(stopped_task(ecs, cluster, task["taskArn"]))["stoppedReason"] == (
        f"Host EC2 (instance {instance['ec2InstanceId']}) terminated."
    )
    launch(ec2, cluster, "m5.large", 1)
    replaced = wait_for(
        lambda: (s := completed(ecs, cluster, "sturdy")) and s["runningCount"] == 2 and s
    )
    assert replaced["deployments"][0]["rolloutState"] == "COMPLETED"
    # Draining an instance moves its task elsewhere (onto a fresh m5), keeping two running.
    [kept] = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="sturdy")["taskArns"][:1]
    )["tasks"]
    launch(ec2, cluster, "m5.large", 1)
    ecs.update_container_instances_state(
        cluster=cluster, containerInstances=[kept["containerInstanceArn"]], status="DRAINING"
    )
    wait_for(stopped_task(ecs, cluster, kept["taskArn"]))
    moved = wait_for(
        lambda: (s := completed(ecs, cluster, "sturdy")) and s["runningCount"] == 2 and s
    )
    hosts = {
        t["containerInstanceArn"]
        for t in ecs.describe_tasks(
            cluster=cluster,
            tasks=ecs.list_tasks(cluster=cluster, serviceName="sturdy")["taskArns"],
        )["tasks"]
    }
    assert kept["containerInstanceArn"] not in hosts and moved["runningCount"] == 2


def test_auto_scaling_group_instances_join_with_pool_attributes(
    client: Callable[[str], Any],
) -> None:
    from stackyard.library.ecs import pool_user_data

    ecs, ec2, autoscaling = client("ecs"), client("ec2"), client("autoscaling")
    cluster_name = name("pooled")
    ecs.create_cluster(clusterName=cluster_name)
    text = pool_user_data({"profile": "worker"}).replace("${ClusterName}", cluster_name)
    import base64

    template = name("lt")
    ec2.create_launch_template(
        LaunchTemplateName=template,
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "c5.xlarge",
            "UserData": base64.b64encode(text.encode()).decode(),
        },
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name("asg"),
        LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        AvailabilityZones=["us-east-1a"],
    )
    found = ecs.list_attributes(
        cluster=cluster_name,
        targetType="container-instance",
        attributeName="profile",
        attributeValue="worker",
    )["attributes"]
    assert len(found) == 2
    ecs.create_service(
        cluster=cluster_name,
        serviceName="workers",
        taskDefinition=task_definition(ecs, name("w")),
        desiredCount=2,
        placementConstraints=[{"type": "memberOf", "expression": "attribute:profile == worker"}],
    )
    wait_for(lambda: completed(ecs, cluster_name, "workers"))


def test_deployment_rolls_out_and_completes(client: Callable[[str], Any], cluster: str) -> None:
    ecs = client("ecs")
    family = name("roll")
    first = task_definition(ecs, family, image="app:1")
    ecs.create_service(
        cluster=cluster,
        serviceName="rolling",
        taskDefinition=first,
        desiredCount=2,
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 50},
    )
    wait_for(lambda: completed(ecs, cluster, "rolling"))
    second = task_definition(ecs, family, image="app:2")
    updated = ecs.update_service(cluster=cluster, service="rolling", taskDefinition=second)
    deployments = updated["service"]["deployments"]
    assert [(d["status"], d["taskDefinition"]) for d in deployments] == [
        ("PRIMARY", second),
        ("ACTIVE", first),
    ]
    assert deployments[0]["rolloutState"] == "IN_PROGRESS"
    assert deployments[1]["rolloutState"] == "COMPLETED"
    mid = service(ecs, cluster, "rolling")
    assert mid["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    done = wait_for(lambda: completed(ecs, cluster, "rolling"))
    assert done["taskDefinition"] == second
    assert done["runningCount"] == 2
    tasks = ecs.describe_tasks(
        cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, serviceName="rolling")["taskArns"]
    )["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks} == {second}
    stopped = ecs.list_tasks(cluster=cluster, serviceName="rolling", desiredStatus="STOPPED")
    assert len(stopped["taskArns"]) == 2
    messages = [e["message"] for e in done["events"]]
    assert messages[0] == "(service rolling) has reached a steady state."
    assert (
        f"(service rolling) (deployment {done['deployments'][0]['id']}) deployment completed."
        in messages
    )


def test_broken_image_trips_the_circuit_breaker_and_rolls_back(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs = client("ecs")
    family = name("breaker")
    good = task_definition(ecs, family, image="app:1")
    ecs.create_service(
        cluster=cluster,
        serviceName="guarded",
        taskDefinition=good,
        desiredCount=2,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )
    first = wait_for(lambda: completed(ecs, cluster, "guarded"))["deployments"][0]["id"]
    bad = task_definition(ecs, family, image="app:2-unhealthy")
    ecs.update_service(cluster=cluster, service="guarded", taskDefinition=bad)

    def rolled_back() -> dict[str, Any] | None:
        found = service(ecs, cluster, "guarded")
        failed = [d for d in found["deployments"] if d["rolloutState"] == "FAILED"]
        return found if failed else None

    found = rolled_back() or wait_for(rolled_back)
    primary, failed = found["deployments"][0], found["deployments"][1]
    assert primary["taskDefinition"] == good
    assert primary["rolloutStateReason"] == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {first}."
    )
    assert failed["taskDefinition"] == bad
    assert failed["failedTasks"] >= 3
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    done = wait_for(lambda: completed(ecs, cluster, "guarded"))
    assert done["taskDefinition"] == good
    messages = [e["message"] for e in done["events"]]
    assert f"(service guarded) rolling back to deployment {first}." in messages
    stopped = ecs.describe_tasks(
        cluster=cluster,
        tasks=ecs.list_tasks(cluster=cluster, serviceName="guarded", desiredStatus="STOPPED")[
            "taskArns"
        ],
    )["tasks"]
    reasons = {t["stoppedReason"] for t in stopped if t["taskDefinitionArn"] == bad}
    assert "Essential container in task exited" in reasons


def test_without_a_circuit_breaker_failing_tasks_are_replaced_and_old_ones_pruned(
    client: Callable[[str], Any], cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stackyard.local.ecs import service_runner

    monkeypatch.setattr(service_runner, "KEEP_STOPPED", 2)
    ecs = client("ecs")
    ecs.create_service(
        cluster=cluster,
        serviceName="flaky",
        taskDefinition=task_definition(ecs, name("flaky"), image="app:unhealthy"),
        desiredCount=1,
    )
    found = wait_for(
        lambda: (s := service(ecs, cluster, "flaky"))["deployments"][0]["failedTasks"] >= 4 and s
    )
    assert found["deployments"][0]["rolloutState"] == "IN_PROGRESS"  # no breaker: it keeps trying
    stopped = ecs.list_tasks(cluster=cluster, serviceName="flaky", desiredStatus="STOPPED")
    assert len(stopped["taskArns"]) == 2
    ecs.delete_service(cluster=cluster, service="flaky", force=True)


def test_alarm_in_alarm_state_rolls_back_a_deployment(
    client: Callable[[str], Any], cluster: str
) -> None:
    ecs, cloudwatch = client("ecs"), client("cloudwatch")
    alarm = name("errors")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        MetricName="5xx",
        Namespace="App",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    family = name("alarmed")
    good = task_definition(ecs, family, image="app:1")
    ecs.create_service(
        cluster=cluster,
        serviceName="watched",
        taskDefinition=good,
        desiredCount=1,
        deploymentConfiguration={
            "alarms": {"alarmNames": [alarm], "enable": True, "rollback": True},
        },
    )
    wait_for(lambda: completed(ecs, cluster, "watched"))
    newer = task_definition(ecs, family, image="app:2")
    ecs.update_service(cluster=cluster, service="watched", taskDefinition=newer)
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="errors")

    def failed() -> list[dict[str, Any]]:
        found = service(ecs, cluster, "watched")
        return [d for d in found["deployments"] if d["rolloutState"] == "FAILED"]

    [deployment] = wait_for(failed)
    assert deployment["taskDefinition"] == newer
    assert alarm in deployment["rolloutStateReason"]
    done = wait_for(lambda: completed(ecs, cluster, "watched"))
    assert done["taskDefinition"] == good


def test_services_keep_running_and_rolling_after_a_state_restore(tmp_path: Any) -> None:
    from stackyard.local.daemon import ServeOptions, build_endpoint

    options = ServeOptions(port=0, latency="resource=0s", state=str(tmp_path))
    first = build_endpoint(options)
    with boto3_clients(first.start()) as make:
        ecs, ec2 = make("ecs"), make("ec2")
        cluster_name = name("kept")
        ecs.create_cluster(clusterName=cluster_name)
        launch(ec2, cluster_name, "m5.large", 2)
        family = name("kept")
        ecs.create_service(
            cluster=cluster_name,
            serviceName="kept",
            taskDefinition=task_definition(ecs, family),
            desiredCount=2,
        )
        before = wait_for(lambda: completed(ecs, cluster_name, "kept"))
        tasks = sorted(ecs.list_tasks(cluster=cluster_name, serviceName="kept")["taskArns"])
    first.stop()

    second = build_endpoint(options)
    try:
        with boto3_clients(second.start()) as make:
            ecs = make("ecs")
            again = service(ecs, cluster_name, "kept")
            assert again["deployments"][0]["id"] == before["deployments"][0]["id"]
            listed = ecs.list_tasks(cluster=cluster_name, serviceName="kept")["taskArns"]
            assert sorted(listed) == tasks
            newer = task_definition(ecs, family, image="app:after-restore")
            ecs.update_service(cluster=cluster_name, service="kept", taskDefinition=newer)
            done = wait_for(lambda: completed(ecs, cluster_name, "kept"))
            assert done["taskDefinition"] == newer and done["runningCount"] == 2
    finally:
        second.stop()
