"""The one gateway to CloudFormation: every CloudFormation call stackyard makes is made here.

It owns the rate limiter for read calls (one bucket shared by all threads and
regions), counts calls by action for ``--stats``, turns botocore's answers into
plain data (``DeployedStack``, ``StackEvent``, ``ChangeSetInfo``) and maps
botocore errors to ``AWSCallError`` once. Retries are botocore's (see
``stackyard.aws.session``); this module adds none.

A shared listing (``list_stacks``: one paginated DescribeStacks with no stack
name) is kept per location; the planner and the ``output`` lookups read it
instead of asking about each stack.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackyard.aws.errors import AWSCallError, error_code, map_client_error
from stackyard.aws.limiter import CallStats, RateLimiter
from stackyard.aws.session import ClientFactory, Location
from stackyard.aws.template_cache import TemplateCache

if TYPE_CHECKING:
    from stackyard.aws.change_set_journal import ChangeSetJournal

__all__ = [
    "ChangeSetInfo",
    "CloudFormationGateway",
    "DeployedStack",
    "StackEvent",
    "StackSubmission",
]

# Actions that only read; they take a token from the rate limiter.
READ_ACTIONS = frozenset(
    {
        "DescribeStacks",
        "DescribeStackEvents",
        "GetTemplate",
        "GetStackPolicy",
        "DescribeChangeSet",
        "ListStackResources",
        "DescribeStackResources",
        # Drift detection changes no stack: it is paced like the reads.
        "DetectStackDrift",
        "DescribeStackDriftDetectionStatus",
        "DescribeStackResourceDrifts",
    }
)


@dataclass(frozen=True)
class StackEvent:
    """One line of a stack's event log."""

    event_id: str
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime | None
    token: str = ""  # the ClientRequestToken of the operation that caused it

    @property
    def is_stack(self) -> bool:
        """True for events about the stack itself rather than one of its resources."""
        return self.resource_type == "AWS::CloudFormation::Stack" and (
            self.logical_id == self.stack_name
        )

    @property
    def is_failure(self) -> bool:
        """A resource that failed (not one cancelled because another failed)."""
        return self.status.endswith("_FAILED") and "cancelled" not in self.reason.lower()


@dataclass(frozen=True)
class DeployedStack:
    """A stack as CloudFormation describes it; the planner adds its ``template`` and
    ``stack_policy`` (as data) when it has read them (:meth:`with_template`)."""

    name: str
    stack_id: str
    status: str
    status_reason: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    notification_arns: tuple[str, ...] = ()
    role_arn: str | None = None
    termination_protection: bool = False
    capabilities: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    description: str | None = None
    template: Mapping[str, Any] = field(default_factory=dict)
    stack_policy: Mapping[str, Any] | None = None
    drift_status: str = "NOT_CHECKED"  # the last drift detection's verdict
    drift_checked: datetime | None = None

    @property
    def fqn(self) -> str:
        """The stack's name on AWS."""
        return self.name

    @property
    def last_change(self) -> datetime | None:
        """When the stack was last created or updated."""
        return self.updated or self.created

    @property
    def last_updated(self) -> datetime | None:
        """Same as ``last_change``."""
        return self.last_change

    def with_template(
        self, template: Mapping[str, Any], stack_policy: Mapping[str, Any] | None = None
    ) -> DeployedStack:
        """This stack with its template and stack policy, as plain data."""
        from dataclasses import replace

        return replace(self, template=template, stack_policy=stack_policy)


@dataclass(frozen=True)
class ChangeSetInfo:
    """What DescribeChangeSet says about a change set."""

    change_set_id: str
    status: str
    execution_status: str
    reason: str
    changes: int


@dataclass(frozen=True)
class StackSubmission:
    """Everything CreateStack or CreateChangeSet is given for one stack."""

    fqn: str
    location: Location
    template_body: str | None
    template_url: str | None
    parameters: tuple[tuple[str, str | None], ...]  # (key, value); None means UsePreviousValue
    tags: Mapping[str, str]
    capabilities: tuple[str, ...] = ()
    notification_arns: tuple[str, ...] = ()
    role_arn: str | None = None
    termination_protection: bool = False
    stack_policy: str | None = None

    def template_args(self) -> dict[str, Any]:
        """``TemplateBody`` or ``TemplateURL``."""
        if self.template_url:
            return {"TemplateURL": self.template_url}
        return {"TemplateBody": self.template_body or ""}

    def common_args(self) -> dict[str, Any]:
        """Arguments CreateStack and CreateChangeSet share."""
        args: dict[str, Any] = {
            "StackName": self.fqn,
            **self.template_args(),
            "Parameters": [
                {"ParameterKey": k, "UsePreviousValue": True}
                if v is None
                else {"ParameterKey": k, "ParameterValue": v}
                for k, v in self.parameters
            ],
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())],
            "Capabilities": list(self.capabilities),
            "NotificationARNs": list(self.notification_arns),
        }
        if self.role_arn:
            args["RoleARN"] = self.role_arn
        return args


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _deployed(raw: Mapping[str, Any]) -> DeployedStack:
    return DeployedStack(
        name=raw["StackName"],
        stack_id=raw.get("StackId", raw["StackName"]),
        status=raw.get("StackStatus", ""),
        status_reason=_text(raw.get("StackStatusReason")),
        parameters={
            p["ParameterKey"]: _text(p.get("ParameterValue")) for p in raw.get("Parameters", [])
        },
        tags={t["Key"]: _text(t.get("Value")) for t in raw.get("Tags", [])},
        outputs={o["OutputKey"]: _text(o.get("OutputValue")) for o in raw.get("Outputs", [])},
        notification_arns=tuple(raw.get("NotificationARNs", [])),
        role_arn=raw.get("RoleARN") or None,
        termination_protection=bool(raw.get("EnableTerminationProtection", False)),
        capabilities=tuple(raw.get("Capabilities", [])),
        created=raw.get("CreationTime"),
        updated=raw.get("LastUpdatedTime"),
        description=raw.get("Description"),
        drift_status=_text((raw.get("DriftInformation") or {}).get("StackDriftStatus"))
        or "NOT_CHECKED",
        drift_checked=(raw.get("DriftInformation") or {}).get("LastCheckTimestamp"),
    )


def _event(raw: Mapping[str, Any]) -> StackEvent:
    return StackEvent(
        event_id=_text(raw.get("EventId")),
        stack_name=_text(raw.get("StackName")),
        logical_id=_text(raw.get("LogicalResourceId")),
        resource_type=_text(raw.get("ResourceType")),
        status=_text(raw.get("ResourceStatus")),
        reason=_text(raw.get("ResourceStatusReason")),
        timestamp=raw.get("Timestamp"),
        token=_text(raw.get("ClientRequestToken")),
    )


def _is_missing(exc: BaseException) -> bool:
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


class CloudFormationGateway:
    """CloudFormation calls, rate-limited (reads), counted, with errors mapped once."""

    def __init__(
        self,
        clients: ClientFactory,
        *,
        limiter: RateLimiter | None = None,
        stats: CallStats | None = None,
        templates: TemplateCache | None = None,
        journal: ChangeSetJournal | None = None,
    ) -> None:
        self.clients = clients
        self.limiter = limiter or RateLimiter()
        self.stats = stats or CallStats()
        self.templates = templates
        self.journal = journal  # change sets in flight, cleaned up after a killed run
        self._lock = threading.Lock()
        self._listings: dict[Location, dict[str, DeployedStack]] = {}
        self.pages: dict[Location, int] = {}  # pages the latest listing took, per location

    # -- plumbing ---------------------------------------------------------------------------

    def _call(
        self,
        location: Location,
        action: str,
        *,
        stack: str | None = None,
        token_taken: bool = False,
        **kwargs: Any,
    ) -> Any:
        read = action in READ_ACTIONS
        waited = self.limiter.acquire() if read and not token_taken else 0.0
        self.stats.record(action, read=read, waited=waited)
        client = self.clients.client("cloudformation", location)
        method = getattr(client, _snake(action))
        try:
            return method(**kwargs)
        except Exception as exc:
            raise map_client_error(exc, action, stack) from exc

    # -- reads ------------------------------------------------------------------------------

    def list_stacks(self, location: Location) -> dict[str, DeployedStack]:
        """Every live stack at ``location`` by name: one paginated DescribeStacks.

        The answer also becomes the shared listing that ``cached`` reads.
        """
        found: dict[str, DeployedStack] = {}
        token: str | None = None
        pages = 0
        while True:
            pages += 1
            kwargs: dict[str, Any] = {"NextToken": token} if token else {}
            answer = self._call(location, "DescribeStacks", **kwargs)
            for raw in answer.get("Stacks", []):
                stack = _deployed(raw)
                if stack.status != "DELETE_COMPLETE":
                    found[stack.name] = stack
            token = answer.get("NextToken")
            if not token:
                break
        with self._lock:
            self._listings[location] = dict(found)
            self.pages[location] = pages
        return found

    def cached(self, fqn: str, location: Location) -> DeployedStack | None:
        """The stack from the latest shared listing (listing first if there is none yet)."""
        with self._lock:
            listing = self._listings.get(location)
        if listing is None:
            listing = self.list_stacks(location)
        return listing.get(fqn)

    def remember(self, location: Location, fqn: str, stack: DeployedStack | None) -> None:
        """Update one stack in the shared listing (after a poll saw it change)."""
        with self._lock:
            listing = self._listings.setdefault(location, {})
            if stack is None:
                listing.pop(fqn, None)
            else:
                listing[fqn] = stack

    def describe_stack(self, fqn: str, location: Location) -> DeployedStack | None:
        """One stack by name or id; None if it does not exist."""
        try:
            answer = self._call(location, "DescribeStacks", stack=fqn, StackName=fqn)
        except AWSCallError as exc:
            if _is_missing(exc.__cause__ or exc):
                return None
            raise
        stacks = [_deployed(raw) for raw in answer.get("Stacks", [])]
        live = [s for s in stacks if s.status != "DELETE_COMPLETE"]
        return live[0] if live else None

    def get_template(
        self, fqn: str, location: Location, *, stack: DeployedStack | None = None
    ) -> Any:
        """The template as submitted (botocore decodes JSON bodies to a dict).

        With the listed ``stack`` and a template cache, a template already read or
        submitted at the stack's current last-change time costs no call.
        """
        if stack is not None and self.templates is not None:
            cached = self.templates.get(stack.stack_id, stack.last_change)
            if cached is not None:
                return cached
        answer = self._call(
            location, "GetTemplate", stack=fqn, StackName=fqn, TemplateStage="Original"
        )
        body = answer.get("TemplateBody")
        if stack is not None and self.templates is not None:
            self.templates.put(stack.stack_id, stack.last_change, body)
        return body

    def remember_template(self, stack: DeployedStack, template: Any) -> None:
        """Record the template a stack now has (after an operation that submitted it)."""
        if self.templates is not None:
            self.templates.put(stack.stack_id, stack.last_change, template)

    def get_stack_policy(self, fqn: str, location: Location) -> str | None:
        """The stack policy JSON text, or None when the stack has none."""
        answer = self._call(location, "GetStackPolicy", stack=fqn, StackName=fqn)
        body = answer.get("StackPolicyBody")
        if body is None or isinstance(body, str):
            return body
        return json.dumps(body)

    def stack_events(
        self,
        stack_id: str,
        location: Location,
        *,
        stop: Iterable[str] = (),
        optional: bool = False,
    ) -> list[StackEvent]:
        """Events newest first, paging until one of ``stop`` (event ids) or an operation start.

        ``optional`` reads only with spare rate budget (half the burst kept back for
        status polls) and otherwise returns no events without calling.
        """
        stop_ids = set(stop)
        events: list[StackEvent] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackName": stack_id}
            if token:
                kwargs["NextToken"] = token
            taken = False
            if optional:
                if not self.limiter.try_acquire(keep=self.limiter.burst / 2):
                    return events
                taken = True
            answer = self._call(
                location, "DescribeStackEvents", stack=stack_id, token_taken=taken, **kwargs
            )
            for raw in answer.get("StackEvents", []):
                event = _event(raw)
                if event.event_id in stop_ids:
                    return events
                events.append(event)
                if event.is_stack and _starts_operation(event):
                    return events
            token = answer.get("NextToken")
            if not token:
                return events

    def describe_change_set(self, change_set_id: str, location: Location) -> ChangeSetInfo:
        """A change set's status and how many changes it holds."""
        answer = self._call(location, "DescribeChangeSet", ChangeSetName=change_set_id)
        return ChangeSetInfo(
            change_set_id=_text(answer.get("ChangeSetId", change_set_id)),
            status=_text(answer.get("Status")),
            execution_status=_text(answer.get("ExecutionStatus")),
            reason=_text(answer.get("StatusReason")),
            changes=len(answer.get("Changes", [])),
        )

    def change_set_changes(self, change_set_id: str, location: Location) -> list[dict[str, Any]]:
        """Every entry of a change set's ``Changes`` (DescribeChangeSet, paginated)."""
        changes: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"ChangeSetName": change_set_id}
            if token:
                kwargs["NextToken"] = token
            answer = self._call(location, "DescribeChangeSet", **kwargs)
            changes += [dict(c) for c in answer.get("Changes", [])]
            token = answer.get("NextToken")
            if not token:
                return changes

    def stack_resources(self, fqn: str, location: Location) -> list[dict[str, Any]]:
        """ListStackResources (paginated): each resource's logical and physical id, type."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackName": fqn}
            if token:
                kwargs["NextToken"] = token
            answer = self._call(location, "ListStackResources", stack=fqn, **kwargs)
            found += [dict(r) for r in answer.get("StackResourceSummaries", [])]
            token = answer.get("NextToken")
            if not token:
                return found

    # -- drift ------------------------------------------------------------------------------

    def detect_stack_drift(self, fqn: str, location: Location) -> str:
        """DetectStackDrift: starts drift detection; returns the detection's id."""
        answer = self._call(location, "DetectStackDrift", stack=fqn, StackName=fqn)
        return _text(answer.get("StackDriftDetectionId"))

    def drift_detection_status(self, detection_id: str, location: Location) -> dict[str, Any]:
        """DescribeStackDriftDetectionStatus: ``DetectionStatus``, ``StackDriftStatus``..."""
        answer = self._call(
            location, "DescribeStackDriftDetectionStatus", StackDriftDetectionId=detection_id
        )
        return dict(answer)

    def stack_resource_drifts(
        self, fqn: str, location: Location, statuses: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """DescribeStackResourceDrifts (paginated), only ``statuses`` when given."""
        drifts: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackName": fqn}
            if statuses:
                kwargs["StackResourceDriftStatusFilters"] = list(statuses)
            if token:
                kwargs["NextToken"] = token
            answer = self._call(location, "DescribeStackResourceDrifts", stack=fqn, **kwargs)
            drifts += [dict(d) for d in answer.get("StackResourceDrifts", [])]
            token = answer.get("NextToken")
            if not token:
                return drifts

    # -- writes -----------------------------------------------------------------------------

    def find_change_set(self, name: str, location: Location, fqn: str) -> ChangeSetInfo:
        """A change set by its name on a stack (DescribeChangeSet)."""
        answer = self._call(
            location, "DescribeChangeSet", stack=fqn, ChangeSetName=name, StackName=fqn
        )
        return ChangeSetInfo(
            change_set_id=_text(answer.get("ChangeSetId", name)),
            status=_text(answer.get("Status")),
            execution_status=_text(answer.get("ExecutionStatus")),
            reason=_text(answer.get("StatusReason")),
            changes=len(answer.get("Changes", [])),
        )

    def create_stack(self, submission: StackSubmission, token: str | None = None) -> str:
        """CreateStack (with ``token`` as its ClientRequestToken); returns the stack's id."""
        args = submission.common_args()
        if token:
            args["ClientRequestToken"] = token
        if submission.termination_protection:
            args["EnableTerminationProtection"] = True
        if submission.stack_policy:
            args["StackPolicyBody"] = submission.stack_policy
        answer = self._call(submission.location, "CreateStack", stack=submission.fqn, **args)
        return str(answer["StackId"])

    def update_stack(self, submission: StackSubmission, token: str | None = None) -> str:
        """UpdateStack (with ``token`` as its ClientRequestToken, and the stack policy when
        the submission carries one); returns the stack's id."""
        args = submission.common_args()
        if token:
            args["ClientRequestToken"] = token
        if submission.stack_policy:
            args["StackPolicyBody"] = submission.stack_policy
        answer = self._call(submission.location, "UpdateStack", stack=submission.fqn, **args)
        return str(answer["StackId"])

    def create_change_set(
        self, submission: StackSubmission, name: str, token: str | None = None
    ) -> str:
        """CreateChangeSet of type UPDATE (``token``: its ClientToken); returns its id."""
        extra: dict[str, Any] = {"ClientToken": token} if token else {}
        answer = self._call(
            submission.location,
            "CreateChangeSet",
            stack=submission.fqn,
            ChangeSetName=name,
            ChangeSetType="UPDATE",
            **submission.common_args(),
            **extra,
        )
        return str(answer["Id"])

    def execute_change_set(
        self, change_set_id: str, location: Location, fqn: str, token: str | None = None
    ) -> None:
        """ExecuteChangeSet (``token``: its ClientRequestToken)."""
        extra: dict[str, Any] = {"ClientRequestToken": token} if token else {}
        self._call(location, "ExecuteChangeSet", stack=fqn, ChangeSetName=change_set_id, **extra)

    def delete_change_set(self, change_set_id: str, location: Location, fqn: str) -> None:
        """DeleteChangeSet; a change set already gone is fine."""
        try:
            self._call(location, "DeleteChangeSet", stack=fqn, ChangeSetName=change_set_id)
        except AWSCallError as exc:
            if exc.code not in ("ChangeSetNotFound", "ChangeSetNotFoundException"):
                raise

    def delete_stack(
        self,
        fqn: str,
        location: Location,
        role_arn: str | None = None,
        token: str | None = None,
    ) -> None:
        """DeleteStack (``token``: its ClientRequestToken)."""
        args: dict[str, Any] = {"StackName": fqn}
        if role_arn:
            args["RoleARN"] = role_arn
        if token:
            args["ClientRequestToken"] = token
        self._call(location, "DeleteStack", stack=fqn, **args)

    def set_stack_policy(self, fqn: str, location: Location, policy: str) -> None:
        """SetStackPolicy (change sets cannot carry one, so it is set after execute)."""
        self._call(location, "SetStackPolicy", stack=fqn, StackName=fqn, StackPolicyBody=policy)

    def update_termination_protection(self, fqn: str, location: Location, enabled: bool) -> None:
        """UpdateTerminationProtection."""
        self._call(
            location,
            "UpdateTerminationProtection",
            stack=fqn,
            StackName=fqn,
            EnableTerminationProtection=enabled,
        )


_STARTS = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS")


def _starts_operation(event: StackEvent) -> bool:
    return event.status in _STARTS and event.reason.lower().startswith("user initiated")


def _snake(action: str) -> str:
    out: list[str] = []
    for index, char in enumerate(action):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
