"""The special ``type`` values a blueprint variable may have, as in stacker.

- A :class:`CFNType` (``CFNString``, ``EC2VPCId``, ...) makes the variable a
  CloudFormation Parameter: it is declared in the template's ``Parameters`` and
  its value is submitted with the stack; the blueprint sees a ``CFNParameter``
  whose ``.ref`` is a ``Ref`` to it.
- A :class:`TroposphereType` turns the configured dict (or list of dicts) into
  troposphere objects before the blueprint sees it.

Any other ``type`` is a Python type checked with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.unknown import Unknown


@dataclass(frozen=True)
class CFNType:
    """A CloudFormation Parameter type such as ``String`` or ``List<AWS::EC2::VPC::Id>``.

    Used as the ``type`` of a blueprint variable, it makes that variable a
    CloudFormation Parameter instead of a value known only while rendering.
    """

    parameter_type: str


CFNString = CFNType("String")
CFNNumber = CFNType("Number")
CFNNumberList = CFNType("List<Number>")
CFNCommaDelimitedList = CFNType("CommaDelimitedList")

# AWS-specific parameter types.
EC2AvailabilityZoneName = CFNType("AWS::EC2::AvailabilityZone::Name")
EC2ImageId = CFNType("AWS::EC2::Image::Id")
EC2InstanceId = CFNType("AWS::EC2::Instance::Id")
EC2KeyPairKeyName = CFNType("AWS::EC2::KeyPair::KeyName")
EC2SecurityGroupGroupName = CFNType("AWS::EC2::SecurityGroup::GroupName")
EC2SecurityGroupId = CFNType("AWS::EC2::SecurityGroup::Id")
EC2SubnetId = CFNType("AWS::EC2::Subnet::Id")
EC2VolumeId = CFNType("AWS::EC2::Volume::Id")
EC2VPCId = CFNType("AWS::EC2::VPC::Id")
Route53HostedZoneId = CFNType("AWS::Route53::HostedZone::Id")
EC2AvailabilityZoneNameList = CFNType("List<AWS::EC2::AvailabilityZone::Name>")
EC2ImageIdList = CFNType("List<AWS::EC2::Image::Id>")
EC2InstanceIdList = CFNType("List<AWS::EC2::Instance::Id>")
EC2SecurityGroupGroupNameList = CFNType("List<AWS::EC2::SecurityGroup::GroupName>")
EC2SecurityGroupIdList = CFNType("List<AWS::EC2::SecurityGroup::Id>")
EC2SubnetIdList = CFNType("List<AWS::EC2::Subnet::Id>")
EC2VolumeIdList = CFNType("List<AWS::EC2::Volume::Id>")
EC2VPCIdList = CFNType("List<AWS::EC2::VPC::Id>")
Route53HostedZoneIdList = CFNType("List<AWS::Route53::HostedZone::Id>")

# Systems Manager parameter types: the value submitted is a parameter *name*,
# CloudFormation reads its value from Parameter Store.
_SSM = "AWS::SSM::Parameter::Value<{}>"
SSMParameterName = CFNType("AWS::SSM::Parameter::Name")
SSMParameterValueString = CFNType(_SSM.format("String"))
SSMParameterValueStringList = CFNType(_SSM.format("List<String>"))
SSMParameterValueCommaDelimitedList = CFNType(_SSM.format("CommaDelimitedList"))
SSMParameterValueEC2AvailabilityZoneName = CFNType(
    _SSM.format(EC2AvailabilityZoneName.parameter_type)
)
SSMParameterValueEC2ImageId = CFNType(_SSM.format(EC2ImageId.parameter_type))
SSMParameterValueEC2InstanceId = CFNType(_SSM.format(EC2InstanceId.parameter_type))
SSMParameterValueEC2KeyPairKeyName = CFNType(_SSM.format(EC2KeyPairKeyName.parameter_type))
SSMParameterValueEC2SecurityGroupGroupName = CFNType(
    _SSM.format(EC2SecurityGroupGroupName.parameter_type)
)
SSMParameterValueEC2SecurityGroupId = CFNType(_SSM.format(EC2SecurityGroupId.parameter_type))
SSMParameterValueEC2SubnetId = CFNType(_SSM.format(EC2SubnetId.parameter_type))
SSMParameterValueEC2VolumeId = CFNType(_SSM.format(EC2VolumeId.parameter_type))
SSMParameterValueEC2VPCId = CFNType(_SSM.format(EC2VPCId.parameter_type))
SSMParameterValueRoute53HostedZoneId = CFNType(_SSM.format(Route53HostedZoneId.parameter_type))
SSMParameterValueEC2AvailabilityZoneNameList = CFNType(
    _SSM.format(EC2AvailabilityZoneNameList.parameter_type)
)
SSMParameterValueEC2ImageIdList = CFNType(_SSM.format(EC2ImageIdList.parameter_type))
SSMParameterValueEC2InstanceIdList = CFNType(_SSM.format(EC2InstanceIdList.parameter_type))
SSMParameterValueEC2SecurityGroupGroupNameList = CFNType(
    _SSM.format(EC2SecurityGroupGroupNameList.parameter_type)
)
SSMParameterValueEC2SecurityGroupIdList = CFNType(
    _SSM.format(EC2SecurityGroupIdList.parameter_type)
)
SSMParameterValueEC2SubnetIdList = CFNType(_SSM.format(EC2SubnetIdList.parameter_type))
SSMParameterValueEC2VolumeIdList = CFNType(_SSM.format(EC2VolumeIdList.parameter_type))
SSMParameterValueEC2VPCIdList = CFNType(_SSM.format(EC2VPCIdList.parameter_type))
SSMParameterValueRoute53HostedZoneIdList = CFNType(
    _SSM.format(Route53HostedZoneIdList.parameter_type)
)


def _wrap_unknowns(value: Any) -> Any:
    """Replace every ``Unknown`` leaf inside ``value`` with an :class:`UnknownValue`."""
    if isinstance(value, Unknown):
        from stackyard.blueprints.troposphere_parts import UnknownValue

        return UnknownValue(value)
    if isinstance(value, Mapping):
        return {k: _wrap_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap_unknowns(v) for v in value]
    return value


class TroposphereType:
    """A variable type that builds troposphere objects from the configured value.

    For a resource type (one with ``resource_type``, e.g. ``s3.Bucket``) the
    value is a dict of *title* to properties: ``{"LogsBucket": {"BucketName": ...}}``
    becomes ``s3.Bucket("LogsBucket", BucketName=...)``. For a property type
    (e.g. ``ec2.Tag``) the value is the properties dict itself, or a list of them
    when ``many`` is set.

    Args:
        defined_type: a troposphere class (anything with ``from_dict``).
        many: accept several objects and hand the blueprint a list.
        optional: a missing, ``None`` or empty value becomes ``None``.
        validate: check required properties as soon as the objects are built;
            turn off when the blueprint adds required properties itself.
    """

    def __init__(
        self,
        defined_type: type[Any],
        many: bool = False,
        optional: bool = False,
        validate: bool = True,
    ) -> None:
        if not hasattr(defined_type, "from_dict"):
            raise ValueError(
                f"TroposphereType needs a troposphere class with `from_dict`, got {defined_type!r}"
            )
        self._type = defined_type
        self._many = many
        self._optional = optional
        self._validate = validate

    def __repr__(self) -> str:
        return (
            f"TroposphereType({self.resource_name}, many={self._many}, "
            f"optional={self._optional}, validate={self._validate})"
        )

    @property
    def resource_name(self) -> str:
        """The CloudFormation type (``AWS::S3::Bucket``), or the class name for properties."""
        name = getattr(self._type, "resource_type", None) or self._type.__name__
        return str(name)

    @property
    def many(self) -> bool:
        """Whether several objects are accepted (and a list returned)."""
        return self._many

    @property
    def optional(self) -> bool:
        """Whether an empty value is accepted (and ``None`` returned)."""
        return self._optional

    def expected(self) -> str:
        """A human description of the value this type accepts, for error hints."""
        if hasattr(self._type, "resource_type"):
            shape = "a mapping of resource title to properties"
            count = "" if self._many else " (exactly one entry)"
            return f"{shape}{count} for {self.resource_name}"
        if self._many:
            return f"a list of property mappings for {self.resource_name}"
        return f"a mapping of properties for {self.resource_name}"

    def create(self, value: Any) -> Any:
        """Build the troposphere object(s) from ``value``.

        Returns one object, a list of objects (``many``) or ``None`` (``optional``
        and empty). Raises ``ValueError`` or ``TypeError`` when ``value`` has the
        wrong shape or troposphere rejects a property.
        """
        if self._optional and (value is None or (_sized(value) and len(value) == 0)):
            return None
        value = _wrap_unknowns(value)
        if hasattr(self._type, "resource_type"):
            if not isinstance(value, Mapping):
                raise ValueError(
                    f"resources must be given as a mapping of title to properties, "
                    f"got {type(value).__name__}"
                )
            if not value:
                raise ValueError("no resource given")
            if not self._many and len(value) > 1:
                raise ValueError(
                    f"only one resource may be given for this variable, got {len(value)}: "
                    f"{', '.join(map(str, value))}"
                )
            result = [self._from_dict(title, props) for title, props in value.items()]
        elif self._many:
            if not isinstance(value, list):
                raise ValueError(f"expected a list of mappings, got {type(value).__name__}")
            result = [self._from_dict(None, props) for props in value]
        else:
            if not isinstance(value, Mapping):
                raise ValueError(f"expected a mapping of properties, got {type(value).__name__}")
            result = [self._from_dict(None, value)]
        if self._validate:
            for obj in result:
                obj._validate_props()
        return result if self._many else result[0]

    def _from_dict(self, title: str | None, props: Any) -> Any:
        if not isinstance(props, Mapping):
            where = f" of {title!r}" if title else ""
            raise ValueError(f"the properties{where} must be a mapping, got {type(props).__name__}")
        return self._type._from_dict(title, **props)


def _sized(value: Any) -> bool:
    return hasattr(value, "__len__")
