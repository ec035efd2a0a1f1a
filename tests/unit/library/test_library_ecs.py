"""ecs.Cluster and ecs.CapacityPools: launch templates, rolling updates, pool attributes."""

from __future__ import annotations

import pytest

from stackyard.errors import BlueprintError, VariableError
from stackyard.library.ecs import CapacityPools, Cluster, placement_constraint

AMI = "ami-0123456789abcdef0"
POOLS = {
    "web": {"InstanceType": "t3.small", "MinSize": 2, "MaxSize": 6},
    "worker": {
        "InstanceType": "m5.large",
        "MinSize": 1,
        "MaxSize": 4,
        "Attributes": {"profile": "worker", "lifecycle": "batch"},
        "ImageId": "ami-0fedcba9876543210",
    },
}


def _user_data(r, pool: str) -> str:
    data = r.resources[f"{pool}LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    return data["UserData"]["Fn::Base64"]["Fn::Sub"]


def test_cluster_has_instance_group_role_and_profile(render) -> None:
    r = render(
        Cluster,
        {"VpcId": "vpc-0123456789abcdef0", "IngressSecurityGroupIds": ["sg-0123456789abcdef0"]},
    )
    assert r.one("AWS::ECS::Cluster")["ClusterName"] == "ops-test-stack"
    rule = r.one("AWS::EC2::SecurityGroup")["SecurityGroupIngress"][0]
    assert (rule["FromPort"], rule["ToPort"], rule["SourceSecurityGroupId"]) == (
        32768,
        65535,
        "sg-0123456789abcdef0",
    )
    assert "AmazonEC2ContainerServiceforEC2Role" in str(
        r.one("AWS::IAM::Role")["ManagedPolicyArns"]
    )
    assert {"ClusterName", "ClusterArn", "InstanceSecurityGroupId", "InstanceProfileArn"} <= set(
        r.outputs
    )
    assert r.lint_errors() == []


def test_pools_register_their_attributes_for_placement(render) -> None:
    r = render(CapacityPools, {"ImageId": AMI, "Pools": POOLS})
    web, worker = _user_data(r, "Web"), _user_data(r, "Worker")
    assert "ECS_CLUSTER=${ClusterName}" in web
    assert 'ECS_INSTANCE_ATTRIBUTES={"profile":"web"}' in web
    assert 'ECS_INSTANCE_ATTRIBUTES={"lifecycle":"batch","profile":"worker"}' in worker
    assert r.outputs["WebPlacementConstraint"]["Value"] == "attribute:profile == web"
    assert (
        r.outputs["WorkerPlacementConstraint"]["Value"]
        == "attribute:lifecycle == batch and attribute:profile == worker"
    )
    assert "ClusterName" in r.parameters
    assert r.lint_errors() == []


def test_launch_templates_carry_ami_type_profile_and_hardening(render) -> None:
    r = render(CapacityPools, {"ImageId": AMI, "Pools": POOLS})
    web = r.resources["WebLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    worker = r.resources["WorkerLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert (web["ImageId"], web["InstanceType"]) == (AMI, "t3.small")
    assert worker["ImageId"] == "ami-0fedcba9876543210"
    assert web["IamInstanceProfile"] == {"Arn": {"Ref": "InstanceProfileArn"}}
    assert web["MetadataOptions"]["HttpTokens"] == "required"
    assert web["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert r.outputs["WebImageId"]["Value"] == AMI


def test_groups_roll_in_batches_from_the_latest_template_version(render) -> None:
    r = render(CapacityPools, {"ImageId": AMI, "Pools": POOLS, "MaxBatchSize": 2})
    group = r.resources["WebAutoScalingGroup"]
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling == {"MaxBatchSize": 2, "MinInstancesInService": 2, "PauseTime": "PT2M"}
    spec = group["Properties"]["LaunchTemplate"]
    assert spec["Version"] == {"Fn::GetAtt": ["WebLaunchTemplate", "LatestVersionNumber"]}
    assert group["Properties"]["VPCZoneIdentifier"] == {"Ref": "SubnetIds"}
    assert (group["Properties"]["MinSize"], group["Properties"]["MaxSize"]) == ("2", "6")


def test_placement_constraint_expression() -> None:
    assert placement_constraint({"profile": "web"}) == "attribute:profile == web"


@pytest.mark.parametrize(
    "ami", ["ami-123", "AMI-0123456789abcdef0", "ami-0123456789abcdefg", "0123456789abcdef0"]
)
def test_ami_of_the_wrong_shape_is_refused(render, ami: str) -> None:
    with pytest.raises(VariableError, match="ImageId") as err:
        render(CapacityPools, {"ImageId": ami, "Pools": POOLS})
    assert "not an AMI ID" in str(err.value)


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        (
            {"web": {"InstanceType": "t3.small", "MinSize": 3, "MaxSize": 2}},
            "MinSize <= DesiredCapacity",
        ),
        ({"web": {"InstanceType": "t3.small", "MinSize": 1}}, "MaxSize is required"),
        ({"Web Pool": {"InstanceType": "t3.small", "MinSize": 1, "MaxSize": 2}}, "not a pool name"),
        (
            {"web": {"InstanceType": "t3.small", "MinSize": 1, "MaxSize": 2, "ImageId": "ami-1"}},
            "Pools.web.ImageId",
        ),
        (
            {
                "web": {
                    "InstanceType": "t3.small",
                    "MinSize": 1,
                    "MaxSize": 2,
                    "Attributes": {"profile": "a{b}"},
                }
            },
            "not a valid attribute",
        ),
        (
            {"web": {"InstanceType": "t3.small", "MinSize": 1, "MaxSize": 2, "Size": 3}},
            "unknown keys",
        ),
        ({}, "at least one pool"),
    ],
)
def test_bad_pools_are_clear_errors(render, pools, message: str) -> None:
    with pytest.raises(BlueprintError, match="failed to render") as err:
        render(CapacityPools, {"ImageId": AMI, "Pools": pools})
    assert message in str(err.value)
