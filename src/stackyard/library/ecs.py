"""An ECS cluster on EC2 and its capacity pools: launch templates and auto scaling groups.

``ecs.Cluster`` makes the cluster, the security group of its instances and the
instances' role and instance profile. ``ecs.CapacityPools`` adds N pools of
instances to a cluster; each pool is a launch template and an auto scaling
group that replaces instances in rolling batches when the template changes
(a new AMI: the immutable-host release). Each pool's user data registers the
pool's container-instance attributes with the ECS agent, so services pick
their pool with a placement constraint::

    - name: pools
      class_path: stackyard.library.ecs.CapacityPools
      variables:
        ClusterName: ${output cluster::ClusterName}
        InstanceProfileArn: ${output cluster::InstanceProfileArn}
        SecurityGroupIds: ${output cluster::InstanceSecurityGroupId}
        SubnetIds: ${output network::PrivateSubnetIds}
        ImageId: ami-0123456789abcdef0
        Pools:
          web: {InstanceType: t3.small, MinSize: 2, MaxSize: 6}
          worker: {InstanceType: m5.large, MinSize: 1, MaxSize: 4,
                    Attributes: {profile: worker, lifecycle: batch}}

A pool without ``Attributes`` gets ``profile=<pool name>``. The output
``<Pool>PlacementConstraint`` (``attribute:profile == web``) is the expression
an ECS service's ``memberOf`` placement constraint takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from troposphere import Base64, GetAtt, Ref, Sub, Tags, autoscaling, ec2, ecs, iam
from troposphere.policies import AutoScalingRollingUpdate, UpdatePolicy

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import (
    CFNString,
    EC2SecurityGroupIdList,
    EC2SubnetIdList,
    EC2VPCId,
)
from stackyard.unknown import is_unknown

__all__ = ["AMI_ID", "CapacityPools", "Cluster", "placement_constraint", "pool_user_data"]

#: The shape of an AMI ID.
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")

_POOL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_ATTRIBUTE_VALUE = re.compile(r"^[A-Za-z0-9_.@:/ -]{1,128}$")
_POOL_KEYS = {
    "InstanceType",
    "MinSize",
    "MaxSize",
    "DesiredCapacity",
    "Attributes",
    "ImageId",
    "VolumeSize",
}
_ECS_POLICY = (
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
)
_SSM_POLICY = "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"


def validate_ami(value: Any) -> Any:
    """``value`` if it has the shape of an AMI ID (``ami-`` and 8 or 17 hex digits)."""
    if not isinstance(value, str) or not AMI_ID.match(value):
        raise ValueError(f"{value!r} is not an AMI ID (ami- followed by 8 or 17 hex digits)")
    return value


def placement_constraint(attributes: Mapping[str, str]) -> str:
    """The ECS cluster query language expression matching all ``attributes``."""
    return " and ".join(f"attribute:{k} == {v}" for k, v in sorted(attributes.items()))


def pool_user_data(attributes: Mapping[str, str]) -> str:
    """The user data (an ``Fn::Sub`` body) that joins ``${ClusterName}`` with ``attributes``."""
    attrs = json.dumps(dict(sorted(attributes.items())), separators=(",", ":"))
    return "\n".join(
        [
            "#!/bin/bash",
            "set -euo pipefail",
            "cat >> /etc/ecs/ecs.config <<'EOF'",
            "ECS_CLUSTER=${ClusterName}",
            f"ECS_INSTANCE_ATTRIBUTES={attrs}",
            "ECS_ENABLE_CONTAINER_METADATA=true",
            "ECS_CONTAINER_STOP_TIMEOUT=60s",
            "EOF",
            "",
        ]
    )


def _logical(name: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", name) if p)


class Cluster(Blueprint):
    """The ECS cluster, its instances' security group, role and instance profile."""

    VARIABLES = {
        "ClusterName": {
            "type": str,
            "default": "",
            "description": "The cluster's name; the stack's fully qualified name if empty.",
        },
        "VpcId": {"type": EC2VPCId, "description": "VPC of the cluster's instances."},
        "IngressSecurityGroupIds": {
            "type": list,
            "default": [],
            "description": "Security groups (load balancers) that may reach containers.",
        },
        "IngressPorts": {
            "type": list,
            "default": [32768, 65535],
            "description": "[from, to] host ports containers listen on (dynamic port range).",
        },
        "ContainerInsights": {
            "type": bool,
            "default": True,
            "description": "Turn on CloudWatch Container Insights.",
        },
        "SsmAccess": {
            "type": bool,
            "default": True,
            "description": "Let Session Manager reach the instances (no SSH needed).",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        name = v["ClusterName"] or self.context.get_fqn(self.name)
        t.set_description(f"ECS cluster {name}")
        cluster = t.add_resource(
            ecs.Cluster(
                "Cluster",
                ClusterName=name,
                ClusterSettings=[
                    ecs.ClusterSetting(
                        Name="containerInsights",
                        Value="enabled" if v["ContainerInsights"] else "disabled",
                    )
                ],
            )
        )
        ports = v["IngressPorts"]
        if len(ports) != 2 or not all(isinstance(p, int) for p in ports):
            raise ValueError("IngressPorts must be [from, to], two port numbers")
        group = t.add_resource(
            ec2.SecurityGroup(
                "InstanceSecurityGroup",
                GroupDescription=f"{name} container instances",
                VpcId=v["VpcId"].ref,
                SecurityGroupIngress=[
                    ec2.SecurityGroupRule(
                        IpProtocol="tcp",
                        FromPort=ports[0],
                        ToPort=ports[1],
                        SourceSecurityGroupId=source,
                        Description="load balancer to containers",
                    )
                    for source in v["IngressSecurityGroupIds"]
                ],
                Tags=Tags(Name=f"{name}-instances"),
            )
        )
        managed = [Sub(_ECS_POLICY)] + ([Sub(_SSM_POLICY)] if v["SsmAccess"] else [])
        role = t.add_resource(
            iam.Role(
                "InstanceRole",
                Description=f"ECS container instances of {name}",
                AssumeRolePolicyDocument={
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                ManagedPolicyArns=managed,
            )
        )
        profile = t.add_resource(iam.InstanceProfile("InstanceProfile", Roles=[Ref(role)]))
        self.add_output("ClusterName", Ref(cluster))
        self.add_output("ClusterArn", GetAtt(cluster, "Arn"))
        self.add_output("InstanceSecurityGroupId", GetAtt(group, "GroupId"))
        self.add_output("InstanceRoleArn", GetAtt(role, "Arn"))
        self.add_output("InstanceProfileArn", GetAtt(profile, "Arn"))


def _check_pool(name: str, spec: Mapping[str, Any]) -> dict[str, str]:
    """The pool's attributes; ``ValueError`` for anything malformed in its spec."""
    if not _POOL_NAME.match(name):
        raise ValueError(f"Pools: {name!r} is not a pool name (lowercase letters, digits, -)")
    extra = set(spec) - _POOL_KEYS
    if extra:
        raise ValueError(f"Pools.{name}: unknown keys {sorted(extra)}")
    for key in ("InstanceType", "MinSize", "MaxSize"):
        if key not in spec:
            raise ValueError(f"Pools.{name}: {key} is required")
    low, high = spec["MinSize"], spec["MaxSize"]
    desired = spec.get("DesiredCapacity", low)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high, desired)):
        raise ValueError(f"Pools.{name}: MinSize, MaxSize and DesiredCapacity are whole numbers")
    if not 0 <= low <= desired <= high or high < 1:
        raise ValueError(
            f"Pools.{name}: need 0 <= MinSize <= DesiredCapacity <= MaxSize and MaxSize >= 1"
        )
    if "ImageId" in spec and not is_unknown(spec["ImageId"]):
        try:
            validate_ami(spec["ImageId"])
        except ValueError as exc:
            raise ValueError(f"Pools.{name}.ImageId: {exc}") from None
    attributes = {str(k): str(v) for k, v in (spec.get("Attributes") or {"profile": name}).items()}
    for key, value in attributes.items():
        if not _ATTRIBUTE_NAME.match(key) or not _ATTRIBUTE_VALUE.match(value):
            raise ValueError(f"Pools.{name}.Attributes: {key}={value!r} is not a valid attribute")
    return attributes


class CapacityPools(Blueprint):
    """N pools of ECS container instances: launch template + auto scaling group each."""

    VARIABLES = {
        "ClusterName": {"type": CFNString, "description": "The ECS cluster the pools join."},
        "InstanceProfileArn": {
            "type": CFNString,
            "description": "Instance profile of the instances (Cluster's InstanceProfileArn).",
        },
        "SecurityGroupIds": {
            "type": EC2SecurityGroupIdList,
            "description": "Security groups of the instances.",
        },
        "SubnetIds": {"type": EC2SubnetIdList, "description": "Subnets to launch into."},
        "ImageId": {
            "type": str,
            "validator": validate_ami,
            "description": "The AMI of every pool that does not name its own (ECS-optimized).",
        },
        "Pools": {
            "type": dict,
            "description": "Pool name to {InstanceType, MinSize, MaxSize, DesiredCapacity, "
            "Attributes, ImageId, VolumeSize}.",
        },
        "VolumeSize": {
            "type": int,
            "default": 30,
            "description": "Root volume size in GiB (encrypted gp3).",
        },
        "MaxBatchSize": {
            "type": int,
            "default": 1,
            "description": "Instances replaced at a time during a rolling update.",
        },
        "PauseTime": {
            "type": str,
            "default": "PT2M",
            "description": "Pause between batches of a rolling update (ISO 8601 duration).",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        pools: Mapping[str, Any] = v["Pools"]
        if not pools:
            raise ValueError("Pools: name at least one pool")
        stack = self.context.get_fqn(self.name)
        t.set_description(f"ECS capacity pools {', '.join(sorted(pools))}")
        for name, raw in sorted(pools.items()):
            spec: Mapping[str, Any] = raw or {}
            attributes = _check_pool(name, spec)
            logical = _logical(name)
            image = spec.get("ImageId", v["ImageId"])
            low, high = spec["MinSize"], spec["MaxSize"]
            data = ec2.LaunchTemplateData(
                ImageId=image,
                InstanceType=spec["InstanceType"],
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=v["InstanceProfileArn"].ref),
                SecurityGroupIds=v["SecurityGroupIds"].ref,
                UserData=Base64(Sub(pool_user_data(attributes))),
                MetadataOptions=ec2.MetadataOptions(
                    HttpTokens="required", HttpPutResponseHopLimit=2
                ),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName="/dev/xvda",
                        Ebs=ec2.EBSBlockDevice(
                            VolumeSize=spec.get("VolumeSize", v["VolumeSize"]),
                            VolumeType="gp3",
                            Encrypted=True,
                            DeleteOnTermination=True,
                        ),
                    )
                ],
                TagSpecifications=[
                    ec2.TagSpecifications(
                        ResourceType=kind, Tags=Tags(Name=f"{stack}-{name}", pool=name)
                    )
                    for kind in ("instance", "volume")
                ],
            )
            template = t.add_resource(
                ec2.LaunchTemplate(
                    f"{logical}LaunchTemplate",
                    LaunchTemplateName=f"{stack}-{name}",
                    LaunchTemplateData=data,
                )
            )
            group = t.add_resource(
                autoscaling.AutoScalingGroup(
                    f"{logical}AutoScalingGroup",
                    LaunchTemplate=autoscaling.LaunchTemplateSpecification(
                        LaunchTemplateId=Ref(template),
                        Version=GetAtt(template, "LatestVersionNumber"),
                    ),
                    MinSize=str(low),
                    MaxSize=str(high),
                    DesiredCapacity=str(spec.get("DesiredCapacity", low)),
                    VPCZoneIdentifier=v["SubnetIds"].ref,
                    HealthCheckType="EC2",
                    Tags=[
                        autoscaling.Tag("pool", name, True),
                        autoscaling.Tag("ecs-cluster", v["ClusterName"].ref, True),
                    ],
                    UpdatePolicy=UpdatePolicy(
                        AutoScalingRollingUpdate=AutoScalingRollingUpdate(
                            MaxBatchSize=v["MaxBatchSize"],
                            MinInstancesInService=max(0, min(low, high - 1)),
                            PauseTime=v["PauseTime"],
                        )
                    ),
                )
            )
            self.add_output(f"{logical}LaunchTemplateId", Ref(template))
            self.add_output(
                f"{logical}LaunchTemplateVersion", GetAtt(template, "LatestVersionNumber")
            )
            self.add_output(f"{logical}AutoScalingGroupName", Ref(group))
            self.add_output(f"{logical}ImageId", image)
            self.add_output(f"{logical}PlacementConstraint", placement_constraint(attributes))
