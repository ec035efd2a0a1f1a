"""An RDS database instance (PostgreSQL or MySQL), safe by default.

``rds.Database`` makes the DB instance with its subnet group, security group
and parameter group. Storage is encrypted, deletion protection is on, the
instance is snapshotted when deleted or replaced, it is never publicly
accessible, and enhanced monitoring runs every ``MonitoringInterval`` seconds
with its own monitoring role.

The master password never passes through stackyard: the template carries a
CloudFormation dynamic reference, ``{{resolve:ssm-secure:NAME}}``, to a
SecureString parameter (``MasterPasswordParameter``) that CloudFormation reads
when it creates or updates the instance::

    - name: database
      class_path: stackyard.library.rds.Database
      protected: true
      variables:
        Engine: postgres
        VpcId: ${output network::VpcId}
        SubnetIds: ${output network::PrivateSubnetIds}
        ClientSecurityGroupIds: [${output cluster::InstanceSecurityGroupId}]
        MasterPasswordParameter: /ops-stage/database/master-password
"""

from __future__ import annotations

import re
from typing import Any

from troposphere import GetAtt, Ref, Sub, Tags, ec2, iam, rds

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import EC2SubnetIdList, EC2VPCId

__all__ = ["ENGINES", "MONITORING_INTERVALS", "Database", "master_password_reference"]

#: Engine name to (default version, parameter group family, port).
ENGINES: dict[str, tuple[str, str, int]] = {
    "postgres": ("17.6", "postgres17", 5432),
    "mysql": ("8.4.7", "mysql8.4", 3306),
}

#: The intervals RDS accepts for enhanced monitoring; 0 turns it off.
MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60]

_PARAMETER_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]+$")

_MONITORING_POLICY = (
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
)


def master_password_reference(parameter: str, version: int = 0) -> str:
    """The dynamic reference to a SecureString parameter: ``{{resolve:ssm-secure:NAME[:V]}}``."""
    if not _PARAMETER_NAME.match(parameter):
        raise ValueError(f"{parameter!r} is not an SSM parameter name")
    suffix = f":{version}" if version else ""
    return f"{{{{resolve:ssm-secure:{parameter}{suffix}}}}}"


def _validate_parameter_name(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{{resolve:"):
        raise ValueError("give the parameter's name; the blueprint writes the dynamic reference")
    master_password_reference(str(value))
    return value


class Database(Blueprint):
    """DB instance, subnet group, security group, parameter group and monitoring role."""

    VARIABLES = {
        "Engine": {
            "type": str,
            "default": "postgres",
            "allowed_values": sorted(ENGINES),
            "description": "postgres or mysql.",
        },
        "EngineVersion": {
            "type": str,
            "default": "",
            "description": "Engine version; the engine's default in this module if empty.",
        },
        "ParameterGroupFamily": {
            "type": str,
            "default": "",
            "description": "Parameter group family (e.g. postgres17); from the engine if empty.",
        },
        "DBParameters": {
            "type": dict,
            "default": {},
            "description": "Database parameters for the parameter group (name to value).",
        },
        "InstanceClass": {
            "type": str,
            "default": "db.t4g.micro",
            "description": "DB instance class.",
        },
        "AllocatedStorage": {
            "type": int,
            "default": 20,
            "description": "Storage in GiB.",
        },
        "MaxAllocatedStorage": {
            "type": int,
            "default": 100,
            "description": "Upper limit for storage autoscaling in GiB (0: no autoscaling).",
        },
        "DatabaseName": {
            "type": str,
            "default": "app",
            "description": "Name of the database created with the instance.",
        },
        "MasterUsername": {
            "type": str,
            "default": "app_admin",
            "description": "Master user name.",
        },
        "MasterPasswordParameter": {
            "type": str,
            "validator": _validate_parameter_name,
            "description": "Name of the SSM SecureString parameter that holds the master password.",
        },
        "MasterPasswordVersion": {
            "type": int,
            "default": 0,
            "description": "Version of that parameter to use; 0 for the latest.",
        },
        "VpcId": {"type": EC2VPCId, "description": "VPC of the database."},
        "SubnetIds": {
            "type": EC2SubnetIdList,
            "description": "Private subnets for the subnet group (two zones at least).",
        },
        "ClientSecurityGroupIds": {
            "type": list,
            "default": [],
            "description": "Security groups allowed to connect on the database port.",
        },
        "ClientCidrs": {
            "type": list,
            "default": [],
            "description": "CIDRs allowed to connect on the database port.",
        },
        "KmsKeyId": {
            "type": str,
            "default": "",
            "description": "KMS key for storage encryption; the AWS managed RDS key if empty.",
        },
        "MonitoringInterval": {
            "type": int,
            "default": 60,
            "allowed_values": MONITORING_INTERVALS,
            "description": "Seconds between enhanced monitoring samples; 0 turns it off.",
        },
        "MultiAZ": {"type": bool, "default": False, "description": "Standby in another zone."},
        "BackupRetentionDays": {
            "type": int,
            "default": 7,
            "description": "Days to keep automated backups (1 to 35).",
        },
        "DeletionProtection": {
            "type": bool,
            "default": True,
            "description": "Refuse to delete the instance until this is turned off.",
        },
    }

    def create_template(self) -> None:
        v = self.get_variables()
        t = self.template
        engine: str = v["Engine"]
        default_version, default_family, port = ENGINES[engine]
        name = self.context.get_fqn(self.name)
        if not 1 <= v["BackupRetentionDays"] <= 35:
            raise ValueError("BackupRetentionDays must be between 1 and 35")
        t.set_description(f"{engine} database {name}")

        subnet_group = t.add_resource(
            rds.DBSubnetGroup(
                "SubnetGroup",
                DBSubnetGroupDescription=f"{name} subnets",
                SubnetIds=v["SubnetIds"].ref,
            )
        )
        ingress = [
            ec2.SecurityGroupRule(
                IpProtocol="tcp",
                FromPort=port,
                ToPort=port,
                SourceSecurityGroupId=group,
                Description="database clients",
            )
            for group in v["ClientSecurityGroupIds"]
        ] + [
            ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=port, ToPort=port, CidrIp=cidr, Description=cidr
            )
            for cidr in v["ClientCidrs"]
        ]
        group_props: dict[str, Any] = {
            "GroupDescription": f"{name} database",
            "VpcId": v["VpcId"].ref,
            # No egress: a database answers connections, it does not open them.
            "SecurityGroupEgress": [
                ec2.SecurityGroupRule(
                    IpProtocol="-1", CidrIp="127.0.0.1/32", Description="no egress"
                )
            ],
            "Tags": Tags(Name=f"{name}-database"),
        }
        if ingress:
            group_props["SecurityGroupIngress"] = ingress
        group = t.add_resource(ec2.SecurityGroup("SecurityGroup", **group_props))
        parameter_group = t.add_resource(
            rds.DBParameterGroup(
                "ParameterGroup",
                Description=f"{name} parameters",
                Family=v["ParameterGroupFamily"] or default_family,
                Parameters={k: str(val) for k, val in v["DBParameters"].items()},
            )
        )
        instance_props: dict[str, Any] = {
            "Engine": engine,
            "EngineVersion": v["EngineVersion"] or default_version,
            "DBInstanceClass": v["InstanceClass"],
            "AllocatedStorage": str(v["AllocatedStorage"]),
            "StorageType": "gp3",
            "StorageEncrypted": True,
            "DBName": v["DatabaseName"],
            "MasterUsername": v["MasterUsername"],
            "MasterUserPassword": master_password_reference(
                v["MasterPasswordParameter"], v["MasterPasswordVersion"]
            ),
            "DBSubnetGroupName": Ref(subnet_group),
            "VPCSecurityGroups": [GetAtt(group, "GroupId")],
            "DBParameterGroupName": Ref(parameter_group),
            "Port": str(port),
            "PubliclyAccessible": False,
            "MultiAZ": v["MultiAZ"],
            "BackupRetentionPeriod": v["BackupRetentionDays"],
            "CopyTagsToSnapshot": True,
            "DeletionProtection": v["DeletionProtection"],
            "AutoMinorVersionUpgrade": True,
            "Tags": Tags(Name=name),
        }
        if v["MaxAllocatedStorage"]:
            instance_props["MaxAllocatedStorage"] = v["MaxAllocatedStorage"]
        if v["KmsKeyId"]:
            instance_props["KmsKeyId"] = v["KmsKeyId"]
        if v["MonitoringInterval"]:
            monitoring_role = t.add_resource(
                iam.Role(
                    "MonitoringRole",
                    Description=f"RDS enhanced monitoring of {name}",
                    AssumeRolePolicyDocument={
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {
                                    "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")}
                                },
                            }
                        ],
                    },
                    ManagedPolicyArns=[Sub(_MONITORING_POLICY)],
                )
            )
            instance_props["MonitoringInterval"] = v["MonitoringInterval"]
            instance_props["MonitoringRoleArn"] = GetAtt(monitoring_role, "Arn")
            self.add_output("MonitoringRoleArn", GetAtt(monitoring_role, "Arn"))
        instance = t.add_resource(
            rds.DBInstance(
                "Instance",
                DeletionPolicy="Snapshot",
                UpdateReplacePolicy="Snapshot",
                **instance_props,
            )
        )
        self.add_output("InstanceId", Ref(instance))
        self.add_output("Endpoint", GetAtt(instance, "Endpoint.Address"))
        self.add_output("Port", GetAtt(instance, "Endpoint.Port"))
        self.add_output("SecurityGroupId", GetAtt(group, "GroupId"))
        self.add_output("Engine", engine)
        self.add_output("MasterPasswordParameter", v["MasterPasswordParameter"])
