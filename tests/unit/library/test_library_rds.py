"""rds.Database: encryption, deletion protection, dynamic-reference password, monitoring."""

from __future__ import annotations

import json

import pytest

from stackyard.errors import VariableError
from stackyard.library.rds import Database, master_password_reference

BASE = {
    "MasterPasswordParameter": "/ops-test/database/master-password",
    "VpcId": "vpc-0123456789abcdef0",
    "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
    "ClientSecurityGroupIds": ["sg-0123456789abcdef0"],
}


@pytest.mark.parametrize(
    ("engine", "port", "family"),
    [("postgres", "5432", "postgres17"), ("mysql", "3306", "mysql8.4")],
)
def test_database_is_encrypted_protected_and_monitored(
    render, engine: str, port: str, family: str
) -> None:
    r = render(Database, {**BASE, "Engine": engine, "MonitoringInterval": 15})
    db = r.one("AWS::RDS::DBInstance")
    assert db["Engine"] == engine and db["Port"] == port
    assert db["StorageEncrypted"] is True
    assert db["DeletionProtection"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MonitoringInterval"] == 15
    assert db["MonitoringRoleArn"] == {"Fn::GetAtt": ["MonitoringRole", "Arn"]}
    instance = r.of_type("AWS::RDS::DBInstance")["Instance"]
    assert (
        instance["DeletionPolicy"] == "Snapshot" and instance["UpdateReplacePolicy"] == "Snapshot"
    )
    role = r.one("AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "monitoring.rds.amazonaws.com"
    }
    assert "AmazonRDSEnhancedMonitoringRole" in json.dumps(role["ManagedPolicyArns"])
    assert r.one("AWS::RDS::DBParameterGroup")["Family"] == family
    assert db["DBSubnetGroupName"] == {"Ref": "SubnetGroup"}
    ingress = r.one("AWS::EC2::SecurityGroup")["SecurityGroupIngress"]
    assert ingress == [
        {
            "Description": "database clients",
            "FromPort": int(port),
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": "sg-0123456789abcdef0",
            "ToPort": int(port),
        }
    ]
    assert {"Endpoint", "Port", "SecurityGroupId", "MonitoringRoleArn"} <= set(r.outputs)
    assert r.lint_errors() == []


def test_master_password_is_a_dynamic_reference_never_a_literal(render) -> None:
    r = render(Database, {**BASE, "MasterPasswordVersion": 3})
    db = r.one("AWS::RDS::DBInstance")
    assert db["MasterUserPassword"] == "{{resolve:ssm-secure:/ops-test/database/master-password:3}}"
    assert "MasterUserPassword" not in r.parameters
    assert r.body.count("{{resolve:ssm-secure:") == 1


def test_password_reference_defaults_to_latest_version() -> None:
    assert master_password_reference("/a/b") == "{{resolve:ssm-secure:/a/b}}"


@pytest.mark.parametrize("bad", ["{{resolve:ssm-secure:/a/b}}", "hunter2 with spaces"])
def test_password_variable_takes_a_parameter_name_only(render, bad: str) -> None:
    with pytest.raises(VariableError, match="MasterPasswordParameter"):
        render(Database, {**BASE, "MasterPasswordParameter": bad})


def test_monitoring_off_means_no_role(render) -> None:
    r = render(Database, {**BASE, "MonitoringInterval": 0})
    assert "MonitoringInterval" not in r.one("AWS::RDS::DBInstance")
    assert r.of_type("AWS::IAM::Role") == {}


def test_monitoring_interval_must_be_one_rds_accepts(render) -> None:
    with pytest.raises(VariableError, match="MonitoringInterval"):
        render(Database, {**BASE, "MonitoringInterval": 7})
