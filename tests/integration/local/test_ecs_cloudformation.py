"""ECS services, task definitions and weighted listeners through the local CloudFormation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ecs_helpers import completed, launch, wait_for

from stackyard.local.elbv2.traffic import send_traffic
from stackyard.local.runner import LocalEndpoint

NETWORK: dict[str, Any] = {
    "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
    "SubnetA": {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "VpcId": {"Ref": "Vpc"},
            "CidrBlock": "10.20.1.0/24",
            "AvailabilityZone": "us-east-1a",
        },
    },
    "SubnetB": {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "VpcId": {"Ref": "Vpc"},
            "CidrBlock": "10.20.2.0/24",
            "AvailabilityZone": "us-east-1b",
        },
    },
    "Balancer": {
        "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Properties": {"Subnets": [{"Ref": "SubnetA"}, {"Ref": "SubnetB"}]},
    },
    "Stable": {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "Port": 80, "Protocol": "HTTP"},
    },
    "Canary": {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {"VpcId": {"Ref": "Vpc"}, "Port": 80, "Protocol": "HTTP"},
    },
}


def weighted(stable: Any, canary: Any) -> dict[str, Any]:
    return {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": {"Ref": "Stable"}, "Weight": stable},
                {"TargetGroupArn": {"Ref": "Canary"}, "Weight": canary},
            ]
        },
    }


def app_template() -> str:
    resources = dict(NETWORK)
    resources.update(
        {
            "Listener": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": "Balancer"},
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [weighted(90, 10)],
                },
            },
            "CanaryRule": {
                "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
                "Properties": {
                    "ListenerArn": {"Ref": "Listener"},
                    "Priority": 10,
                    "Conditions": [
                        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/canary/*"]}}
                    ],
                    "Actions": [weighted(0, 1)],
                },
            },
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": {"Fn::Sub": "${AWS::StackName}-web"},
                    "TaskRoleArn": "arn:aws:iam::123456789012:role/web-task",
                    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
                    "ContainerDefinitions": [
                        {
                            "Name": "web",
                            "Image": {"Ref": "Image"},
                            "Memory": 128,
                            "PortMappings": [{"ContainerPort": 80}],
                            "Secrets": [
                                {
                                    "Name": "DB_PASSWORD",
                                    "ValueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db",
                                }
                            ],
                        }
                    ],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "DependsOn": "Listener",
                "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "TaskDefinition": {"Ref": "TaskDefinition"},
                    "DesiredCount": {"Ref": "Count"},
                    "LoadBalancers": [
                        {
                            "TargetGroupArn": {"Ref": "Stable"},
                            "ContainerName": "web",
                            "ContainerPort": 80,
                        }
                    ],
                    "DeploymentConfiguration": {
                        "MaximumPercent": 200,
                        "MinimumHealthyPercent": 50,
                        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    },
                    "PlacementConstraints": [
                        {"Type": "memberOf", "Expression": "attribute:ecs.instance-type =~ m5.*"}
                    ],
                    "PlacementStrategies": [{"Type": "spread", "Field": "instanceId"}],
                },
            },
        }
    )
    return json.dumps(
        {
            "Parameters": {
                "Cluster": {"Type": "String"},
                "Image": {"Type": "String", "Default": "app:1"},
                "Count": {"Type": "Number", "Default": 1},
            },
            "Resources": resources,
            "Outputs": {
                "Listener": {"Value": {"Ref": "Listener"}},
                "Service": {"Value": {"Ref": "Service"}},
                "Stable": {"Value": {"Ref": "Stable"}},
                "Canary": {"Value": {"Ref": "Canary"}},
            },
        }
    )


def parameters(**values: Any) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]


def test_service_stack_with_load_balancer_weights_and_deployments(
    local_endpoint: LocalEndpoint,
    aws: Callable[[str], Any],
    wait_stack: Callable[..., dict[str, Any]],
    unique: Callable[[str], str],
) -> None:
    cfn, ecs, ec2, elbv2 = aws("cloudformation"), aws("ecs"), aws("ec2"), aws("elbv2")
    cluster = unique("cfn-cluster")
    ecs.create_cluster(clusterName=cluster)
    launch(ec2, cluster, "m5.large", 2)
    launch(ec2, cluster, "t3.micro", 1)
    stack = unique("app")
    cfn.create_stack(
        StackName=stack, TemplateBody=app_template(), Parameters=parameters(Cluster=cluster)
    )
    created = wait_stack(cfn, stack)
    assert created["StackStatus"] == "CREATE_COMPLETE", created.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in created["Outputs"]}

    [listener] = elbv2.describe_listeners(ListenerArns=[outputs["Listener"]])["Listeners"]
    groups = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert [(g["TargetGroupArn"], g["Weight"]) for g in groups] == [
        (outputs["Stable"], 90),
        (outputs["Canary"], 10),
    ]
    rules = elbv2.describe_rules(ListenerArn=outputs["Listener"])["Rules"]
    rule = next(r for r in rules if not r["IsDefault"])
    assert rule["Actions"][0]["ForwardConfig"]["TargetGroups"][1]["Weight"] == 1

    found = wait_for(lambda: completed(ecs, cluster, outputs["Service"]))
    definition = ecs.describe_task_definition(taskDefinition=found["taskDefinition"])
    definition = definition["taskDefinition"]
    assert definition["taskRoleArn"] == "arn:aws:iam::123456789012:role/web-task"
    assert definition["executionRoleArn"] == "arn:aws:iam::123456789012:role/web-execution"
    assert definition["containerDefinitions"][0]["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
    ]
    assert found["loadBalancers"] == [
        {"targetGroupArn": outputs["Stable"], "containerName": "web", "containerPort": 80}
    ]
    config = found["deploymentConfiguration"]
    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert config["minimumHealthyPercent"] == 50
    assert found["placementConstraints"][0]["type"] == "memberOf"
    wait_for(
        lambda: (
            [
                d["TargetHealth"]["State"]
                for d in elbv2.describe_target_health(TargetGroupArn=outputs["Stable"])[
                    "TargetHealthDescriptions"
                ]
            ]
            == ["healthy"]
        )
    )
    # The canary group has no targets: its share of the traffic gets 503s, the rule all of them.
    answer = send_traffic(local_endpoint.url, outputs["Listener"], 200, seed=3)
    assert answer["target_groups"][outputs["Stable"]] + answer["statuses"].get("503", 0) == 200
    ruled = send_traffic(local_endpoint.url, outputs["Listener"], 20, path="/canary/a", seed=3)
    assert ruled["target_groups"] == {outputs["Canary"]: 20}
    assert ruled["statuses"] == {"503": 20}

    first = found["deployments"][0]["id"]
    cfn.update_stack(
        StackName=stack,
        UsePreviousTemplate=True,
        Parameters=parameters(Cluster=cluster, Count=2),
    )
    assert wait_stack(cfn, stack)["StackStatus"] == "UPDATE_COMPLETE"
    scaled = wait_for(
        lambda: (s := completed(ecs, cluster, outputs["Service"])) and s["runningCount"] == 2 and s
    )
    assert scaled["deployments"][0]["id"] == first  # a new count is not a new deployment
    cfn.update_stack(
        StackName=stack,
        UsePreviousTemplate=True,
        Parameters=parameters(Cluster=cluster, Count=2, Image="app:2"),
    )
    assert wait_stack(cfn, stack)["StackStatus"] == "UPDATE_COMPLETE"
    rolled = wait_for(
        lambda: (
            (s := completed(ecs, cluster, outputs["Service"]))
            and s["deployments"][0]["id"] != first
            and s
        )
    )
    image = ecs.describe_task_definition(taskDefinition=rolled["taskDefinition"])
    assert image["taskDefinition"]["containerDefinitions"][0]["image"] == "app:2"
    assert rolled["runningCount"] == 2
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 0.1, "MaxAttempts": 300}
    )
    assert ecs.list_tasks(cluster=cluster, serviceName=outputs["Service"])["taskArns"] == []


def test_listener_weight_out_of_range_fails_the_stack(
    aws: Callable[[str], Any],
    wait_stack: Callable[..., dict[str, Any]],
    unique: Callable[[str], str],
) -> None:
    cfn = aws("cloudformation")
    resources = dict(NETWORK)
    resources["Listener"] = {
        "Type": "AWS::ElasticLoadBalancingV2::Listener",
        "Properties": {
            "LoadBalancerArn": {"Ref": "Balancer"},
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [weighted(1000, 1)],
        },
    }
    stack = unique("weights")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": resources}))
    assert wait_stack(cfn, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    reason = next(
        e["ResourceStatusReason"]
        for e in events
        if e["LogicalResourceId"] == "Listener" and e["ResourceStatus"] == "CREATE_FAILED"
    )
    assert "Member must have value less than or equal to 999" in reason
