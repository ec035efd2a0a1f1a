"""Provisioning one resource: through moto's CloudFormation models, or as a record.

moto's models offer ``create_from_cloudformation_json`` and friends per type; this module calls
them with resolved properties (after the adapters in :mod:`gaps`), and keeps a record with a
physical id and plausible attributes for real types moto cannot provision. Callers hold the
global lock around every call here.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from stackyard import schemas
from stackyard.local.cloudformation import alarms, gaps, waf
from stackyard.local.cloudformation.errors import ResourceFailure, ValidationError
from stackyard.local.cloudformation.models import Resource
from stackyard.local.cloudformation.schema_check import unsupported_properties
from stackyard.local.cloudformation.stack_tags import with_stack_tags

__all__ = ["NestedHandler", "Provisioner", "error_text", "is_provisionable"]

NESTED_TYPE = "AWS::CloudFormation::Stack"


class NestedHandler(Protocol):
    """What provisions ``AWS::CloudFormation::Stack`` resources (see :mod:`nested`)."""

    def create(self, parent_id: str, resource: Resource, properties: Mapping[str, Any]) -> None: ...

    def update(self, resource: Resource, properties: Mapping[str, Any]) -> None: ...

    def delete(self, resource: Resource) -> None: ...

    def get_att(self, resource: Resource, attribute: str) -> Any: ...

    def wait(self, resource: Resource) -> None: ...


_ALWAYS_RECORDED = frozenset(
    {
        "AWS::CloudFormation::WaitCondition",
        "AWS::CloudFormation::WaitConditionHandle",
        "AWS::CloudFormation::Stack",
        "AWS::CloudFormation::CustomResource",
    }
)


# Types moto has no CloudFormation model for, provisioned through its service backends by a
# module of their own (``create``, ``update``, ``delete``; physical id and attributes kept).
_BACKED: dict[str, Any] = {
    **{kind: waf for kind in waf.WAF_TYPES},
    **{kind: alarms for kind in alarms.ALARM_TYPES},
}


def _model_class(resource_type: str) -> Any:
    if resource_type in _ALWAYS_RECORDED or resource_type.startswith("Custom::"):
        return None
    from moto.cloudformation.parsing import get_model_map

    return get_model_map().get(resource_type)


def is_provisionable(resource_type: str) -> bool:
    """Whether ``resource_type`` is really provisioned (by moto, or as a child stack) rather
    than kept as a record."""
    if resource_type == NESTED_TYPE or resource_type in _BACKED:
        return True
    return _model_class(resource_type) is not None


def error_text(exc: BaseException) -> str:
    """A one-line reason from a moto (or other) exception."""
    for attribute in ("message", "description"):
        value = getattr(exc, attribute, None)
        if isinstance(value, str) and value and not value.lstrip().startswith("<"):
            return value
    text = str(exc)
    if text.lstrip().startswith("<"):
        import re

        found = re.search(r"<Message>(.*?)</Message>", text, re.S)
        if found:
            return found.group(1)
    return text or type(exc).__name__


def _suffix(size: int = 12) -> str:
    return "".join(random.choices(string.ascii_uppercase + string.digits, k=size))


def _is_abstract(method: Any) -> bool:
    return bool(getattr(method, "__isabstractmethod__", False))


class Provisioner:
    """Creates, updates and deletes the resources of one stack in moto's backends."""

    def __init__(
        self,
        account_id: str,
        region: str,
        stack_name: str,
        stack_id: str,
        nested: NestedHandler | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.stack_name = stack_name
        self.stack_id = stack_id
        self.nested = nested
        self.stack_tags: list[dict[str, str]] = []

    def is_nested(self, resource: Resource) -> bool:
        """Whether ``resource`` is a child stack this provisioner hands to its nested handler."""
        return resource.type == NESTED_TYPE and self.nested is not None

    # names ------------------------------------------------------------------------------

    def _name_property(self, resource_type: str) -> str | None:
        from moto.cloudformation.parsing import resource_name_property_from_type

        return gaps.NAME_PROPERTIES.get(resource_type) or resource_name_property_from_type(
            resource_type
        )

    def _generated_name(self, resource_type: str, logical_id: str) -> str:
        from moto.cloudformation.parsing import generate_resource_name

        return str(generate_resource_name(resource_type, self.stack_name, logical_id))

    def physical_name(self, resource_type: str, logical_id: str, properties: dict[str, Any]) -> str:
        """The name a new resource gets: its name property if set, else a generated one."""
        prop = self._name_property(resource_type)
        if prop and isinstance(properties.get(prop), str):
            return str(properties[prop])
        return gaps.generated_name(resource_type, self.stack_name, logical_id) or (
            self._generated_name(resource_type, logical_id)
        )

    def custom_name(self, resource_type: str, properties: dict[str, Any]) -> str | None:
        """The name the template gives the resource, if it names it."""
        prop = self._name_property(resource_type)
        value = properties.get(prop) if prop else None
        return value if isinstance(value, str) else None

    # operations -------------------------------------------------------------------------

    def create(self, resource: Resource, properties: dict[str, Any]) -> None:
        """Create ``resource`` with resolved ``properties``; raises ResourceFailure."""
        self._check_properties(resource.type, properties)
        if self.nested is not None and resource.type == NESTED_TYPE:
            self.nested.create(self.stack_id, resource, properties)
            resource.properties = properties
            return
        name = self.physical_name(resource.type, resource.logical_id, properties)
        resource.physical_name = name
        resource.properties = properties
        cls = _model_class(resource.type)
        if cls is None:
            self._record(resource, name, properties)
            return
        tagged = with_stack_tags(resource.type, properties, self._tags_for(resource))
        adapted = gaps.before_create(resource.type, tagged, name, self)
        try:
            model = gaps.create(resource.type, name, adapted, self)
            model = model or cls.create_from_cloudformation_json(
                name,
                {"Type": resource.type, "Properties": adapted},
                self.account_id,
                self.region,
                LogicalId=resource.logical_id,
                StackId=self.stack_id,
                ResourceType=resource.type,
            )
            gaps.after_create(resource.type, model, adapted, self)
        except ResourceFailure:
            raise
        except Exception as exc:  # moto raises many types; each is a resource failure
            raise ResourceFailure(error_text(exc)) from exc
        if model is None:
            self._record(resource, name, properties)
            return
        resource.model = model
        resource.provisioned = True
        physical = getattr(model, "physical_resource_id", None)
        resource.physical_id = str(physical) if physical else name
        self._capture_attributes(resource)

    def _tags_for(self, resource: Resource) -> list[dict[str, str]]:
        """The stack's tags and CloudFormation's own, which AWS puts on every taggable
        resource of the stack."""
        return [
            *self.stack_tags,
            {"Key": "aws:cloudformation:stack-name", "Value": self.stack_name},
            {"Key": "aws:cloudformation:stack-id", "Value": self.stack_id},
            {"Key": "aws:cloudformation:logical-id", "Value": resource.logical_id},
        ]

    def _check_properties(self, resource_type: str, properties: dict[str, Any]) -> None:
        unsupported = unsupported_properties(resource_type, properties, self.region)
        if unsupported:
            raise ResourceFailure(f"Encountered unsupported property {unsupported[0]}")

    def _capture_attributes(self, resource: Resource) -> None:
        """Keep the schema's read-only attributes, for use after a state restore."""
        for name in schemas.read_only_properties(resource.type):
            if "/" in name:
                continue
            try:
                resource.attributes[name] = self.get_att(resource, name)
            except Exception:
                continue

    def update(self, resource: Resource, properties: dict[str, Any]) -> None:
        """Update ``resource`` in place (same physical resource) to ``properties``."""
        self._check_properties(resource.type, properties)
        if self.nested is not None and resource.type == NESTED_TYPE:
            self.nested.update(resource, properties)
            resource.properties = properties
            return
        cls = _model_class(resource.type)
        backed = _BACKED.get(resource.type)
        if backed is not None and resource.physical_id:
            try:
                backed.update(
                    resource.type, resource.physical_id, properties, self.region, self.account_id
                )
            except Exception as exc:
                raise ResourceFailure(error_text(exc)) from exc
        if cls is None or not resource.provisioned:
            resource.properties = properties
            return
        name = self.custom_name(resource.type, properties) or resource.physical_name or ""
        tagged = with_stack_tags(resource.type, properties, self._tags_for(resource))
        adapted = gaps.before_create(resource.type, tagged, name, self)
        document = {"Type": resource.type, "Properties": adapted}
        try:
            if resource.model is not None and gaps.update(
                resource.type, resource.model, resource.properties, adapted, self
            ):
                model = resource.model
            else:
                model = self._replace_model(resource, cls, name, document)
                gaps.after_create(resource.type, model, adapted, self)
        except ResourceFailure:
            raise
        except Exception as exc:
            raise ResourceFailure(error_text(exc)) from exc
        if model is not None:
            resource.model = model
            physical = getattr(model, "physical_resource_id", None)
            resource.physical_id = str(physical) if physical else resource.physical_id
            self._capture_attributes(resource)
        resource.properties = properties

    def _replace_model(
        self, resource: Resource, cls: Any, name: str, document: dict[str, Any]
    ) -> Any:
        """Update through moto's model, or delete and recreate where moto has no update."""
        if resource.model is not None and not _is_abstract(cls.update_from_cloudformation_json):
            return cls.update_from_cloudformation_json(
                original_resource=resource.model,
                new_resource_name=name,
                cloudformation_json=document,
                account_id=self.account_id,
                region_name=self.region,
            )
        self._delete_model(resource)
        created = gaps.create(resource.type, name, document["Properties"], self)
        return created or cls.create_from_cloudformation_json(
            name,
            document,
            self.account_id,
            self.region,
            LogicalId=resource.logical_id,
            StackId=self.stack_id,
            ResourceType=resource.type,
        )

    def delete(self, resource: Resource) -> None:
        """Delete ``resource``; a resource already gone counts as deleted."""
        if self.nested is not None and resource.type == NESTED_TYPE:
            self.nested.delete(resource)
            return
        backed = _BACKED.get(resource.type)
        if backed is not None and resource.physical_id:
            try:
                backed.delete(resource.type, resource.physical_id, self.region, self.account_id)
            except Exception as exc:
                raise ResourceFailure(error_text(exc)) from exc
            return
        if not resource.provisioned:
            return
        try:
            self._delete_model(resource)
        except Exception as exc:
            kind = type(exc).__name__
            if any(word in kind for word in ("NotFound", "NoSuch", "DoesNotExist", "Missing")):
                return
            raise ResourceFailure(error_text(exc)) from exc

    def _delete_model(self, resource: Resource) -> None:
        model = resource.model
        if model is not None and gaps.delete(resource.type, model, self):
            return
        delete = getattr(model, "delete", None) if model is not None else None
        if callable(delete):
            try:
                delete(self.account_id, self.region)
                return
            except (TypeError, AttributeError):
                pass
        cls = _model_class(resource.type)
        if cls is not None and not _is_abstract(cls.delete_from_cloudformation_json):
            cls.delete_from_cloudformation_json(
                resource.physical_id,
                {"Type": resource.type, "Properties": resource.properties},
                self.account_id,
                self.region,
            )

    # reading ----------------------------------------------------------------------------

    def get_att(self, resource: Resource, attribute: str) -> Any:
        """The value of ``Fn::GetAtt [resource, attribute]``."""
        if self.nested is not None and resource.type == NESTED_TYPE:
            return self.nested.get_att(resource, attribute)
        if resource.model is None:
            if attribute in resource.attributes:
                return resource.attributes[attribute]
            return resource.physical_id
        try:
            special = gaps.get_att(resource.type, resource.model, attribute)
            if special is not None:
                return special
            return resource.model.get_cfn_attribute(attribute)
        except Exception as exc:
            raise ValidationError(
                f"Template error: resource {resource.logical_id} does not support attribute type "
                f"{attribute} in Fn::GetAtt"
            ) from exc

    # records ----------------------------------------------------------------------------

    def _record(self, resource: Resource, name: str, properties: dict[str, Any]) -> None:
        backed = _BACKED.get(resource.type)
        if backed is not None:
            try:
                found = backed.create(resource.type, name, properties, self.region, self.account_id)
            except Exception as exc:
                raise ResourceFailure(error_text(exc)) from exc
            resource.physical_id, resource.attributes = found
            resource.model = None
            return
        physical, attributes = gaps.record(
            resource.type, name, properties, self.region, self.account_id
        )
        if physical is None:
            physical, attributes = self._generic_record(resource.type, name)
        resource.physical_id = physical
        resource.attributes = attributes
        resource.model = None

    def _generic_record(self, resource_type: str, name: str) -> tuple[str, dict[str, Any]]:
        parts = resource_type.split("::")
        service = parts[1].lower() if len(parts) > 2 else "custom"
        kind = parts[-1].lower()
        arn = f"arn:aws:{service}:{self.region}:{self.account_id}:{kind}/{name}"
        identifier = str(uuid.uuid4())
        found = schemas.schema(resource_type) or {}
        primary = [p.rsplit("/", 1)[-1] for p in found.get("primaryIdentifier", [])]
        physical = arn if primary == ["Arn"] else name
        return physical, {"Arn": arn, "Id": identifier, "Name": name}
