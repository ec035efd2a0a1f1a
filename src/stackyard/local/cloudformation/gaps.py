"""Per-type fixes where moto's CloudFormation models lose or reject what AWS accepts.

Each adapter is small and keyed by resource type: ``before_create`` reshapes properties
into what moto's model expects, ``after_create`` applies settings moto's model drops,
``update`` changes a resource in place where moto's update is missing or partial,
``delete`` removes what moto's model cannot, ``get_att`` answers attributes moto lacks, and
``record`` makes plausible records for types moto cannot provision.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import string
import types
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from stackyard.local.cloudformation.errors import ResourceFailure

__all__ = [
    "NAME_PROPERTIES",
    "after_create",
    "before_create",
    "create",
    "delete",
    "generated_name",
    "get_att",
    "record",
    "update",
]

NAME_PROPERTIES = {
    "AWS::SSM::Parameter": "Name",
    "AWS::WAFv2::IPSet": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::WAFv2::RegexPatternSet": "Name",
    "AWS::WAFv2::RuleGroup": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


class _Context(Protocol):
    account_id: str
    region: str


def _suffix(size: int = 12) -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=size))


def generated_name(resource_type: str, stack_name: str, logical_id: str) -> str | None:
    """AWS's style of generated name for types where moto's differs, else None."""
    if resource_type == "AWS::SSM::Parameter":
        return f"CFN-{logical_id}-{_suffix()}"
    if resource_type.startswith("AWS::WAFv2::"):
        return f"{logical_id}-{_suffix()}"
    return None


def _tag_list(tags: Any) -> Any:
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return tags


def before_create(
    resource_type: str, properties: dict[str, Any], name: str, ctx: _Context
) -> dict[str, Any]:
    """Properties reshaped for moto's model of ``resource_type``."""
    if resource_type == "AWS::KMS::Key":
        policy = properties.get("KeyPolicy")
        if isinstance(policy, dict | list):
            properties["KeyPolicy"] = json.dumps(policy)
        properties.setdefault("KeyPolicy", None)
        if isinstance(properties.get("Tags"), list):  # moto's KMS tagger wants TagKey/TagValue
            properties["Tags"] = [
                {"TagKey": t.get("Key"), "TagValue": t.get("Value")}
                for t in properties["Tags"]
                if isinstance(t, dict)
            ]
    elif resource_type == "AWS::SSM::Parameter":
        properties["Name"] = properties.get("Name") or name
        if "Tags" in properties:
            properties["Tags"] = _tag_list(properties["Tags"])
    elif resource_type == "AWS::RDS::DBInstance":
        for key in ("AllocatedStorage", "BackupRetentionPeriod", "Iops", "MaxAllocatedStorage"):
            if isinstance(properties.get(key), str) and properties[key].strip().isdigit():
                properties[key] = int(properties[key])  # moto compares them as numbers
        group = properties.get("DBSubnetGroupName")
        if isinstance(group, str):
            properties["DBSubnetGroupName"] = types.SimpleNamespace(name=group)
        properties["DBSecurityGroups"] = [
            types.SimpleNamespace(name=g) if isinstance(g, str) else g
            for g in properties.get("DBSecurityGroups") or []
        ]
    elif resource_type == "AWS::ECS::Service":
        count = properties.get("DesiredCount")
        if isinstance(count, str) and count.strip().isdigit():
            properties["DesiredCount"] = int(count)  # moto does arithmetic on it
        _require_attached_target_groups(properties, ctx)
    elif resource_type == "AWS::S3::Bucket":
        _refuse_existing_bucket(name, ctx)
    elif resource_type in _IAM_WITH_INLINE_POLICIES:
        properties["Policies"] = _json_policies(properties.get("Policies"))
    elif resource_type == "AWS::Route53::HostedZone":
        for vpc in _hosted_zone_vpcs(properties):
            _require_vpc(vpc, ctx)
    elif resource_type in ("AWS::Route53::RecordSet", "AWS::Route53::RecordSetGroup"):
        zone_name = properties.get("HostedZoneName")
        if isinstance(zone_name, str) and zone_name and not zone_name.endswith("."):
            properties["HostedZoneName"] = zone_name + "."
    return properties


def _refuse_existing_bucket(name: str, ctx: _Context) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if name in s3_backends[ctx.account_id][get_partition(ctx.region)].buckets:
        raise ResourceFailure(f"{name} already exists")


def _tag_topic(model: Any, properties: dict[str, Any], ctx: _Context) -> None:
    """moto's SNS topics ignore ``Tags`` from CloudFormation."""
    from moto.sns.models import sns_backends

    tags = {
        str(t["Key"]): str(t.get("Value", ""))
        for t in properties.get("Tags") or []
        if isinstance(t, dict) and "Key" in t
    }
    if tags:
        sns_backends[ctx.account_id][ctx.region].tag_resource(model.arn, tags)


def after_create(resource_type: str, model: Any, properties: dict[str, Any], ctx: _Context) -> None:
    """Apply the settings moto's model of ``resource_type`` dropped."""
    if model is None:
        return
    if resource_type == "AWS::SNS::Topic":
        _tag_topic(model, properties, ctx)
        return
    if resource_type == "AWS::ECS::Service":
        _service_settings(model, properties)
    elif resource_type == "AWS::ECS::TaskDefinition":
        _task_definition_settings(model, properties)
    elif resource_type == "AWS::RDS::DBInstance":
        if "MonitoringInterval" in properties:
            model.monitoring_interval = int(properties["MonitoringInterval"])
        if "MonitoringRoleArn" in properties:
            model.monitoring_role_arn = properties["MonitoringRoleArn"]
        model.deletion_protection = _bool(properties.get("DeletionProtection"))
    elif resource_type == "AWS::KMS::Key" and properties.get("KeyPolicy") is None:
        model.policy = model.generate_default_policy()
    elif resource_type in _IAM_PRINCIPALS:
        _sync_policies(resource_type, model, {}, properties, ctx)
    elif resource_type == "AWS::Route53::HostedZone":
        _hosted_zone_settings(model, {}, properties, ctx)
    elif resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        model.canonical_hosted_zone_id = _load_balancer_zone(ctx.region, model.type)


def get_att(resource_type: str, model: Any, attribute: str) -> Any:
    """Attributes moto's models lack, else None."""
    if resource_type == "AWS::KMS::Key" and attribute == "KeyId":
        return model.id
    if resource_type == "AWS::SSM::Parameter" and attribute == "Type":
        return model.parameter_type
    if resource_type == "AWS::SSM::Parameter" and attribute == "Value":
        return model.value
    if resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        return _load_balancer_attribute(model, attribute)
    if resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup":
        return _target_group_attribute(model, attribute)
    if resource_type == "AWS::Route53::HostedZone":
        if attribute == "NameServers":
            if model.private_zone or model.delegation_set is None:
                return []
            return list(model.delegation_set.name_servers)
        if attribute == "Id":
            return model.resource_id
    if resource_type == "AWS::RDS::DBInstance":
        if attribute == "DBInstanceArn":
            return model.db_instance_arn
        if attribute == "DbiResourceId":
            return model.dbi_resource_id
    return None


def _target_group_attribute(model: Any, attribute: str) -> Any:
    # the full name is the ARN's resource part: targetgroup/NAME/ID (a metric dimension)
    if attribute == "TargetGroupFullName":
        return str(model.arn).split(":", 5)[-1]
    if attribute == "TargetGroupName":
        return model.name
    if attribute == "TargetGroupArn":
        return model.arn
    if attribute == "LoadBalancerArns":
        return list(model.load_balancer_arns)
    return None


_WAF_KINDS = {
    "AWS::WAFv2::IPSet": "ipset",
    "AWS::WAFv2::WebACL": "webacl",
    "AWS::WAFv2::RegexPatternSet": "regexpatternset",
    "AWS::WAFv2::RuleGroup": "rulegroup",
}


def record(
    resource_type: str, name: str, properties: dict[str, Any], region: str, account_id: str
) -> tuple[str | None, dict[str, Any]]:
    """A physical id and attributes for a recorded resource of a type with a known shape."""
    if resource_type in _WAF_KINDS:
        identifier = str(uuid.uuid4())
        scope = str(properties.get("Scope", "REGIONAL"))
        where = "global" if scope == "CLOUDFRONT" else "regional"
        arn = (
            f"arn:aws:wafv2:{region}:{account_id}:{where}/{_WAF_KINDS[resource_type]}/"
            f"{name}/{identifier}"
        )
        attributes: dict[str, Any] = {"Arn": arn, "Id": identifier}
        if resource_type == "AWS::WAFv2::WebACL":
            attributes["LabelNamespace"] = f"awswaf:{account_id}:webacl:{name}:"
            attributes["Capacity"] = 0
        return f"{name}|{identifier}|{scope}", attributes
    if resource_type == "AWS::WAFv2::WebACLAssociation":
        physical = f"{properties.get('ResourceArn', '')}|{properties.get('WebACLArn', '')}"
        return physical, {}
    return None, {}


# creates, updates and deletes -------------------------------------------------------------


def create(resource_type: str, name: str, properties: dict[str, Any], ctx: _Context) -> Any:
    """Create through the service backend where moto's model drops what it needs, else None."""
    if resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        return _create_load_balancer(name, properties, ctx)
    return None


def update(
    resource_type: str,
    model: Any,
    old: Mapping[str, Any],
    new: dict[str, Any],
    ctx: _Context,
) -> bool:
    """Update ``model`` in place from ``old`` to ``new`` properties where moto's update falls
    short; False leaves the update to moto's model."""
    if resource_type == "AWS::IAM::Role":
        _update_role(model, old, new, ctx)
    elif resource_type == "AWS::IAM::User":
        model.path = new.get("Path") or "/"
        _sync_policies(resource_type, model, old, new, ctx)
    elif resource_type == "AWS::SQS::Queue":
        _update_queue(model, new, ctx)
    elif resource_type == "AWS::RDS::DBInstance":
        _update_db_instance(model, new)
    elif resource_type == "AWS::Route53::HostedZone":
        _hosted_zone_settings(model, old, new, ctx)
    elif resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        _update_load_balancer(model, old, new, ctx)
    else:
        return False
    return True


def delete(resource_type: str, model: Any, ctx: _Context) -> bool:
    """Prepare or carry out the deletion of ``model``; True when it is already deleted."""
    if resource_type in _IAM_PRINCIPALS:  # IAM refuses to delete a principal with policies
        _sync_policies(resource_type, model, {}, {}, ctx, inline_of=model.policies)
        _sync_managed_policies(resource_type, model, list(model.managed_policies), [], ctx)
        return False
    if resource_type == "AWS::ECS::Service":  # moto's model has no delete, and tasks would run on
        from moto.ecs.models import ecs_backends

        ecs_backends[ctx.account_id][ctx.region].delete_service(
            model.cluster_name, model.name, force=True
        )
        return True
    if resource_type == "AWS::Route53::HostedZone":
        from moto.route53.models import route53_backends
        from moto.utilities.utils import get_partition

        route53_backends[ctx.account_id][get_partition(ctx.region)].delete_hosted_zone(
            model.resource_id
        )
        return True
    return False


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# IAM ------------------------------------------------------------------------------------

_IAM_WITH_INLINE_POLICIES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
_IAM_PRINCIPALS = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user"}


def _policy_text(document: Any) -> str:
    """A policy document as the JSON text IAM stores (moto keeps ``str(dict)`` otherwise)."""
    return document if isinstance(document, str) else json.dumps(document)


def _json_policies(policies: Any) -> list[Any]:
    result: list[Any] = []
    for policy in policies or []:
        if isinstance(policy, dict) and "PolicyDocument" in policy:
            policy = {**policy, "PolicyDocument": _policy_text(policy["PolicyDocument"])}
        result.append(policy)
    return result


def _iam_backend(ctx: _Context) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[ctx.account_id][get_partition(ctx.region)]


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def _ensure_aws_managed_policy(arn: str, ctx: _Context) -> None:
    """Load one AWS managed policy into moto's IAM on first use (moto loads none by default)."""
    backend = _iam_backend(ctx)
    if arn in backend.managed_policies or ":iam::aws:policy/" not in arn:
        return
    name = arn.rsplit("/", 1)[-1]
    data = _aws_managed_policy_data().get(name)
    if data is None:
        return
    from moto.iam.models import AWSManagedPolicy

    policy = AWSManagedPolicy.from_data(name, ctx.account_id, ctx.region, data)
    if policy.arn == arn:
        backend.managed_policies[arn] = policy


def _sync_managed_policies(
    resource_type: str, model: Any, old: list[str], new: list[str], ctx: _Context
) -> None:
    backend = _iam_backend(ctx)
    kind = _IAM_PRINCIPALS[resource_type]
    attach = getattr(backend, f"attach_{kind}_policy")
    detach = getattr(backend, f"detach_{kind}_policy")
    for arn in old:
        if arn not in new and arn in model.managed_policies:
            detach(arn, model.name)
    for arn in new:
        if arn not in model.managed_policies:
            _ensure_aws_managed_policy(str(arn), ctx)
            attach(str(arn), model.name)


def _sync_policies(
    resource_type: str,
    model: Any,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    ctx: _Context,
    inline_of: Mapping[str, Any] | None = None,
) -> None:
    """Make a role's or user's inline and managed policies those of ``new`` (from ``old``)."""
    wanted = {p["PolicyName"]: p["PolicyDocument"] for p in _json_policies(new.get("Policies"))}
    previous = [p.get("PolicyName") for p in old.get("Policies") or [] if isinstance(p, dict)]
    for name in list(inline_of or {}) + previous:
        if name and name not in wanted and name in model.policies:
            model.delete_policy(name)
    for name, document in wanted.items():
        model.put_policy(name, document)
    _sync_managed_policies(
        resource_type,
        model,
        list(old.get("ManagedPolicyArns") or []),
        list(new.get("ManagedPolicyArns") or []),
        ctx,
    )


def _update_role(model: Any, old: Mapping[str, Any], new: dict[str, Any], ctx: _Context) -> None:
    trust = new.get("AssumeRolePolicyDocument")
    if trust is not None:
        model.assume_role_policy_document = _policy_text(trust)
    model.description = new.get("Description", "")
    model.max_session_duration = int(new.get("MaxSessionDuration", 3600))
    model.permissions_boundary_arn = new.get("PermissionsBoundary") or None
    model.tags = list(new.get("Tags") or [])
    _sync_policies("AWS::IAM::Role", model, old, new, ctx)


# SQS ------------------------------------------------------------------------------------

_QUEUE_DEFAULTS: dict[str, Any] = {
    "DelaySeconds": 0,
    "MaximumMessageSize": None,  # moto's default, read from a fresh queue
    "MessageRetentionPeriod": 345600,
    "ReceiveMessageWaitTimeSeconds": 0,
    "VisibilityTimeout": 30,
    "KmsMasterKeyId": None,
    "KmsDataKeyReusePeriodSeconds": 300,
    "SqsManagedSseEnabled": True,
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
    "RedrivePolicy": {},
}


def _update_queue(model: Any, new: Mapping[str, Any], ctx: _Context) -> None:
    """Apply every updatable attribute; one left out of the template returns to its default."""
    from moto.sqs.constants import MAXIMUM_MESSAGE_LENGTH
    from moto.sqs.models import sqs_backends

    attributes: dict[str, Any] = {}
    for key, default in _QUEUE_DEFAULTS.items():
        if key == "MaximumMessageSize" and default is None:
            default = MAXIMUM_MESSAGE_LENGTH
        value = new.get(key, default)
        if key == "RedrivePolicy" and isinstance(value, dict):
            value = json.dumps(value) if value else ""
        attributes[key] = value
    policy = model.policy
    sqs_backends[ctx.account_id][ctx.region].set_queue_attributes(model.name, attributes)
    model.policy = policy
    tags = new.get("Tags") or []
    model.tags = {str(t["Key"]): str(t["Value"]) for t in tags if isinstance(t, dict)}


# RDS ------------------------------------------------------------------------------------

_DB_INSTANCE_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "AllocatedStorage": ("allocated_storage", int),
    "AutoMinorVersionUpgrade": ("auto_minor_version_upgrade", _bool),
    "BackupRetentionPeriod": ("backup_retention_period", int),
    "CopyTagsToSnapshot": ("copy_tags_to_snapshot", _bool),
    "DBInstanceClass": ("db_instance_class", str),
    "EngineVersion": ("engine_version", str),
    "Iops": ("iops", int),
    "MasterUserPassword": ("master_user_password", str),
    "MaxAllocatedStorage": ("max_allocated_storage", int),
    "MultiAZ": ("multi_az", _bool),
    "PreferredBackupWindow": ("preferred_backup_window", str),
    "PreferredMaintenanceWindow": ("preferred_maintenance_window", str),
    "PubliclyAccessible": ("publicly_accessible", _bool),
    "StorageType": ("storage_type", str),
    "VpcSecurityGroupIds": ("vpc_security_group_ids", list),
}


def _update_db_instance(model: Any, new: Mapping[str, Any]) -> None:
    """Modify a DB instance in place (moto would delete and recreate it, which deletion
    protection refuses)."""
    for key, (attribute, convert) in _DB_INSTANCE_SETTINGS.items():
        if new.get(key) is not None:
            setattr(model, attribute, convert(new[key]))
    model.deletion_protection = _bool(new.get("DeletionProtection"))
    interval = int(new.get("MonitoringInterval") or 0)
    role = new.get("MonitoringRoleArn")
    if interval and not role:
        raise ResourceFailure(
            "A MonitoringRoleARN value is required if you specify a MonitoringInterval value "
            "other than 0."
        )
    if role and not interval:
        raise ResourceFailure(
            "You must specify a MonitoringInterval value other than 0 when you specify a "
            "MonitoringRoleARN value."
        )
    model.monitoring_interval = interval
    model.monitoring_role_arn = role
    if new.get("Tags") is not None:
        model.tags = list(new["Tags"])


# ECS ------------------------------------------------------------------------------------


def _lower_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    return value


def _require_attached_target_groups(properties: Mapping[str, Any], ctx: _Context) -> None:
    """ECS refuses a service whose target group no listener forwards to yet (the usual cause:
    a missing DependsOn on the listener)."""
    from stackyard.local.elbv2.targets import check_attached

    arns = [
        str(b["TargetGroupArn"])
        for b in properties.get("LoadBalancers") or []
        if isinstance(b, dict) and b.get("TargetGroupArn")
    ]
    refusal = check_attached(ctx.account_id, ctx.region, arns)
    if refusal is not None:
        raise ResourceFailure(f"Invalid request provided: CreateService error: {refusal}")


def _typed(value: Any) -> Any:
    """Template scalars as the API types them: "true"/"false" as booleans, digits as ints."""
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if value.isdigit():
            return int(value)
    return value


def _service_settings(model: Any, properties: Mapping[str, Any]) -> None:
    """Keep what moto's service model ignores: placement, load balancers, deployment
    configuration, health check grace period and launch type."""
    from stackyard.local.ecs import service_runner

    model.placement_constraints = _lower_keys(properties.get("PlacementConstraints") or [])
    model.placement_strategy = _lower_keys(properties.get("PlacementStrategies") or [])
    if properties.get("LaunchType"):
        model.launch_type = properties["LaunchType"]
    model.load_balancers = _typed(_lower_keys(properties.get("LoadBalancers") or []))
    model.deployment_configuration = _typed(
        _lower_keys(properties.get("DeploymentConfiguration") or {})
    )
    model.deployment_configuration = service_runner.configuration(model)
    if properties.get("HealthCheckGracePeriodSeconds") is not None:
        model.health_check_grace_period_seconds = int(properties["HealthCheckGracePeriodSeconds"])
    if properties.get("NetworkConfiguration"):
        model.network_configuration = _lower_keys(properties["NetworkConfiguration"])
    if properties.get("Tags"):
        model.tags = _lower_keys(properties["Tags"])


def _task_definition_settings(model: Any, properties: Mapping[str, Any]) -> None:
    """Keep what moto's task definition model ignores from the template."""
    model.placement_constraints = _lower_keys(properties.get("PlacementConstraints") or [])
    for key, attribute in (
        ("Cpu", "cpu"),
        ("Memory", "memory"),
        ("TaskRoleArn", "task_role_arn"),
        ("ExecutionRoleArn", "execution_role_arn"),
        ("NetworkMode", "network_mode"),
    ):
        if properties.get(key) is not None:
            setattr(model, attribute, str(properties[key]))
    compatibilities = properties.get("RequiresCompatibilities")
    if compatibilities:
        model.requires_compatibilities = list(compatibilities)
        if "FARGATE" in compatibilities:
            model.compatibilities = ["EC2", "FARGATE"]
            if properties.get("NetworkMode") is None:
                model.network_mode = "awsvpc"
    if properties.get("Tags"):
        model.tags = _lower_keys(properties["Tags"])


# Route 53 -------------------------------------------------------------------------------


def _hosted_zone_vpcs(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [v for v in properties.get("VPCs") or [] if isinstance(v, dict)]


def _require_vpc(vpc: Mapping[str, Any], ctx: _Context) -> None:
    from moto.ec2.models import ec2_backends

    region = str(vpc.get("VPCRegion") or ctx.region)
    try:
        ec2_backends[ctx.account_id][region].get_vpc(str(vpc.get("VPCId")))
    except Exception as exc:
        raise ResourceFailure(
            f"Invalid request provided: The VPC '{vpc.get('VPCId')}' does not exist "
            f"in region {region}"
        ) from exc


def _hosted_zone_settings(
    model: Any, old: Mapping[str, Any], new: Mapping[str, Any], ctx: _Context
) -> None:
    """A zone's private VPCs, comment and tags, and its name with the trailing dot AWS shows."""
    from moto.route53.models import route53_backends
    from moto.utilities.utils import get_partition

    backend = route53_backends[ctx.account_id][get_partition(ctx.region)]
    if not model.name.endswith("."):
        bare = model.name
        model.name = bare + "."
        for rrset in model.rrsets:
            if rrset.name == bare:
                rrset.name = model.name
    vpcs = _hosted_zone_vpcs(new)
    for vpc in vpcs:
        _require_vpc(vpc, ctx)
    if vpcs:
        model.private_zone = True
        model.vpcs = []
        for vpc in vpcs:
            model.add_vpc(str(vpc.get("VPCId")), str(vpc.get("VPCRegion") or ctx.region))
    elif model.private_zone and old:
        raise ResourceFailure(
            "The VPC that you're trying to disassociate from the private hosted zone is the last "
            "VPC that is associated with the hosted zone."
        )
    config = new.get("HostedZoneConfig") or {}
    model.comment = config.get("Comment") if isinstance(config, dict) else None
    tags = {str(t["Key"]): str(t["Value"]) for t in new.get("HostedZoneTags") or []}
    current = dict(backend.list_tags_for_resource(model.resource_id))
    removed = [key for key in current if key not in tags]
    added = [{"Key": k, "Value": v} for k, v in tags.items() if current.get(k) != v]
    if removed or added:
        backend.change_tags_for_resource("hostedzone", model.resource_id, added, removed)


# Elastic Load Balancing -----------------------------------------------------------------

# Route 53 hosted zone ids of load balancers per region (Elastic Load Balancing endpoints
# table in the AWS General Reference): (application and classic, network).
_LOAD_BALANCER_ZONES = {
    "us-east-1": ("Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    "us-east-2": ("Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    "us-west-1": ("Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
    "us-west-2": ("Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    "ca-central-1": ("ZQSVJUPU6J1EY", "Z2EPGBW3API2WT"),
    "eu-central-1": ("Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
    "eu-west-1": ("Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    "eu-west-2": ("ZHURV8PSTC4K8", "ZD4D7Y8KGAS4G"),
    "ap-northeast-1": ("Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
    "ap-southeast-1": ("Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"),
    "ap-southeast-2": ("Z1GM3OXH4ZPM65", "ZCT6FZBF4DROD"),
    "ap-south-1": ("ZP97RAFLXTNZK", "ZVDDRBQ08TROA"),
    "sa-east-1": ("Z2P70J7HTTTPLU", "ZTK26PT1VY4CU"),
}


def _load_balancer_zone(region: str, kind: str) -> str:
    network = kind in ("network", "gateway")
    known = _LOAD_BALANCER_ZONES.get(region)
    if known is not None:
        return known[1 if network else 0]
    digest = hashlib.sha256(f"{region}/{network}".encode()).hexdigest().upper()
    return "Z" + digest[:13]


def _elbv2_backend(ctx: _Context) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[ctx.account_id][ctx.region]


def _create_load_balancer(name: str, properties: Mapping[str, Any], ctx: _Context) -> Any:
    """A load balancer of the template's type (moto's model makes every one an application
    load balancer and drops subnet mappings, tags and attributes)."""
    backend = _elbv2_backend(ctx)
    model = backend.create_load_balancer(
        name,
        list(properties.get("SecurityGroups") or []),
        list(properties.get("Subnets") or []),
        subnet_mappings=list(properties.get("SubnetMappings") or []) or None,
        scheme=str(properties.get("Scheme") or "internet-facing"),
        loadbalancer_type=str(properties.get("Type") or "application"),
        ip_address_type=str(properties.get("IpAddressType") or "ipv4"),
    )
    prefix = {"network": "/net/", "gateway": "/gwy/"}.get(model.type)
    if prefix is not None:  # moto names every load balancer's ARN app/...
        arn = model.arn.replace(":loadbalancer/app/", f":loadbalancer{prefix}", 1)
        backend.load_balancers[arn] = backend.load_balancers.pop(model.arn)
        model.arn = arn
    if properties.get("Tags"):
        backend.add_tags([model.arn], list(properties["Tags"]))
    attributes = _load_balancer_attributes(properties)
    if attributes:
        backend.modify_load_balancer_attributes(model.arn, attributes)
    return model


def _load_balancer_attributes(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(item["Key"]): str(item["Value"])
        for item in properties.get("LoadBalancerAttributes") or []
        if isinstance(item, dict) and "Key" in item
    }


def _update_load_balancer(
    model: Any, old: Mapping[str, Any], new: Mapping[str, Any], ctx: _Context
) -> None:
    backend = _elbv2_backend(ctx)
    if new.get("SecurityGroups") is not None:
        backend.set_security_groups(model.arn, list(new["SecurityGroups"]))
    if new.get("Subnets") != old.get("Subnets") or new.get("SubnetMappings") != old.get(
        "SubnetMappings"
    ):
        backend.set_subnets(
            model.arn, list(new.get("Subnets") or []), list(new.get("SubnetMappings") or [])
        )
    if new.get("IpAddressType"):
        backend.set_ip_address_type(model.arn, str(new["IpAddressType"]))
    attributes = _load_balancer_attributes(new)
    if attributes:
        backend.modify_load_balancer_attributes(model.arn, attributes)
    old_keys = {str(t["Key"]) for t in old.get("Tags") or []}
    new_tags = list(new.get("Tags") or [])
    gone = sorted(old_keys - {str(t["Key"]) for t in new_tags})
    if gone:
        backend.remove_tags([model.arn], gone)
    if new_tags:
        backend.add_tags([model.arn], new_tags)


def _load_balancer_attribute(model: Any, attribute: str) -> Any:
    if attribute == "CanonicalHostedZoneID":
        return getattr(model, "canonical_hosted_zone_id", None) or _load_balancer_zone(
            model.arn.split(":")[3], model.type
        )
    if attribute == "LoadBalancerFullName":
        return str(model.arn).split(":loadbalancer/", 1)[-1]
    if attribute == "LoadBalancerArn":
        return model.arn
    if attribute == "SecurityGroups":
        return list(model.security_groups or [])
    return None
