"""The cluster query language, task placement and deployment arithmetic of the local ECS."""

from __future__ import annotations

import random
from typing import Any

import pytest

from stackyard.local.ecs.deployments import circuit_breaker_threshold, deployment_limits
from stackyard.local.ecs.placement import Candidate, Requirements, place, requirements_of
from stackyard.local.ecs.query import Instance, QueryError, parse
from stackyard.local.elbv2.weights import forward_targets

M5 = Instance(
    attributes={
        "ecs.instance-type": "m5.large",
        "ecs.availability-zone": "us-east-1a",
        "profile": "web",
        "flag": None,
    },
    ec2_instance_id="i-0abc",
    running_tasks_count=3,
    task_groups=("service:api", "family:web"),
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("attribute:ecs.instance-type =~ m5.*", True),
        ("attribute:ecs.instance-type =~ t3.*", False),
        ("attribute:ecs.instance-type matches m?.large", True),
        ("attribute:ecs.instance-type !~ t3.*", True),
        ("attribute:profile == web", True),
        ("attribute:profile==web", True),
        ("attribute:profile equals db", False),
        ("attribute:profile != db", True),
        ("attribute:flag exists", True),
        ("attribute:missing exists", False),
        ("attribute:missing !exists", True),
        ("attribute:missing not_exists", True),
        ("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", True),
        ("attribute:ecs.availability-zone in (us-east-1b, us-east-1c)", False),
        ("attribute:ecs.availability-zone not_in (us-east-1b)", True),
        ("runningTasksCount > 2", True),
        ("runningTasksCount >= 4", False),
        ("runningTasksCount less_than 10", True),
        ("ec2InstanceId == i-0abc", True),
        ("task:group == service:api", True),
        ("task:group == service:other", False),
        ("not(task:group == service:api)", False),
        ("attribute:profile == db or attribute:ecs.instance-type =~ m5.*", True),
        ("attribute:profile == web && !(attribute:ecs.instance-type =~ m5.*)", False),
        ("(attribute:profile == db || attribute:profile == web) and runningTasksCount < 5", True),
    ],
)
def test_cluster_query_language(expression: str, expected: bool) -> None:
    assert parse(expression)(M5) is expected


@pytest.mark.parametrize(
    "expression", ["", "attribute:x", "attribute:x === y", "nothing == 1", "(attribute:x == y"]
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(QueryError):
        parse(expression)


def candidate(
    arn: str, kind: str, zone: str, cpu: int = 2048, memory: int = 4096, **kw: Any
) -> Candidate:
    return Candidate(
        arn=f"arn:aws:ecs:us-east-1:1:container-instance/c/{arn}",
        ec2_instance_id=f"i-{arn}",
        attributes={"ecs.instance-type": kind, "ecs.availability-zone": zone},
        cpu=cpu,
        memory=memory,
        used_ports=frozenset(kw.pop("ports", ())),
        **kw,
    )


def test_placement_filters_resources_ports_and_constraints_then_reports_the_closest() -> None:
    small = candidate("a", "t3.micro", "us-east-1a", cpu=2048, memory=900)
    busy = candidate("b", "m5.large", "us-east-1b", ports={"80"})
    needs = Requirements(cpu=256, memory=1024, ports=frozenset({"80"}))
    result = place([small, busy], needs)
    assert result.chosen is None
    assert (
        result.reason
        == "The closest matching container-instance b is already using a port required by your task."
    )
    free = candidate("c", "m5.large", "us-east-1c")
    assert place([small, busy, free], needs).chosen is free
    member_of = [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}]
    refused = place([busy, free], Requirements(memory=10), constraints=member_of)
    assert refused.reason.endswith(
        'encountered error "MemberOf placement constraint unsatisfied.".'
    )
    assert refused.code == "MemberOf placement constraint unsatisfied."
    assert place([], needs).reason == "Reason: No Container Instances were found in your cluster."


def test_strategies_spread_binpack_and_distinct_instance() -> None:
    a = candidate("a", "m5.large", "us-east-1a", memory=3000, task_groups=["service:s"])
    b = candidate("b", "m5.large", "us-east-1a", memory=1000)
    c = candidate("c", "m5.large", "us-east-1b", memory=2000)
    needs = Requirements(memory=100)
    # Default for services: spread over zones first (us-east-1b has none of this service).
    assert place([a, b, c], needs, group="service:s").chosen is c
    binpack = [{"type": "binpack", "field": "memory"}]
    assert place([a, b, c], needs, strategies=binpack, group="service:s").chosen is b
    spread = [{"type": "spread", "field": "instanceId"}]
    assert place([a, b], needs, strategies=spread, group="service:s").chosen is b
    distinct = [{"type": "distinctInstance"}]
    only_a = place([a], needs, constraints=distinct, group="service:s")
    assert only_a.chosen is None
    chosen = {
        getattr(
            place([a, b, c], needs, strategies=[{"type": "random"}], rng=random.Random(i)).chosen,
            "arn",
            None,
        )
        for i in range(20)
    }
    assert len(chosen) > 1


def test_requirements_of_a_task_definition() -> None:
    class Definition:
        network_mode = "bridge"
        memory = None
        cpu = None
        container_definitions = [
            {"cpu": 256, "memory": 512, "portMappings": [{"containerPort": 80, "hostPort": 8080}]},
            {"memoryReservation": 128, "portMappings": [{"containerPort": 9000}]},
        ]

    assert requirements_of(Definition()) == Requirements(
        cpu=256, memory=640, ports=frozenset({"8080"})
    )


@pytest.mark.parametrize(
    ("desired", "threshold"), [(1, 3), (2, 3), (6, 3), (7, 4), (10, 5), (1000, 200)]
)
def test_circuit_breaker_threshold(desired: int, threshold: int) -> None:
    assert circuit_breaker_threshold(desired) == threshold


def test_deployment_limits_round_the_minimum_up_and_the_maximum_down() -> None:
    assert deployment_limits(3, {"minimumHealthyPercent": 50, "maximumPercent": 150}) == (2, 4)
    assert deployment_limits(2, {}) == (2, 4)


def test_forward_targets_of_an_action() -> None:
    assert forward_targets({"Type": "forward", "TargetGroupArn": "tg-1"}) == [("tg-1", 1)]
    weighted = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": "a", "Weight": "90"}, {"TargetGroupArn": "b"}]
        },
    }
    assert forward_targets(weighted) == [("a", 90), ("b", 1)]
