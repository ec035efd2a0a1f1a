"""What canary rollouts need of the local AWS: CloudWatch alarms made by a stack (listed, set,
kept through an update, deleted), a target group's full name for their dimension, rules with
an http-header condition in simulated traffic, and listener rules pinned against ModifyRule."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from stackyard.local.elbv2.traffic import send_traffic
from stackyard.local.runner import LocalEndpoint


def _template(threshold: float) -> str:
    return json.dumps(
        {
            "Resources": {
                "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.7.0.0/16"}},
                "Group": {
                    "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                    "Properties": {"Port": 80, "Protocol": "HTTP", "VpcId": {"Ref": "Vpc"}},
                },
                "Errors": {
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "AlarmName": {"Fn::Sub": "${AWS::StackName}-5xx"},
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Statistic": "Sum",
                        "Period": 60,
                        "EvaluationPeriods": 1,
                        "Threshold": threshold,
                        "ComparisonOperator": "GreaterThanThreshold",
                        "Dimensions": [
                            {
                                "Name": "TargetGroup",
                                "Value": {"Fn::GetAtt": ["Group", "TargetGroupFullName"]},
                            }
                        ],
                    },
                },
            },
            "Outputs": {
                "FullName": {"Value": {"Fn::GetAtt": ["Group", "TargetGroupFullName"]}},
                "Alarm": {"Value": {"Ref": "Errors"}},
                "AlarmArn": {"Value": {"Fn::GetAtt": ["Errors", "Arn"]}},
            },
        }
    )


def test_a_stacks_alarm_lives_in_cloudwatch_and_keeps_its_state_through_an_update(
    aws: Callable[[str], Any], wait_stack: Callable[..., dict[str, Any]]
) -> None:
    cfn, cloudwatch = aws("cloudformation"), aws("cloudwatch")
    stack = f"alarms-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=stack, TemplateBody=_template(10))
    made = wait_stack(cfn, stack)
    assert made["StackStatus"] == "CREATE_COMPLETE", made
    outputs = {o["OutputKey"]: o["OutputValue"] for o in made["Outputs"]}
    assert outputs["Alarm"] == f"{stack}-5xx"
    assert outputs["AlarmArn"].endswith(f":alarm:{stack}-5xx")
    assert outputs["FullName"].startswith("targetgroup/")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{stack}-5xx"])["MetricAlarms"]
    assert alarm["Threshold"] == 10.0
    assert alarm["Dimensions"] == [{"Name": "TargetGroup", "Value": outputs["FullName"]}]
    cloudwatch.set_alarm_state(AlarmName=f"{stack}-5xx", StateValue="ALARM", StateReason="test")
    cfn.update_stack(StackName=stack, TemplateBody=_template(20))
    assert wait_stack(cfn, stack)["StackStatus"] == "UPDATE_COMPLETE"
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{stack}-5xx"])["MetricAlarms"]
    assert (alarm["Threshold"], alarm["StateValue"]) == (20.0, "ALARM")
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 1})
    assert cloudwatch.describe_alarms(AlarmNames=[f"{stack}-5xx"])["MetricAlarms"] == []


def _network(aws: Callable[[str], Any]) -> tuple[str, list[str]]:
    ec2, elbv2 = aws("ec2"), aws("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    suffix = uuid.uuid4().hex[:8]
    balancer = elbv2.create_load_balancer(Name=f"pins-{suffix}", Subnets=subnets)
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]
    groups = [
        elbv2.create_target_group(Name=f"g{i}-{suffix}", Protocol="HTTP", Port=80, VpcId=vpc)[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for i in range(2)
    ]
    return listener, groups


def _weighted(parent: str, canary: str, weight: int) -> list[dict[str, Any]]:
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": parent, "Weight": 100 - weight},
                    {"TargetGroupArn": canary, "Weight": weight},
                ]
            },
        }
    ]


def _pin(endpoint: LocalEndpoint, rule: str, pinned: bool) -> dict[str, Any]:
    request = urllib.request.Request(
        endpoint.url + "/_stackyard/elbv2/pinned-rules",
        data=json.dumps({"rule_arn": rule, "pinned": pinned}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def test_a_header_rule_takes_only_requests_with_the_header_and_a_pinned_rule_stays(
    aws: Callable[[str], Any], local_endpoint: LocalEndpoint
) -> None:
    elbv2 = aws("elbv2")
    listener, (parent, canary) = _network(aws)
    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
    header = {
        "Field": "http-header",
        "HttpHeaderConfig": {"HttpHeaderName": "X-Stackyard-Environment", "Values": ["prod/c*"]},
    }
    rule = elbv2.create_rule(
        ListenerArn=listener,
        Priority=20,
        Conditions=[path],
        Actions=[{"Type": "forward", "TargetGroupArn": parent}],
    )["Rules"][0]["RuleArn"]
    elbv2.create_rule(
        ListenerArn=listener,
        Priority=19,
        Conditions=[path, header],
        Actions=[{"Type": "forward", "TargetGroupArn": canary}],
    )
    url = local_endpoint.url
    plain = send_traffic(url, listener, 100, path="/x")
    assert plain["target_groups"] == {parent: 100}
    marked = send_traffic(
        url, listener, 100, path="/x", headers={"x-stackyard-environment": "prod/canary"}
    )
    assert marked["target_groups"] == {canary: 100}

    assert _pin(local_endpoint, rule, True)["pinned"] == [rule]
    elbv2.modify_rule(RuleArn=rule, Actions=_weighted(parent, canary, 50))
    actions = elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
    assert actions == [{"Type": "forward", "TargetGroupArn": parent}]
    assert _pin(local_endpoint, rule, False)["pinned"] == []
    elbv2.modify_rule(RuleArn=rule, Actions=_weighted(parent, canary, 50))
    groups = elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]["ForwardConfig"]
    assert [g["Weight"] for g in groups["TargetGroups"]] == [50, 50]
