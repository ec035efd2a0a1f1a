"""Resource gaps closed in the local CloudFormation, checked with plain boto3 on the endpoint.

Each test creates (and where it matters updates) resources through CloudFormation, then reads
them back through the service's own API, as any client would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

Aws = Callable[[str], Any]
Waiter = Callable[..., dict[str, Any]]
Namer = Callable[[str], str]

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _document(action: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _deploy(
    cfn: Any, wait_stack: Waiter, name: str, template: dict[str, Any], *, update: bool = False
) -> dict[str, Any]:
    call = cfn.update_stack if update else cfn.create_stack
    call(
        StackName=name,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = wait_stack(cfn, name)
    expected = "UPDATE_COMPLETE" if update else "CREATE_COMPLETE"
    if stack["StackStatus"] != expected:
        failed = [
            (e["LogicalResourceId"], e.get("ResourceStatusReason"))
            for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
            if e["ResourceStatus"].endswith("FAILED")
        ]
        pytest.fail(f"{name}: {stack['StackStatus']} {stack.get('StackStatusReason')} {failed}")
    return stack


def _delete(cfn: Any, wait_stack: Waiter, name: str) -> dict[str, Any]:
    stack_id = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=name)
    return wait_stack(cfn, stack_id)


# IAM --------------------------------------------------------------------------------------


def _role_template(role: str, policies: dict[str, str], managed: list[Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": _document("sqs:SendMessage")},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role,
                    "AssumeRolePolicyDocument": TRUST,
                    "Policies": [
                        {"PolicyName": name, "PolicyDocument": _document(action)}
                        for name, action in policies.items()
                    ],
                    "ManagedPolicyArns": managed,
                },
            },
        }
    }


def test_role_inline_policies_are_stored_as_json_and_managed_policies_attached(
    aws: Aws, unique: Namer, wait_stack: Waiter
) -> None:
    cfn, iam = aws("cloudformation"), aws("iam")
    name, role = unique("role"), unique("role")
    aws_managed = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    template = _role_template(role, {"read": "s3:GetObject"}, [{"Ref": "Managed"}, aws_managed])
    _deploy(cfn, wait_stack, name, template)

    document = iam.get_role_policy(RoleName=role, PolicyName="read")["PolicyDocument"]
    assert document == _document("s3:GetObject")  # botocore decodes JSON only
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert aws_managed in {p["PolicyArn"] for p in attached}
    assert len(attached) == 2

    # update: change one policy, add another, drop the AWS managed policy
    template = _role_template(
        role, {"read": "s3:ListBucket", "queue": "sqs:ReceiveMessage"}, [{"Ref": "Managed"}]
    )
    template["Resources"]["Role"]["Properties"]["Description"] = "updated"
    _deploy(cfn, wait_stack, name, template, update=True)
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == ["queue", "read"]
    document = iam.get_role_policy(RoleName=role, PolicyName="read")["PolicyDocument"]
    assert document == _document("s3:ListBucket")
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] != [aws_managed] and len(attached) == 1
    assert iam.get_role(RoleName=role)["Role"]["Description"] == "updated"

    template = _role_template(role, {"queue": "sqs:ReceiveMessage"}, [{"Ref": "Managed"}])
    _deploy(cfn, wait_stack, name, template, update=True)
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["queue"]

    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role)


def test_user_inline_and_managed_policies(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn, iam = aws("cloudformation"), aws("iam")
    name, user = unique("user"), unique("user")

    def template(policies: dict[str, str], managed: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "UserName": user,
            "Policies": [
                {"PolicyName": policy, "PolicyDocument": _document(action)}
                for policy, action in policies.items()
            ],
        }
        if managed:
            properties["ManagedPolicyArns"] = [{"Ref": "Managed"}]
        return {
            "Resources": {
                "Managed": {
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {"PolicyDocument": _document("sqs:SendMessage")},
                },
                "User": {"Type": "AWS::IAM::User", "Properties": properties},
            }
        }

    _deploy(cfn, wait_stack, name, template({"read": "s3:GetObject"}, managed=True))
    document = iam.get_user_policy(UserName=user, PolicyName="read")["PolicyDocument"]
    assert document == _document("s3:GetObject")
    assert len(iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]) == 1

    _deploy(cfn, wait_stack, name, template({"write": "s3:PutObject"}, managed=False), update=True)
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["write"]
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []

    _deploy(cfn, wait_stack, name, template({"write": "s3:PutObject"}, managed=True), update=True)
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        iam.get_user(UserName=user)


def test_unknown_managed_policy_fails_the_role(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn = aws("cloudformation")
    name = unique("role-bad")
    template = _role_template(unique("role"), {}, ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"])
    cfn.create_stack(
        StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
        if e["LogicalResourceId"] == "Role" and e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert reasons and "NoSuchPolicyAnywhere" in reasons[0]


# Elastic Load Balancing and Route 53 ------------------------------------------------------


def _two_subnets(ec2: Any) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    return vpc, subnets


def test_load_balancer_attributes(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn, elb = aws("cloudformation"), aws("elbv2")
    _, subnets = _two_subnets(aws("ec2"))
    name = unique("lb")
    balancers = {"App": "application", "Net": "network"}
    template: dict[str, Any] = {
        "Resources": {
            logical: {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"Type": kind, "Subnets": subnets},
            }
            for logical, kind in balancers.items()
        },
        "Outputs": {
            f"{logical}{attribute}": {"Value": {"Fn::GetAtt": [logical, attribute]}}
            for logical in balancers
            for attribute in ("CanonicalHostedZoneID", "LoadBalancerFullName", "DNSName")
        },
    }
    outputs = _outputs(_deploy(cfn, wait_stack, name, template))
    # the Route 53 zone ids of us-east-1 load balancers, as in AWS's endpoint table
    assert outputs["AppCanonicalHostedZoneID"] == "Z35SXDOTRQ7X7K"
    assert outputs["NetCanonicalHostedZoneID"] == "Z26RNL4JYFTOTI"
    for logical, prefix in (("App", "app/"), ("Net", "net/")):
        arn = cfn.describe_stack_resource(StackName=name, LogicalResourceId=logical)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        full_name = outputs[f"{logical}LoadBalancerFullName"]
        assert full_name.startswith(prefix) and arn.endswith(f":loadbalancer/{full_name}")
        described = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
        assert described["CanonicalHostedZoneId"] == outputs[f"{logical}CanonicalHostedZoneID"]
        assert described["DNSName"] == outputs[f"{logical}DNSName"]
        assert described["Type"] == balancers[logical]

    # an in-place update keeps the load balancer and applies its attributes and tags
    app = template["Resources"]["App"]["Properties"]
    app["LoadBalancerAttributes"] = [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
    app["Tags"] = [{"Key": "team", "Value": "core"}]
    before = cfn.describe_stack_resource(StackName=name, LogicalResourceId="App")
    _deploy(cfn, wait_stack, name, template, update=True)
    after = cfn.describe_stack_resource(StackName=name, LogicalResourceId="App")
    arn = after["StackResourceDetail"]["PhysicalResourceId"]
    assert arn == before["StackResourceDetail"]["PhysicalResourceId"]
    attributes = elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in attributes
    tags = elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "team", "Value": "core"}]
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"


def test_hosted_zones_public_and_private(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn, route53 = aws("cloudformation"), aws("route53")
    vpc, _ = _two_subnets(aws("ec2"))
    name = unique("zones")
    public, private = f"{name}.example.com", f"{name}.internal"
    template: dict[str, Any] = {
        "Resources": {
            "Public": {
                "Type": "AWS::Route53::HostedZone",
                "Properties": {
                    "Name": public,
                    "HostedZoneConfig": {"Comment": "public zone"},
                    "HostedZoneTags": [{"Key": "team", "Value": "core"}],
                },
            },
            "Private": {
                "Type": "AWS::Route53::HostedZone",
                "Properties": {
                    "Name": private,
                    "VPCs": [{"VPCId": vpc, "VPCRegion": "us-east-1"}],
                },
            },
            "Record": {
                "Type": "AWS::Route53::RecordSet",
                "DependsOn": "Private",
                "Properties": {
                    "HostedZoneName": private,
                    "Name": f"db.{private}",
                    "Type": "CNAME",
                    "TTL": "60",
                    "ResourceRecords": ["db.example.com"],
                },
            },
        },
        "Outputs": {
            "PublicId": {"Value": {"Ref": "Public"}},
            "PrivateId": {"Value": {"Ref": "Private"}},
            "PublicIdAtt": {"Value": {"Fn::GetAtt": ["Public", "Id"]}},
            "NameServers": {
                "Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Public", "NameServers"]}]}
            },
        },
    }
    outputs = _outputs(_deploy(cfn, wait_stack, name, template))
    assert outputs["PublicIdAtt"] == outputs["PublicId"]

    zone = route53.get_hosted_zone(Id=outputs["PublicId"])
    assert zone["HostedZone"]["Name"] == f"{public}."
    assert zone["HostedZone"]["Config"]["PrivateZone"] is False
    assert zone["HostedZone"]["Config"]["Comment"] == "public zone"
    servers = outputs["NameServers"].split(",")
    assert len(servers) == 4 and all(".awsdns-" in s for s in servers)
    assert servers == zone["DelegationSet"]["NameServers"]
    tags = route53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=outputs["PublicId"])
    assert tags["ResourceTagSet"]["Tags"] == [{"Key": "team", "Value": "core"}]

    zone = route53.get_hosted_zone(Id=outputs["PrivateId"])
    assert zone["HostedZone"]["Config"]["PrivateZone"] is True
    assert zone["VPCs"] == [{"VPCId": vpc, "VPCRegion": "us-east-1"}]
    records = route53.list_resource_record_sets(HostedZoneId=outputs["PrivateId"])
    assert f"db.{private}." in {r["Name"].rstrip(".") + "." for r in records["ResourceRecordSets"]}

    # an in-place update keeps the zone (same id) and applies the new comment
    template["Resources"]["Public"]["Properties"]["HostedZoneConfig"]["Comment"] = "renamed"
    outputs_after = _outputs(_deploy(cfn, wait_stack, name, template, update=True))
    assert outputs_after["PublicId"] == outputs["PublicId"]
    zone = route53.get_hosted_zone(Id=outputs["PublicId"])
    assert zone["HostedZone"]["Config"]["Comment"] == "renamed"

    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"
    for zone_id in (outputs["PublicId"], outputs["PrivateId"]):
        with pytest.raises(ClientError):
            route53.get_hosted_zone(Id=zone_id)


def test_private_zone_with_a_missing_vpc_fails(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn = aws("cloudformation")
    name = unique("zone-bad")
    template = {
        "Resources": {
            "Zone": {
                "Type": "AWS::Route53::HostedZone",
                "Properties": {
                    "Name": f"{name}.internal",
                    "VPCs": [{"VPCId": "vpc-0000000000000dead", "VPCRegion": "us-east-1"}],
                },
            }
        }
    }
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    assert wait_stack(cfn, name)["StackStatus"] == "ROLLBACK_COMPLETE"


# RDS --------------------------------------------------------------------------------------


def _database_template(identifier: str, protect: bool, monitoring: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceClass": "db.t3.micro",
        "Engine": "postgres",
        "MasterUsername": "admin",
        "MasterUserPassword": "not-a-secret-1",
        "AllocatedStorage": "20",
        "DeletionProtection": protect,
    }
    resources: dict[str, Any] = {"Database": {"Type": "AWS::RDS::DBInstance"}}
    if monitoring:
        resources["Monitoring"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        }
        properties["MonitoringInterval"] = monitoring
        properties["MonitoringRoleArn"] = {"Fn::GetAtt": ["Monitoring", "Arn"]}
    resources["Database"]["Properties"] = properties
    return {
        "Resources": resources,
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Database", "DBInstanceArn"]}}},
    }


def test_rds_deletion_protection_and_monitoring(
    aws: Aws, unique: Namer, wait_stack: Waiter
) -> None:
    cfn, rds = aws("cloudformation"), aws("rds")
    name, identifier = unique("rds"), unique("db")
    outputs = _outputs(
        _deploy(cfn, wait_stack, name, _database_template(identifier, True, monitoring=60))
    )
    db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    assert db["DeletionProtection"] is True
    assert db["MonitoringInterval"] == 60
    assert (
        db["MonitoringRoleArn"].startswith("arn:aws:iam::") and ":role/" in db["MonitoringRoleArn"]
    )
    assert outputs["Arn"] == db["DBInstanceArn"]

    # an in-place update turns protection and monitoring off on the same instance
    _deploy(cfn, wait_stack, name, _database_template(identifier, False, monitoring=0), update=True)
    db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    assert db["DeletionProtection"] is False
    assert db["MonitoringInterval"] == 0
    assert db["DBInstanceArn"] == outputs["Arn"]

    # and back on; then deletion protection holds against the stack's deletion, as on AWS
    _deploy(cfn, wait_stack, name, _database_template(identifier, True, monitoring=0), update=True)
    assert rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
        "DeletionProtection"
    ]
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_FAILED"
    rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False)
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        rds.describe_db_instances(DBInstanceIdentifier=identifier)


# SQS --------------------------------------------------------------------------------------


def test_sqs_update_applies_attributes_in_place(
    aws: Aws, unique: Namer, wait_stack: Waiter
) -> None:
    cfn, sqs = aws("cloudformation"), aws("sqs")
    name = unique("queue")

    def template(**properties: Any) -> dict[str, Any]:
        return {
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": properties}},
            "Outputs": {"Url": {"Value": {"Ref": "Queue"}}},
        }

    url = _outputs(_deploy(cfn, wait_stack, name, template(VisibilityTimeout=40)))["Url"]

    def attributes() -> dict[str, str]:
        found: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
        return found

    assert attributes()["DelaySeconds"] == "0"
    updated = template(
        VisibilityTimeout=40,
        DelaySeconds=7,
        MessageRetentionPeriod=600,
        Tags=[{"Key": "team", "Value": "core"}],
    )
    assert _outputs(_deploy(cfn, wait_stack, name, updated, update=True))["Url"] == url
    found = attributes()
    assert (found["DelaySeconds"], found["MessageRetentionPeriod"]) == ("7", "600")
    assert found["VisibilityTimeout"] == "40"
    queue_tags = sqs.list_queue_tags(QueueUrl=url)["Tags"]
    assert {k: v for k, v in queue_tags.items() if not k.startswith("aws:")} == {"team": "core"}

    # a property left out again returns to its default
    _deploy(cfn, wait_stack, name, template(VisibilityTimeout=40, DelaySeconds=2), update=True)
    found = attributes()
    assert (found["DelaySeconds"], found["MessageRetentionPeriod"]) == ("2", "345600")


# ECS --------------------------------------------------------------------------------------


def test_ecs_placement_is_kept_on_services_and_task_definitions(
    aws: Aws, unique: Namer, wait_stack: Waiter
) -> None:
    cfn, ecs = aws("cloudformation"), aws("ecs")
    name = unique("ecs")
    constraint = {"Type": "memberOf", "Expression": "attribute:ecs.instance-type =~ t3.*"}
    strategies = [
        {"Type": "spread", "Field": "attribute:ecs.availability-zone"},
        {"Type": "binpack", "Field": "memory"},
    ]
    template = {
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": name}},
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": name,
                    "Cpu": "256",
                    "Memory": "512",
                    "RequiresCompatibilities": ["EC2"],
                    "PlacementConstraints": [constraint],
                    "ContainerDefinitions": [
                        {"Name": "app", "Image": "nginx", "Memory": 256, "Essential": True}
                    ],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "ServiceName": name,
                    "TaskDefinition": {"Ref": "Task"},
                    "DesiredCount": 1,
                    "LaunchType": "EC2",
                    "PlacementConstraints": [{"Type": "distinctInstance"}],
                    "PlacementStrategies": strategies,
                },
            },
        },
        "Outputs": {"Task": {"Value": {"Ref": "Task"}}},
    }
    outputs = _outputs(_deploy(cfn, wait_stack, name, template))

    service = ecs.describe_services(cluster=name, services=[name])["services"][0]
    assert service["placementConstraints"] == [{"type": "distinctInstance"}]
    assert service["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "binpack", "field": "memory"},
    ]
    assert service["launchType"] == "EC2"

    task = ecs.describe_task_definition(taskDefinition=outputs["Task"])["taskDefinition"]
    assert task["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}
    ]
    assert (task["cpu"], task["memory"]) == ("256", "512")
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"


# KMS and SSM ------------------------------------------------------------------------------


def test_kms_key_policy_as_an_object(aws: Aws, unique: Namer, wait_stack: Waiter) -> None:
    cfn, kms = aws("cloudformation"), aws("kms")
    name = unique("kms")
    policy = {
        "Version": "2012-10-17",
        "Id": "key-policy",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}},
            "Default": {"Type": "AWS::KMS::Key", "Properties": {"Description": "no policy"}},
        },
        "Outputs": {
            "Key": {"Value": {"Ref": "Key"}},
            "KeyId": {"Value": {"Fn::GetAtt": ["Key", "KeyId"]}},
            "Default": {"Value": {"Ref": "Default"}},
        },
    }
    outputs = _outputs(_deploy(cfn, wait_stack, name, template))
    assert outputs["KeyId"] == outputs["Key"]

    stored = json.loads(kms.get_key_policy(KeyId=outputs["Key"], PolicyName="default")["Policy"])
    assert stored["Id"] == "key-policy"
    assert stored["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert stored["Statement"][0]["Action"] == "kms:*"

    default = kms.get_key_policy(KeyId=outputs["Default"], PolicyName="default")["Policy"]
    assert json.loads(default)["Statement"]  # AWS's default key policy, not empty


def test_ssm_parameter_map_tags_and_generated_name(
    aws: Aws, unique: Namer, wait_stack: Waiter
) -> None:
    cfn, ssm = aws("cloudformation"), aws("ssm")
    name, named = unique("params"), f"/{unique('app')}/value"
    template = {
        "Resources": {
            "Generated": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "one", "Tags": {"team": "core"}},
            },
            "Named": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": named,
                    "Type": "String",
                    "Value": "two",
                    "Tags": {"team": "data", "tier": "1"},
                },
            },
        },
        "Outputs": {
            "Generated": {"Value": {"Ref": "Generated"}},
            "Type": {"Value": {"Fn::GetAtt": ["Generated", "Type"]}},
            "Value": {"Value": {"Fn::GetAtt": ["Generated", "Value"]}},
        },
    }
    outputs = _outputs(_deploy(cfn, wait_stack, name, template))
    generated = outputs["Generated"]
    assert generated.startswith("CFN-Generated-") and len(generated) == len("CFN-Generated-") + 12
    assert (outputs["Type"], outputs["Value"]) == ("String", "one")
    assert ssm.get_parameter(Name=generated)["Parameter"]["Value"] == "one"

    def tags(parameter: str) -> dict[str, str]:
        listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter)
        # CloudFormation's own aws:cloudformation:* tags are tested with stack tags
        return {t["Key"]: t["Value"] for t in listed["TagList"] if not t["Key"].startswith("aws:")}

    assert tags(generated) == {"team": "core"}
    assert tags(named) == {"team": "data", "tier": "1"}
    assert _delete(cfn, wait_stack, name)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=generated)
