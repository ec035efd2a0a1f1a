"""Reading a canary's health: unhealthy targets, ECS's unhealthy-target events (which outlive
the target), a deployment ECS rolled back, and alarms in ALARM. AWS here is a fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stackyard.apps.health import HealthWatch

SINCE = datetime(2026, 12, 1, 12, 0, 0)
TASK_DEF = "arn:task-definition/web:7"


class Fake:
    def __init__(
        self,
        targets: list[tuple[str, str]] | None = None,
        events: list[tuple[str, datetime]] | None = None,
        deployments: list[dict[str, Any]] | None = None,
        alarms: dict[str, str] | None = None,
    ) -> None:
        self.targets = targets if targets is not None else [("healthy", ""), ("healthy", "")]
        self.events = events or []
        self.deployments = deployments or [
            {"status": "PRIMARY", "taskDefinition": TASK_DEF, "rolloutState": "COMPLETED"}
        ]
        self.alarms = alarms or {"s-web-5xx": "OK", "s-web-latency": "INSUFFICIENT_DATA"}
        self.calls: list[str] = []

    def describe_target_health(self, TargetGroupArn: str) -> dict[str, Any]:
        self.calls.append("DescribeTargetHealth")
        return {
            "TargetHealthDescriptions": [
                {
                    "Target": {"Id": f"i-{n}", "Port": 32768 + n},
                    "TargetHealth": {"State": state, "Description": why},
                }
                for n, (state, why) in enumerate(self.targets)
            ]
        }

    def describe_services(self, cluster: str, services: list[str]) -> dict[str, Any]:
        self.calls.append("DescribeServices")
        return {
            "services": [
                {
                    "serviceName": name,
                    "desiredCount": 2,
                    "deployments": self.deployments,
                    "events": [{"message": m, "createdAt": at} for m, at in self.events],
                }
                for name in services
            ]
        }

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
        self.calls.append("DescribeAlarms")
        return {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": self.alarms[n], "StateReason": "set by a test"}
                for n in AlarmNames
            ]
        }


def _watch(fake: Fake) -> HealthWatch:
    return HealthWatch(
        fake,
        fake,
        fake,
        "cluster",
        {"web": "arn:tg/canary"},
        {"web": ("svc-web", TASK_DEF), "worker": ("svc-worker", TASK_DEF)},
        sorted(fake.alarms),
        SINCE,
    )


def test_a_healthy_reading_costs_one_call_of_each_kind() -> None:
    fake = Fake()
    health = _watch(fake).read()
    assert health.ok and (health.healthy, health.targets) == (2, 2)
    assert health.summary() == "healthy 2/2, alarms: web-5xx OK, web-latency INSUFFICIENT_DATA"
    assert fake.calls == ["DescribeTargetHealth", "DescribeServices", "DescribeAlarms"]
    assert health.reads == 3


def test_an_unhealthy_target_fails_the_reading_and_draining_does_not_count() -> None:
    fake = Fake(targets=[("healthy", ""), ("unhealthy", "Health checks failed"), ("draining", "")])
    health = _watch(fake).read()
    assert (health.healthy, health.targets) == (1, 2)
    assert health.problem == "web: target i-1:32769 is unhealthy (Health checks failed)"


def test_an_ecs_event_since_the_start_tells_of_a_target_already_replaced() -> None:
    message = (
        "(service svc-web) (instance i-9) (port 32790) is unhealthy in (target-group "
        "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/y) due to (reason Health checks "
        "failed)."
    )
    before = Fake(targets=[("initial", "")], events=[(message, SINCE - timedelta(seconds=5))])
    assert _watch(before).read().ok
    after = SINCE.replace(tzinfo=UTC) + timedelta(seconds=5)
    health = _watch(Fake(targets=[("initial", "")], events=[(message, after)])).read()
    assert health.problem == "web: ECS found target i-9:32790 unhealthy (Health checks failed)"


def test_a_deployment_ecs_rolled_back_fails_the_reading() -> None:
    rolled_back = [
        {
            "status": "PRIMARY",
            "taskDefinition": "arn:task-definition/web:6",
            "rolloutState": "IN_PROGRESS",
        }
    ]
    health = _watch(Fake(deployments=rolled_back)).read()
    assert health.problem is not None and health.problem.startswith("web: ")


def test_an_alarm_in_alarm_fails_the_reading() -> None:
    health = _watch(Fake(alarms={"s-web-5xx": "ALARM", "s-web-latency": "OK"})).read()
    assert health.problem == "alarm s-web-5xx is in ALARM (set by a test)"
    assert health.alarms == {"s-web-5xx": "ALARM", "s-web-latency": "OK"}
