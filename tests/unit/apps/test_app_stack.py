"""The app's stack as the library blueprint renders it: per exposed process a target group,
its listener rule (with a canary's header), its CloudWatch alarms and the outputs a canary
rollout reads."""

from __future__ import annotations

import json
from typing import Any

from stackyard.context import Context
from stackyard.library.app_service import AppService
from stackyard.lint import lint_template

LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/gw/0123456789abcdef/"
    "fedcba9876543210"
)


def _render(exposed: dict[str, Any], alarms: dict[str, Any]) -> tuple[dict[str, Any], str]:
    variables = {
        "AppName": "api",
        "EnvironmentName": "prod/canary",
        "Release": 3,
        "Image": "repo@sha256:abc",
        "ClusterName": "cluster",
        "VpcId": "vpc-0123456789abcdef0",
        "ListenerArn": LISTENER,
        "Processes": {
            "web": {
                "command": "bin/web",
                "count": 1,
                "cpu": 128,
                "memory": 256,
                "port": 8080,
                "exposed": exposed,
                "health": {"path": "/health"},
                "alarms": alarms,
            },
            "worker": {"command": "bin/worker", "count": 1, "memory": 256},
        },
    }
    body = AppService("app-api-prod-canary", Context(namespace="ops-prod")).to_json(variables)
    return json.loads(body), body


def test_a_canary_rule_adds_the_header_and_its_alarms_watch_its_target_group() -> None:
    header = {"name": "X-Stackyard-Environment", "value": "prod/canary"}
    template, body = _render(
        {"host": "api.example.com", "priority": 99, "header": header},
        {"http_5xx": 5, "latency": 1.5},
    )
    resources = template["Resources"]
    rule = resources["WebListenerRule"]["Properties"]
    assert rule["Priority"] == 99
    assert rule["Conditions"][-1] == {
        "Field": "http-header",
        "HttpHeaderConfig": {
            "HttpHeaderName": "X-Stackyard-Environment",
            "Values": ["prod/canary"],
        },
    }
    errors = resources["WebErrorsAlarm"]["Properties"]
    latency = resources["WebLatencyAlarm"]["Properties"]
    assert errors["AlarmName"] == "ops-prod-app-api-prod-canary-web-5xx"
    assert (errors["MetricName"], errors["Threshold"]) == ("HTTPCode_Target_5XX_Count", 5)
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", 1.5)
    dimensions = {d["Name"]: d["Value"] for d in errors["Dimensions"]}
    assert dimensions["TargetGroup"] == {"Fn::GetAtt": ["WebTargetGroup", "TargetGroupFullName"]}
    outputs = template["Outputs"]
    assert outputs["WebTargetGroupArn"]["Value"] == {"Ref": "WebTargetGroup"}
    assert outputs["WebListenerRuleArn"]["Value"] == {"Ref": "WebListenerRule"}
    assert outputs["WebAlarms"]["Value"] == (
        "ops-prod-app-api-prod-canary-web-5xx,ops-prod-app-api-prod-canary-web-latency"
    )
    assert "WorkerTargetGroupArn" not in outputs
    assert [str(f) for f in lint_template(body, "us-east-1") if f.is_error] == []


def test_an_alarm_limit_of_zero_leaves_the_alarm_out() -> None:
    template, _ = _render({"host": "api.example.com"}, {"http_5xx": 0, "latency": 2.0})
    assert "WebErrorsAlarm" not in template["Resources"]
    assert template["Outputs"]["WebAlarms"]["Value"] == "ops-prod-app-api-prod-canary-web-latency"
    conditions = template["Resources"]["WebListenerRule"]["Properties"]["Conditions"]
    assert [c["Field"] for c in conditions] == ["host-header", "path-pattern"]
