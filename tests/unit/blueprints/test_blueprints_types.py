"""stackyard.blueprints.variables.types: CFN parameter types and TroposphereType."""

from __future__ import annotations

import pytest
from troposphere import ec2, s3

from stackyard.blueprints.variables import types
from stackyard.blueprints.variables.types import CFNType, TroposphereType
from stackyard.unknown import Unknown

EXPECTED_TYPES = {
    "CFNString": "String",
    "CFNNumber": "Number",
    "CFNNumberList": "List<Number>",
    "CFNCommaDelimitedList": "CommaDelimitedList",
    "EC2AvailabilityZoneName": "AWS::EC2::AvailabilityZone::Name",
    "EC2ImageId": "AWS::EC2::Image::Id",
    "EC2InstanceId": "AWS::EC2::Instance::Id",
    "EC2KeyPairKeyName": "AWS::EC2::KeyPair::KeyName",
    "EC2SecurityGroupGroupName": "AWS::EC2::SecurityGroup::GroupName",
    "EC2SecurityGroupId": "AWS::EC2::SecurityGroup::Id",
    "EC2SubnetId": "AWS::EC2::Subnet::Id",
    "EC2VolumeId": "AWS::EC2::Volume::Id",
    "EC2VPCId": "AWS::EC2::VPC::Id",
    "Route53HostedZoneId": "AWS::Route53::HostedZone::Id",
    "EC2AvailabilityZoneNameList": "List<AWS::EC2::AvailabilityZone::Name>",
    "EC2ImageIdList": "List<AWS::EC2::Image::Id>",
    "EC2InstanceIdList": "List<AWS::EC2::Instance::Id>",
    "EC2SecurityGroupGroupNameList": "List<AWS::EC2::SecurityGroup::GroupName>",
    "EC2SecurityGroupIdList": "List<AWS::EC2::SecurityGroup::Id>",
    "EC2SubnetIdList": "List<AWS::EC2::Subnet::Id>",
    "EC2VolumeIdList": "List<AWS::EC2::Volume::Id>",
    "EC2VPCIdList": "List<AWS::EC2::VPC::Id>",
    "Route53HostedZoneIdList": "List<AWS::Route53::HostedZone::Id>",
    "SSMParameterName": "AWS::SSM::Parameter::Name",
    "SSMParameterValueString": "AWS::SSM::Parameter::Value<String>",
    "SSMParameterValueStringList": "AWS::SSM::Parameter::Value<List<String>>",
    "SSMParameterValueCommaDelimitedList": "AWS::SSM::Parameter::Value<CommaDelimitedList>",
}
for _name in [
    "EC2AvailabilityZoneName",
    "EC2ImageId",
    "EC2InstanceId",
    "EC2KeyPairKeyName",
    "EC2SecurityGroupGroupName",
    "EC2SecurityGroupId",
    "EC2SubnetId",
    "EC2VolumeId",
    "EC2VPCId",
    "Route53HostedZoneId",
    "EC2AvailabilityZoneNameList",
    "EC2ImageIdList",
    "EC2InstanceIdList",
    "EC2SecurityGroupGroupNameList",
    "EC2SecurityGroupIdList",
    "EC2SubnetIdList",
    "EC2VolumeIdList",
    "EC2VPCIdList",
    "Route53HostedZoneIdList",
]:
    EXPECTED_TYPES[f"SSMParameterValue{_name}"] = (
        f"AWS::SSM::Parameter::Value<{EXPECTED_TYPES[_name]}>"
    )


@pytest.mark.parametrize(("name", "parameter_type"), sorted(EXPECTED_TYPES.items()))
def test_ready_made_cfn_types(name: str, parameter_type: str) -> None:
    cfn_type = getattr(types, name)
    assert isinstance(cfn_type, CFNType)
    assert cfn_type.parameter_type == parameter_type


def test_every_cfn_type_in_the_module_is_expected() -> None:
    defined = {n for n, v in vars(types).items() if isinstance(v, CFNType)}
    assert defined == set(EXPECTED_TYPES)


def test_troposphere_type_needs_from_dict() -> None:
    with pytest.raises(ValueError, match="from_dict"):
        TroposphereType(dict)


def test_single_resource_gets_its_title_from_the_key() -> None:
    bucket = TroposphereType(s3.Bucket).create({"Logs": {"BucketName": "logs"}})
    assert isinstance(bucket, s3.Bucket)
    assert bucket.title == "Logs"
    assert bucket.to_dict() == {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "logs"}}


def test_many_resources_become_a_list_in_config_order() -> None:
    buckets = TroposphereType(s3.Bucket, many=True).create({"B": {}, "A": {}})
    assert [b.title for b in buckets] == ["B", "A"]


def test_one_resource_expected_but_two_given() -> None:
    with pytest.raises(ValueError, match=r"only one resource.*got 2: A, B"):
        TroposphereType(s3.Bucket).create({"A": {}, "B": {}})


@pytest.mark.parametrize("value", [[{"BucketName": "x"}], "Logs", {}])
def test_resource_needs_a_mapping_of_titles(value: object) -> None:
    with pytest.raises(ValueError):
        TroposphereType(s3.Bucket).create(value)


def test_resource_properties_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match="properties of 'Logs' must be a mapping"):
        TroposphereType(s3.Bucket).create({"Logs": "x"})


def test_property_type_single_and_many() -> None:
    tag = TroposphereType(ec2.Tag).create({"Key": "a", "Value": "b"})
    assert isinstance(tag, ec2.Tag)
    assert tag.to_dict() == {"Key": "a", "Value": "b"}
    tags = TroposphereType(ec2.Tag, many=True).create([{"Key": "a", "Value": "b"}])
    assert [t.to_dict() for t in tags] == [{"Key": "a", "Value": "b"}]


@pytest.mark.parametrize(
    ("many", "value", "match"),
    [
        (False, [{"Key": "a", "Value": "b"}], "mapping of properties"),
        (True, {"Key": "a", "Value": "b"}, "list of mappings"),
    ],
)
def test_property_type_shape_errors(many: bool, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TroposphereType(ec2.Tag, many=many).create(value)


@pytest.mark.parametrize("empty", [None, {}, []])
def test_optional_empty_value_is_none(empty: object) -> None:
    assert TroposphereType(s3.Bucket, many=True, optional=True).create(empty) is None


def test_validate_checks_required_properties() -> None:
    with pytest.raises(ValueError, match="Key required"):
        TroposphereType(ec2.Tag).create({"Value": "b"})
    unvalidated = TroposphereType(ec2.Tag, validate=False).create({"Value": "b"})
    assert unvalidated.Value == "b"


def test_unknown_property_is_a_troposphere_error() -> None:
    with pytest.raises(AttributeError, match="does not have a Colour property"):
        TroposphereType(s3.Bucket).create({"B": {"Colour": "red"}})


def test_unknown_values_inside_are_accepted_even_where_a_number_is_expected() -> None:
    volume = TroposphereType(ec2.Volume).create(
        {"Data": {"AvailabilityZone": "eu-west-1a", "Size": Unknown("size lookup")}}
    )
    assert volume.to_dict()["Properties"]["Size"] == "(known after apply: size lookup)"


def test_resource_name_and_expected() -> None:
    assert TroposphereType(s3.Bucket).resource_name == "AWS::S3::Bucket"
    assert TroposphereType(ec2.Tag).resource_name == "Tag"
    assert "exactly one" in TroposphereType(s3.Bucket).expected()
    assert "list of property mappings" in TroposphereType(ec2.Tag, many=True).expected()
    assert "Bucket" in repr(TroposphereType(s3.Bucket))
