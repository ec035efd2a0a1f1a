"""One app in one environment, as one stack: what ``stackyard apps deploy`` renders.

Per process an ECS task definition and service (rolling, with the deployment circuit
breaker rolling back a release that cannot get healthy); per exposed process a target
group, a listener rule on the environment's listener (with an ``http-header`` condition too
when the exposure names a header: a canary's), and CloudWatch alarms on the target group's
5xx answers and p99 response time; for the app a log group, a task role and (unless the
environment names one) an execution role. A config var written
``secret:/ns/app/KEY`` becomes a container ``secrets`` entry whose ``valueFrom`` is the SSM
parameter, and both roles get read access to exactly those parameters through
:func:`stackyard.secrets.policy.secret_read_statements`: the value never enters the
template, the stack or the apps database.
"""

from __future__ import annotations

import shlex
import zlib
from collections.abc import Mapping
from typing import Any

from troposphere import (
    GetAtt,
    Join,
    Output,
    Ref,
    Select,
    Split,
    Sub,
    cloudwatch,
    elasticloadbalancingv2,
    iam,
    logs,
)
from troposphere import ecs as tecs

from stackyard.blueprints.base import Blueprint
from stackyard.secrets.paths import parameter_arn

__all__ = ["AppService", "logical_name", "rule_priority"]

_EXECUTION_POLICY = (
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
)
_PSEUDO = ("${AWS::Region}", "${AWS::AccountId}", "${AWS::Partition}")


def logical_name(process: str) -> str:
    """The logical-id stem of a process: ``web`` → ``Web``, ``web2`` → ``Web2``."""
    return "".join(part.capitalize() for part in process.replace("_", "-").split("-"))


def rule_priority(stack: str, process: str) -> int:
    """The listener rule priority of ``process`` in ``stack`` (the stack's full name) when
    its exposure names none: stable across renders, so a redeploy does not move the rule."""
    return 1000 + zlib.crc32(f"{stack}/{process}".encode()) % 40000


def _load_balancer_full_name(listener_arn: Any) -> Any:
    """``app/NAME/ID`` (the ``LoadBalancer`` metric dimension) from a listener's ARN
    (``arn:...:listener/app/NAME/ID/LISTENER``)."""
    path = Split("/", Select(5, Split(":", listener_arn)))
    return Join("/", [Select(1, path), Select(2, path), Select(3, path)])


def _assume(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


class AppService(Blueprint):
    """An app environment's ECS services, task definitions, target groups and rules."""

    VARIABLES = {
        "AppName": {"type": str, "description": "The app."},
        "EnvironmentName": {"type": str, "description": "The environment (stage, prod...)."},
        "Release": {"type": int, "description": "The release number these services run."},
        "Image": {"type": str, "description": "The container image (a digest where known)."},
        "ClusterName": {"type": str, "description": "The ECS cluster."},
        "VpcId": {"type": str, "default": "", "description": "VPC of the target groups."},
        "ListenerArn": {"type": str, "default": "", "description": "Listener of exposed ones."},
        "SecretsKeyArn": {"type": str, "default": "", "description": "The secrets KMS key."},
        "ExecutionRoleArn": {
            "type": str,
            "default": "",
            "description": "The task execution role; empty makes one for the app.",
        },
        "Processes": {
            "type": dict,
            "description": "Process name to {command, count, cpu, memory, port, exposed, "
            "health, constraints, strategy, environment, secrets}.",
        },
        "Namespace": {"type": str, "default": "", "description": "Where secrets may live."},
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        stack = self.context.get_fqn(self.name)
        processes: Mapping[str, Any] = v["Processes"]
        t.set_description(f"App {v['AppName']} in {v['EnvironmentName']}, release {v['Release']}")
        log_group = t.add_resource(
            logs.LogGroup("LogGroup", LogGroupName=f"/stackyard/apps/{stack}", RetentionInDays=30)
        )
        secret_paths = sorted(
            {path for spec in processes.values() for path in spec.get("secrets", {}).values()}
        )
        read = self._secret_statements(secret_paths, v["SecretsKeyArn"], v["Namespace"])
        task_role = t.add_resource(
            iam.Role(
                "TaskRole",
                AssumeRolePolicyDocument=_assume("ecs-tasks.amazonaws.com"),
                Policies=read,
            )
        )
        execution: Any = v["ExecutionRoleArn"]
        if not execution:
            role = t.add_resource(
                iam.Role(
                    "ExecutionRole",
                    AssumeRolePolicyDocument=_assume("ecs-tasks.amazonaws.com"),
                    ManagedPolicyArns=[Sub(_EXECUTION_POLICY)],
                    Policies=read,
                )
            )
            execution = GetAtt(role, "Arn")
        for process, spec in sorted(processes.items()):
            self._process(
                stack, process, spec, v, Ref(log_group), GetAtt(task_role, "Arn"), execution
            )
        t.add_output(Output("LogGroupName", Value=Ref(log_group)))
        t.add_output(Output("Release", Value=str(v["Release"])))
        t.add_output(Output("ClusterName", Value=v["ClusterName"]))

    def _alarms(
        self, stack: str, process: str, limits: Mapping[str, Any], group: Any, listener: Any
    ) -> list[str]:
        """The target group's alarms: 5xx answers of its targets in a minute, and their p99
        response time; returns their names."""
        name = logical_name(process)
        dimensions = [
            cloudwatch.MetricDimension(
                Name="LoadBalancer", Value=_load_balancer_full_name(listener)
            ),
            cloudwatch.MetricDimension(
                Name="TargetGroup", Value=GetAtt(group, "TargetGroupFullName")
            ),
        ]
        errors, latency = limits.get("http_5xx", 10), limits.get("latency", 2.0)
        wanted: list[tuple[str, str, dict[str, Any]]] = []
        if errors:
            metric = {"MetricName": "HTTPCode_Target_5XX_Count", "Statistic": "Sum"}
            wanted.append(("5xx", "Errors", {**metric, "Threshold": errors}))
        if latency:
            metric = {"MetricName": "TargetResponseTime", "ExtendedStatistic": "p99"}
            wanted.append(("latency", "Latency", {**metric, "Threshold": latency}))
        names = []
        for suffix, title, metric in wanted:
            alarm = f"{stack}-{process}-{suffix}"
            self.template.add_resource(
                cloudwatch.Alarm(
                    f"{name}{title}Alarm",
                    AlarmName=alarm,
                    AlarmDescription=f"{process} of {stack}: {suffix} over its limit",
                    Namespace="AWS/ApplicationELB",
                    Dimensions=dimensions,
                    Period=60,
                    EvaluationPeriods=1,
                    ComparisonOperator="GreaterThanThreshold",
                    TreatMissingData="notBreaching",
                    **metric,
                )
            )
            names.append(alarm)
        return names

    def _secret_statements(self, paths: list[str], key_arn: str, namespace: str) -> list[Any]:
        from stackyard.secrets.policy import secret_read_statements

        if not paths:
            return []
        region, account, partition = _PSEUDO
        statements = secret_read_statements(
            paths, key_arn, region, account, namespace or None, partition=partition
        )
        document = {"Version": "2012-10-17", "Statement": statements}
        return [iam.Policy(PolicyName="read-app-secrets", PolicyDocument=document)]

    def _process(
        self,
        stack: str,
        process: str,
        spec: Mapping[str, Any],
        v: Mapping[str, Any],
        log_group: Any,
        task_role: Any,
        execution: Any,
    ) -> None:
        t = self.template
        name = logical_name(process)
        region, account, partition = _PSEUDO
        container: dict[str, Any] = {
            "Name": process,
            "Image": v["Image"],
            "Essential": True,
            "Cpu": spec.get("cpu", 0),
            "Memory": spec["memory"],
            "Command": shlex.split(spec["command"]),
            "Environment": [
                tecs.Environment(Name=k, Value=str(val))
                for k, val in sorted(spec.get("environment", {}).items())
            ],
            "Secrets": [
                tecs.Secret(Name=k, ValueFrom=Sub(parameter_arn(path, region, account, partition)))
                for k, path in sorted(spec.get("secrets", {}).items())
            ],
            "LogConfiguration": tecs.LogConfiguration(
                LogDriver="awslogs",
                Options={
                    "awslogs-group": log_group,
                    "awslogs-region": Ref("AWS::Region"),
                    "awslogs-stream-prefix": process,
                },
            ),
        }
        port = spec.get("port")
        if port:
            container["PortMappings"] = [tecs.PortMapping(ContainerPort=port, HostPort=0)]
        task = t.add_resource(
            tecs.TaskDefinition(
                f"{name}TaskDefinition",
                Family=f"{stack}-{process}",
                NetworkMode="bridge",
                RequiresCompatibilities=["EC2"],
                TaskRoleArn=task_role,
                ExecutionRoleArn=execution,
                ContainerDefinitions=[tecs.ContainerDefinition(**container)],
            )
        )
        service: dict[str, Any] = {
            "ServiceName": f"{stack}-{process}",
            "Cluster": v["ClusterName"],
            "TaskDefinition": Ref(task),
            "DesiredCount": spec.get("count", 1),
            "LaunchType": "EC2",
            "DeploymentConfiguration": tecs.DeploymentConfiguration(
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=tecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            "PlacementConstraints": [
                tecs.PlacementConstraint(**{k.capitalize(): c[k] for k in c})
                for c in spec.get("constraints", [])
            ],
            "PlacementStrategies": [
                tecs.PlacementStrategy(**{k.capitalize(): s[k] for k in s})
                for s in spec.get("strategy", [])
            ],
        }
        exposed = spec.get("exposed")
        if exposed is not None and port:
            health = spec.get("health", {})
            group = t.add_resource(
                elasticloadbalancingv2.TargetGroup(
                    f"{name}TargetGroup",
                    VpcId=v["VpcId"],
                    Port=port,
                    Protocol="HTTP",
                    TargetType="instance",
                    HealthCheckPath=health.get("path", "/"),
                    # the task's dynamic host port (cfn-lint E3049)
                    HealthCheckPort="traffic-port",
                    HealthCheckIntervalSeconds=health.get("interval", 10),
                    HealthyThresholdCount=health.get("healthy", 2),
                    UnhealthyThresholdCount=health.get("unhealthy", 2),
                )
            )
            conditions = []
            if exposed.get("host"):
                conditions.append(
                    elasticloadbalancingv2.Condition(
                        Field="host-header",
                        HostHeaderConfig=elasticloadbalancingv2.HostHeaderConfig(
                            Values=[exposed["host"]]
                        ),
                    )
                )
            conditions.append(
                elasticloadbalancingv2.Condition(
                    Field="path-pattern",
                    PathPatternConfig=elasticloadbalancingv2.PathPatternConfig(
                        Values=[exposed.get("path") or "/*"]
                    ),
                )
            )
            header = exposed.get("header")
            if header:
                conditions.append(
                    elasticloadbalancingv2.Condition(
                        Field="http-header",
                        HttpHeaderConfig=elasticloadbalancingv2.HttpHeaderConfig(
                            HttpHeaderName=header["name"], Values=[header["value"]]
                        ),
                    )
                )
            rule = t.add_resource(
                elasticloadbalancingv2.ListenerRule(
                    f"{name}ListenerRule",
                    ListenerArn=v["ListenerArn"],
                    Priority=exposed.get("priority") or rule_priority(stack, process),
                    Conditions=conditions,
                    Actions=[
                        elasticloadbalancingv2.ListenerRuleAction(
                            Type="forward", TargetGroupArn=Ref(group)
                        )
                    ],
                )
            )
            service["LoadBalancers"] = [
                tecs.LoadBalancer(
                    ContainerName=process, ContainerPort=port, TargetGroupArn=Ref(group)
                )
            ]
            service["HealthCheckGracePeriodSeconds"] = health.get("grace", 0)
            service["DependsOn"] = [rule.title]
            alarms = self._alarms(stack, process, spec.get("alarms", {}), group, v["ListenerArn"])
            t.add_output(Output(f"{name}TargetGroupArn", Value=Ref(group)))
            t.add_output(Output(f"{name}ListenerRuleArn", Value=Ref(rule)))
            t.add_output(Output(f"{name}Alarms", Value=",".join(alarms) or "-"))
        t.add_resource(tecs.Service(f"{name}Service", **service))
        t.add_output(Output(f"{name}ServiceName", Value=GetAtt(f"{name}Service", "Name")))
        t.add_output(Output(f"{name}TaskDefinitionArn", Value=Ref(task)))
