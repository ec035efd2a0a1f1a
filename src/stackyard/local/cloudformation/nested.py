"""Nested stacks: an ``AWS::CloudFormation::Stack`` resource is a child stack of its own.

The child is a real stack of the emulator (``ParentId`` and ``RootId`` set, named
``PARENT-LOGICALID-XXXXXXXXXXXX`` as on AWS) created, updated and deleted by its own runner
while the parent's resource waits for it; ``Fn::GetAtt Child.Outputs.X`` reads the child's
outputs. A child that fails fails the parent's resource with AWS's "Embedded stack ... was not
successfully created" text, and the parent's rollback deletes (or rolls back) the child.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from stackyard.local.cloudformation.errors import ApiError, ResourceFailure, ValidationError
from stackyard.local.cloudformation.lifecycle import StackRunner
from stackyard.local.cloudformation.models import Resource, Snapshot, Stack
from stackyard.local.cloudformation.parameters import resolve_parameters
from stackyard.local.cloudformation.provisioner import NestedHandler
from stackyard.local.cloudformation.template import load_template, validate_template
from stackyard.local.latency import LatencySpec

__all__ = ["NESTED_TYPE", "NestedStacks"]

NESTED_TYPE = "AWS::CloudFormation::Stack"

_SUCCESS = {
    "create": frozenset({"CREATE_COMPLETE"}),
    "update": frozenset({"UPDATE_COMPLETE"}),
    "delete": frozenset({"DELETE_COMPLETE"}),
}
_WORDS = {"create": "created", "update": "updated", "delete": "deleted"}


class _Emulator(Protocol):
    lock: threading.RLock
    latency: LatencySpec
    stopping: threading.Event
    stacks: dict[str, Stack]
    nested_stacks: NestedHandler | None

    def export_value(self, account_id: str, region: str, name: str) -> str | None: ...

    def importers(self, account_id: str, region: str, name: str) -> list[str]: ...

    def exporter(self, account_id: str, region: str, name: str) -> tuple[str, str] | None: ...

    def ssm_value(self, account_id: str, region: str, name: str) -> str: ...


class NestedStacks:
    """Creates, updates, deletes and reads the child stacks of ``AWS::CloudFormation::Stack``
    resources (the locked calls start the work; ``wait`` waits for it unlocked)."""

    def __init__(
        self,
        emulator: _Emulator,
        read_template: Callable[[str, str, str], str],
        start: Callable[[Callable[[], None], str], None],
    ) -> None:
        self.emulator = emulator
        self.read_template = read_template
        self.start = start
        self.pending: dict[str, str] = {}  # child stack id -> operation under way

    # locked: start the work ------------------------------------------------------------

    def _child_template(
        self, parent: Stack, properties: Mapping[str, Any], previous: Mapping[str, str] | None
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        url = properties.get("TemplateURL")
        if not isinstance(url, str):
            raise ResourceFailure("Properties validation failed: TemplateURL is required")
        try:
            body = self.read_template(parent.account_id, parent.region, url)
            template = load_template(body)
            validate_template(template, parent.region)
            given = properties.get("Parameters") or {}
            params = resolve_parameters(
                template.get("Parameters") or {},
                [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in given.items()],
                dict(previous) if previous is not None else None,
            )
        except ApiError as exc:
            raise ResourceFailure(exc.message) from exc
        return body, template, params

    def create(self, parent_id: str, resource: Resource, properties: Mapping[str, Any]) -> None:
        """Create the child stack of ``resource`` and start its creation."""
        parent = self.emulator.stacks[parent_id]
        body, template, params = self._child_template(parent, properties, None)
        suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
        name = f"{parent.name}-{resource.logical_id}-{suffix}"[:128]
        stack_id = parent.stack_id.rsplit(":", 1)[0] + f":stack/{name}/{_uuid()}"
        child = Stack(
            stack_id=stack_id,
            name=name,
            region=parent.region,
            account_id=parent.account_id,
            template=template,
            template_body=body,
            parameters=params,
            status="CREATE_IN_PROGRESS",
            tags=list(parent.tags),
            notification_arns=list(properties.get("NotificationARNs") or []),
            role_arn=parent.role_arn,
            capabilities=list(parent.capabilities),
            disable_rollback=True,  # the parent's rollback deletes a failed child
            timeout=properties.get("TimeoutInMinutes"),
            parent_id=parent.stack_id,
            root_id=parent.root_id or parent.stack_id,
            client_request_token=parent.client_request_token,
        )
        self.emulator.stacks[stack_id] = child
        resource.physical_id = stack_id
        self.pending[stack_id] = "create"
        self.start(StackRunner(self.emulator, child).create, name)

    def update(self, resource: Resource, properties: Mapping[str, Any]) -> None:
        """Update the child to the resource's new template and parameters, if they differ."""
        child = self._child(resource)
        if child is None:
            raise ResourceFailure(f"Stack {resource.physical_id} does not exist")
        parent = self.emulator.stacks[child.parent_id or ""]
        body, template, params = self._child_template(parent, properties, child.parameters)
        if template == child.template and params == child.parameters:
            return
        change = Snapshot(
            template, body, params, {}, [], list(parent.tags), list(child.notification_arns),
            child.role_arn, list(parent.capabilities),
        )  # fmt: skip
        child.status = "UPDATE_IN_PROGRESS"
        child.client_request_token = parent.client_request_token
        self.pending[child.stack_id] = "update"
        runner = StackRunner(self.emulator, child)
        self.start(lambda: runner.update(change, None), child.name)

    def delete(self, resource: Resource) -> None:
        """Start deleting the child stack (a child already gone counts as deleted)."""
        child = self._child(resource)
        if child is None or child.deleted:
            return
        child.status = "DELETE_IN_PROGRESS"
        parent = self.emulator.stacks.get(child.parent_id or "")
        child.client_request_token = parent.client_request_token if parent else None
        self.pending[child.stack_id] = "delete"
        self.start(StackRunner(self.emulator, child).delete, child.name)

    def get_att(self, resource: Resource, attribute: str) -> Any:
        """``Outputs.NAME`` (the child's output) or ``StackId``."""
        child = self._child(resource)
        if attribute == "StackId" and resource.physical_id:
            return resource.physical_id
        if child is not None and attribute.startswith("Outputs."):
            key = attribute.split(".", 1)[1]
            for output in child.outputs:
                if output["OutputKey"] == key:
                    return output["OutputValue"]
        raise ValidationError(
            f"Template error: resource {resource.logical_id} does not support attribute type "
            f"{attribute} in Fn::GetAtt"
        )

    # unlocked: wait for the work ----------------------------------------------------------

    def wait(self, resource: Resource) -> None:
        """Wait until the child's operation (if one was started) ends; raise if it failed."""
        child = self._child(resource)
        if child is None:
            return
        operation = self.pending.get(child.stack_id)
        if operation is None:
            return
        while child.in_progress and not self.emulator.stopping.is_set():
            self.emulator.stopping.wait(0.01)
        with self.emulator.lock:
            self.pending.pop(child.stack_id, None)
            if child.status in _SUCCESS[operation]:
                return
            reason = _last_reason(child)
        raise ResourceFailure(
            f"Embedded stack {child.stack_id} was not successfully {_WORDS[operation]}: {reason}"
        )

    def _child(self, resource: Resource) -> Stack | None:
        return self.emulator.stacks.get(resource.physical_id or "")


def _last_reason(child: Stack) -> str:
    for event in reversed(child.events):
        if event.logical_id == child.name and event.reason:
            return event.reason
    return f"currently in {child.status}"


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())
