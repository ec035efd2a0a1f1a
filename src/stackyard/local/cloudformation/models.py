"""The emulator's records: stacks, their resources and events, change sets.

Plain data, picklable. A resource keeps the moto model object it provisioned (if any), so the
emulator's state should be pickled together with moto's backends to keep them shared.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChangeSet", "Resource", "Snapshot", "Stack", "StackEvent", "now"]


def now() -> dt.datetime:
    """The current UTC time."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Resource:
    """One resource of a stack, as DescribeStackResources shows it."""

    logical_id: str
    type: str
    status: str = "CREATE_IN_PROGRESS"
    physical_id: str | None = None
    physical_name: str | None = None  # the name it was created with, kept across updates
    reason: str | None = None
    updated: dt.datetime = field(default_factory=now)
    properties: dict[str, Any] = field(default_factory=dict)
    model: Any = None  # the moto CloudFormationModel, or None for a recorded resource
    attributes: dict[str, Any] = field(default_factory=dict)  # for recorded resources
    metadata: Any = None
    deletion_policy: str | None = None
    provisioned: bool = False  # made through moto (so deleting it must reach moto)

    def __getstate__(self) -> dict[str, Any]:
        # moto's model objects hold locks and cannot be pickled; after a restore the
        # resource is reached through its physical id and the attributes captured at creation.
        state = dict(self.__dict__)
        state["model"] = None
        return state


@dataclass
class StackEvent:
    """One entry of DescribeStackEvents."""

    stack_id: str
    stack_name: str
    logical_id: str
    physical_id: str
    type: str
    status: str
    reason: str | None = None
    properties: str | None = None
    timestamp: dt.datetime = field(default_factory=now)
    client_request_token: str | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Snapshot:
    """What a stack looked like before an update, to roll back to."""

    template: dict[str, Any]
    template_body: str
    parameters: dict[str, str]
    resources: dict[str, Resource]
    outputs: list[dict[str, Any]]
    tags: list[dict[str, str]]
    notification_arns: list[str]
    role_arn: str | None
    capabilities: list[str]


@dataclass
class Stack:
    """One stack, live or deleted."""

    stack_id: str
    name: str
    region: str
    account_id: str
    template: dict[str, Any]
    template_body: str
    parameters: dict[str, str]
    status: str
    creation_time: dt.datetime = field(default_factory=now)
    last_updated: dt.datetime | None = None
    deletion_time: dt.datetime | None = None
    reason: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    role_arn: str | None = None
    capabilities: list[str] = field(default_factory=list)
    disable_rollback: bool = False
    on_failure: str = "ROLLBACK"
    timeout: int | None = None
    termination_protection: bool = False
    policy_body: str | None = None
    resources: dict[str, Resource] = field(default_factory=dict)
    events: list[StackEvent] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    change_set_id: str | None = None
    previous: Snapshot | None = None
    cancel_requested: bool = False
    client_request_token: str | None = None  # of the operation now writing events
    parent_id: str | None = None  # a nested stack's parent and root stack ids
    root_id: str | None = None
    drift_status: str = "NOT_CHECKED"
    drift_checked: dt.datetime | None = None
    resource_drifts: list[dict[str, Any]] | None = None  # of the last drift detection

    def snapshot(self) -> Snapshot:
        """What the stack is now: the state an update rolls back to."""
        return Snapshot(
            template=self.template,
            template_body=self.template_body,
            parameters=self.parameters,
            resources=dict(self.resources),
            outputs=self.outputs,
            tags=self.tags,
            notification_arns=self.notification_arns,
            role_arn=self.role_arn,
            capabilities=self.capabilities,
        )

    def take_settings(self, source: Snapshot) -> None:
        """Take the template, parameters and stack settings of ``source`` (a change to make,
        or the state a rollback returns to); resources and outputs are the caller's."""
        self.template = source.template
        self.template_body = source.template_body
        self.parameters = source.parameters
        self.tags = source.tags
        self.notification_arns = source.notification_arns
        self.role_arn = source.role_arn
        self.capabilities = source.capabilities

    @property
    def description(self) -> str | None:
        """The template's Description."""
        value = self.template.get("Description")
        return value if isinstance(value, str) else None

    @property
    def deleted(self) -> bool:
        """Whether the stack is gone (DELETE_COMPLETE)."""
        return self.status == "DELETE_COMPLETE"

    @property
    def in_progress(self) -> bool:
        """Whether an operation is running on the stack."""
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"


@dataclass
class ChangeSet:
    """One change set."""

    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    change_set_type: str
    template: dict[str, Any]
    template_body: str
    parameters: dict[str, str]
    tags: list[dict[str, str]]
    notification_arns: list[str]
    role_arn: str | None
    capabilities: list[str]
    changes: list[dict[str, Any]]
    status: str = "CREATE_COMPLETE"
    execution_status: str = "AVAILABLE"
    reason: str | None = None
    description: str | None = None
    creation_time: dt.datetime = field(default_factory=now)
    ready_at: float = 0.0  # epoch seconds when the computation is done (status shows it then)

    def visible(self, at: float) -> tuple[str, str]:
        """(Status, ExecutionStatus) as seen at time ``at``: pending, computing, then final."""
        if at >= self.ready_at:
            return self.status, self.execution_status
        started = self.ready_at - at < (self.ready_at - self.creation_time.timestamp()) / 2
        return ("CREATE_IN_PROGRESS" if started else "CREATE_PENDING"), "UNAVAILABLE"
