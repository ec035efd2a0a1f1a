"""The CloudFormation emulator: the entry point the local endpoint calls for each request.

Each API action is a method ``_op_<Action>`` taking the boto3-shaped request dict and returning
the boto3-shaped response dict; :mod:`wire` converts both. Stack operations run on worker
threads (:mod:`lifecycle`), so callers see ``*_IN_PROGRESS`` as on AWS.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlparse

from stackyard.local.cloudformation import drift, shapes, transforms, wire
from stackyard.local.cloudformation.changes import resource_changes
from stackyard.local.cloudformation.errors import (
    AlreadyExists,
    ApiError,
    ChangeSetNotFound,
    InsufficientCapabilities,
    InvalidChangeSetStatus,
    ValidationError,
)
from stackyard.local.cloudformation.idempotency import TokenLedger
from stackyard.local.cloudformation.lifecycle import StackRunner, dependency_graph
from stackyard.local.cloudformation.models import ChangeSet, Resource, Snapshot, Stack, now
from stackyard.local.cloudformation.nested import NestedStacks
from stackyard.local.cloudformation.parameters import resolve_parameters
from stackyard.local.cloudformation.policy import parse_policy
from stackyard.local.cloudformation.provisioner import NestedHandler, is_provisionable
from stackyard.local.cloudformation.template import (
    load_template,
    required_capabilities,
    validate_template,
)
from stackyard.local.latency import LatencySpec

__all__ = ["CloudFormationEmulator"]

PAGE = 100
_STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
_NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


_GONE = frozenset({"DELETE_COMPLETE", "DELETE_SKIPPED"})


class _InvalidAction(ApiError):
    code = "InvalidAction"


class CloudFormationEmulator:
    """Answers CloudFormation API calls; runs stack operations on worker threads."""

    def __init__(self, lock: threading.RLock, latency: LatencySpec) -> None:
        self.lock = lock
        self.latency = latency
        self.stopping = threading.Event()
        # Set once the endpoint has loaded what the first call needs (see runner._warm_up).
        self.warm = threading.Event()
        self.stacks: dict[str, Stack] = {}
        self.change_sets: dict[str, ChangeSet] = {}
        self.tokens = TokenLedger()
        self.drift_detections: dict[str, dict[str, Any]] = {}
        self.nested_stacks: NestedHandler | None = self._nested_handler()
        self._threads: list[threading.Thread] = []

    # plumbing ---------------------------------------------------------------------------

    def handle(
        self, region: str, account_id: str, params: Mapping[str, str], host: str
    ) -> tuple[int, bytes]:
        """Answer one query-protocol request: (HTTP status, XML body)."""
        action = params.get("Action", "")
        try:
            if action not in wire.operation_names():
                raise _InvalidAction(f"Could not find operation {action} for version 2010-05-15")
            handler: Callable[..., dict[str, Any]] | None = getattr(self, f"_op_{action}", None)
            if handler is None:
                raise _InvalidAction(f"The action {action} is not valid for this web service.")
            request = wire.parse_request(action, params)
            with self.lock:
                result = handler(_Call(region, account_id, host), request)
            return 200, wire.response_xml(action, result)
        except ApiError as exc:
            return exc.status, wire.error_xml(exc.code, exc.message)
        except Exception as exc:  # a bug of ours must not take the endpoint down
            return 500, wire.error_xml("InternalFailure", f"{type(exc).__name__}: {exc}", False)

    def unsupported_types(self) -> dict[str, int]:
        """Resource types kept as records because moto cannot provision them, with counts."""
        with self.lock:
            counts: Counter[str] = Counter(
                resource.type
                for stack in self.stacks.values()
                if not stack.deleted
                for resource in stack.resources.values()
                if resource.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")
                and not is_provisionable(resource.type)
            )
        return dict(sorted(counts.items()))

    def shutdown(self) -> None:
        """Finish running operations' threads (skipping their remaining waits)."""
        self.stopping.set()
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._threads.clear()
        self.stopping = threading.Event()

    def __getstate__(self) -> dict[str, Any]:
        with self.lock:
            return {
                "latency": self.latency,
                "stacks": self.stacks,
                "change_sets": self.change_sets,
                "tokens": self.tokens,
                "drift_detections": self.drift_detections,
            }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.latency = state["latency"]
        self.stacks = state["stacks"]
        self.change_sets = state["change_sets"]
        self.tokens = state.get("tokens") or TokenLedger()
        self.drift_detections = state.get("drift_detections") or {}
        self.nested_stacks = self._nested_handler()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self._threads = []

    def _nested_handler(self) -> NestedStacks:
        def read(account_id: str, region: str, url: str) -> str:
            return self._read_template_url(_Call(region, account_id, ""), url)

        return NestedStacks(self, read, self._start)

    def _start(self, work: Callable[[], None], name: str) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, name=f"stackyard-cfn-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    # host protocol for runners --------------------------------------------------------

    def export_value(self, account_id: str, region: str, name: str) -> str | None:
        """The value of an export, or None."""
        found = self._exports(account_id, region).get(name)
        return None if found is None else found[1]

    def importers(self, account_id: str, region: str, name: str) -> list[str]:
        """Names of live stacks importing the export ``name``."""
        return sorted(
            s.name
            for s in self._live(account_id, region)
            if name in s.imports and s.status != "ROLLBACK_COMPLETE"
        )

    def exporter(self, account_id: str, region: str, name: str) -> tuple[str, str] | None:
        """(stack id, stack name) of the live stack exporting ``name``, or None."""
        for stack in self._live(account_id, region):
            if any(o.get("ExportName") == name for o in stack.outputs):
                return stack.stack_id, stack.name
        return None

    def ssm_value(self, account_id: str, region: str, name: str) -> str:
        """The value of an SSM parameter, for ``AWS::SSM::Parameter::Value<>`` parameters."""
        from moto.ssm.models import ssm_backends

        parameter = ssm_backends[account_id][region].get_parameter(name)
        if parameter is None:
            raise ValidationError(f"Parameters: [ssm:{name}] cannot be found.")
        return str(parameter.value)

    # lookups ----------------------------------------------------------------------------

    def _live(self, account_id: str, region: str) -> list[Stack]:
        return [
            s
            for s in self.stacks.values()
            if not s.deleted and s.account_id == account_id and s.region == region
        ]

    def _exports(self, account_id: str, region: str) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for stack in self._live(account_id, region):
            for output in stack.outputs:
                if "ExportName" in output:
                    found[output["ExportName"]] = (stack.stack_id, output["OutputValue"])
        return found

    def _find(self, call: _Call, name_or_id: str, *, deleted: bool = False) -> Stack | None:
        if name_or_id.startswith("arn:"):
            stack = self.stacks.get(name_or_id)
            if stack and (deleted or not stack.deleted):
                return stack
            return None
        for stack in self._live(call.account_id, call.region):
            if stack.name == name_or_id:
                return stack
        return None

    def _stack(
        self, call: _Call, name_or_id: str | None, *, deleted: bool = False, bracketed: bool = False
    ) -> Stack:
        """The stack named (or with the ARN); AWS words a missing one two ways, by action."""
        if not name_or_id:
            raise ValidationError("1 validation error detected: StackName must not be null")
        stack = self._find(call, name_or_id, deleted=deleted)
        if stack is None:
            if bracketed:
                raise ValidationError(f"Stack [{name_or_id}] does not exist")
            raise ValidationError(f"Stack with id {name_or_id} does not exist")
        return stack

    def _template_from(
        self, call: _Call, request: Mapping[str, Any], capabilities: list[str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The template body as given and the template as processed (transforms expanded).

        ``capabilities`` are checked for ``CAPABILITY_AUTO_EXPAND`` when given (a direct
        create or update); a change set or a validation does not need it.
        """
        body = request.get("TemplateBody")
        url = request.get("TemplateURL")
        if body is None and url is None:
            raise ValidationError("Either Template URL or Template Body must be specified.")
        if body is not None and url is not None:
            raise ValidationError("Specify exactly one of Template URL or Template Body.")
        if body is None:
            body = self._read_template_url(call, str(url))
        template = load_template(body)
        if capabilities is not None:
            transforms.require_auto_expand(template, capabilities)
        given = {
            p["ParameterKey"]: p["ParameterValue"]
            for p in request.get("Parameters", [])
            if "ParameterValue" in p
        }
        template = transforms.expand(template, given, call.region, call.account_id)
        validate_template(template, call.region)
        self._check_cycles(template)
        return body, template

    def _check_cycles(self, template: Mapping[str, Any]) -> None:
        resources = template["Resources"]
        graph = dependency_graph(resources, resources)
        remaining = dict(graph)
        while remaining:
            ready = [n for n, deps in remaining.items() if not (deps & set(remaining))]
            if not ready:
                raise ValidationError(
                    f"Circular dependency between resources: [{', '.join(sorted(remaining))}]"
                )
            for node in ready:
                del remaining[node]

    def _read_template_url(self, call: _Call, url: str) -> str:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        parsed = urlparse(url)
        host = parsed.netloc.lower()
        path = unquote(parsed.path).lstrip("/")
        own = host == call.host.lower() or host.split(":")[0] in ("127.0.0.1", "localhost")
        bucket: str | None = None
        key = ""
        if own or re.match(r"^s3[.-]([a-z0-9-]+\.)?amazonaws\.com$", host):
            bucket, _, key = path.partition("/")
        elif host.endswith(".amazonaws.com") and ".s3" in host:
            bucket, key = host.split(".s3", 1)[0], path
        if not bucket or not key:
            raise ValidationError(f"TemplateURL must be a supported URL.: {url}")
        backend = s3_backends[call.account_id][get_partition(call.region)]
        try:
            obj = backend.get_object(bucket, key)
        except Exception as exc:
            raise ValidationError(
                f"S3 error: Access Denied or the object does not exist: {url}"
            ) from exc
        if obj is None:
            raise ValidationError(f"S3 error: Access Denied or the object does not exist: {url}")
        return bytes(obj.value).decode("utf-8")

    def _check_capabilities(self, template: Mapping[str, Any], given: list[str]) -> None:
        needed, _ = required_capabilities(template)
        if needed is None:
            return
        if needed == "CAPABILITY_NAMED_IAM" and "CAPABILITY_NAMED_IAM" not in given:
            raise InsufficientCapabilities("Requires capabilities : [CAPABILITY_NAMED_IAM]")
        if needed == "CAPABILITY_IAM" and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(
            given
        ):
            raise InsufficientCapabilities("Requires capabilities : [CAPABILITY_IAM]")

    def _check_name(self, name: str | None) -> str:
        if not name or not _STACK_NAME.match(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            )
        return name

    def _new_stack_id(self, call: _Call, name: str) -> str:
        return f"arn:aws:cloudformation:{call.region}:{call.account_id}:stack/{name}/{uuid.uuid4()}"

    @staticmethod
    def _page(
        items: list[Any], token: str | None, size: int = PAGE
    ) -> tuple[list[Any], str | None]:
        start = int(token) if token and token.isdigit() else 0
        chunk = items[start : start + size]
        return chunk, str(start + size) if start + size < len(items) else None

    # stacks -----------------------------------------------------------------------------

    def _op_CreateStack(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(request.get("StackName"))
        token = TokenLedger.token_of("CreateStack", request)
        answered = self.tokens.recall(call.where, "CreateStack", name, token)
        first = self.stacks.get(answered["StackId"]) if answered is not None else None
        if answered is not None and first is not None and not first.deleted:
            return answered
        if self._find(call, name) is not None:
            raise AlreadyExists(f"Stack [{name}] already exists")
        body, template = self._template_from(call, request, request.get("Capabilities", []))
        params = resolve_parameters(
            template.get("Parameters") or {}, request.get("Parameters", []), None
        )
        capabilities = request.get("Capabilities", [])
        self._check_capabilities(template, capabilities)
        self._resolve_ssm(call, template, params)
        policy = self._policy_from(request, "StackPolicyBody")
        on_failure = request.get("OnFailure") or "ROLLBACK"
        if request.get("DisableRollback") and "OnFailure" in request:
            raise ValidationError(
                "You can specify either DisableRollback or OnFailure, but not both."
            )
        stack = Stack(
            stack_id=self._new_stack_id(call, name),
            name=name,
            region=call.region,
            account_id=call.account_id,
            template=template,
            template_body=body,
            parameters=params,
            status="CREATE_IN_PROGRESS",
            tags=request.get("Tags", []),
            notification_arns=request.get("NotificationARNs", []),
            role_arn=request.get("RoleARN"),
            capabilities=capabilities,
            disable_rollback=bool(request.get("DisableRollback")),
            on_failure=on_failure,
            timeout=request.get("TimeoutInMinutes"),
            termination_protection=bool(request.get("EnableTerminationProtection")),
            policy_body=policy,
            client_request_token=token,
        )
        self.stacks[stack.stack_id] = stack
        runner = StackRunner(self, stack)
        with self.lock:
            runner.stack_event("CREATE_IN_PROGRESS", "User Initiated")
            stack.events.clear()
        self._start(runner.create, name)
        return self.tokens.remember(
            call.where, "CreateStack", name, token, {"StackId": stack.stack_id}
        )

    def _policy_from(self, request: Mapping[str, Any], key: str) -> str | None:
        body = request.get(key)
        if body is None:
            return None
        parse_policy(body)
        return str(body)

    def _resolve_ssm(
        self, call: _Call, template: Mapping[str, Any], params: dict[str, str]
    ) -> None:
        for key, spec in (template.get("Parameters") or {}).items():
            if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value<"):
                self.ssm_value(call.account_id, call.region, params[key])

    def _op_UpdateStack(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"), bracketed=True)
        token = TokenLedger.token_of("UpdateStack", request)
        answered = self.tokens.recall(call.where, "UpdateStack", stack.stack_id, token)
        if answered is not None:
            return answered
        self._require_updatable(stack)
        change = self._proposed(call, stack, request, direct=True)
        if self._unchanged(stack, change):
            raise ValidationError("No updates are to be performed.")
        policy = self._policy_for_update(stack, request)
        stack.change_set_id = None
        stack.client_request_token = token
        self._make_change_sets_obsolete(stack)
        self._start_update(stack, change, policy)
        return self.tokens.remember(
            call.where, "UpdateStack", stack.stack_id, token, {"StackId": stack.stack_id}
        )

    def _require_updatable(self, stack: Stack) -> None:
        if stack.status not in (
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
            "IMPORT_ROLLBACK_COMPLETE",
        ):
            raise ValidationError(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )

    def _proposed(
        self, call: _Call, stack: Stack, request: Mapping[str, Any], *, direct: bool = False
    ) -> Snapshot:
        if request.get("UsePreviousTemplate"):
            body, template = stack.template_body, stack.template
        else:
            capabilities = request.get("Capabilities", []) if direct else None
            body, template = self._template_from(call, request, capabilities)
        params = resolve_parameters(
            template.get("Parameters") or {}, request.get("Parameters", []), stack.parameters
        )
        capabilities = request.get("Capabilities", [])
        self._check_capabilities(template, capabilities)
        self._resolve_ssm(call, template, params)
        return Snapshot(
            template=template,
            template_body=body,
            parameters=params,
            resources={},
            outputs=[],
            tags=request.get("Tags", stack.tags),
            notification_arns=request.get("NotificationARNs", stack.notification_arns),
            role_arn=request.get("RoleARN") or stack.role_arn,
            capabilities=capabilities,
        )

    @staticmethod
    def _unchanged(stack: Stack, change: Snapshot) -> bool:
        return (
            change.template == stack.template
            and change.parameters == stack.parameters
            and change.tags == stack.tags
            and sorted(change.notification_arns) == sorted(stack.notification_arns)
            and change.role_arn == stack.role_arn
        )

    def _policy_for_update(self, stack: Stack, request: Mapping[str, Any]) -> dict[str, Any] | None:
        during = self._policy_from(request, "StackPolicyDuringUpdateBody")
        if during is not None:
            return parse_policy(during)
        new = self._policy_from(request, "StackPolicyBody")
        current = stack.policy_body
        if new is not None:
            stack.policy_body = new
        return parse_policy(current) if current else None

    def _make_change_sets_obsolete(self, stack: Stack) -> None:
        """A direct update leaves the stack's change sets describing a stack that is gone."""
        for change_set in self.change_sets.values():
            if change_set.stack_id == stack.stack_id and change_set.execution_status in (
                "AVAILABLE",
                "UNAVAILABLE",
            ):
                change_set.execution_status = "OBSOLETE"

    def _start_update(self, stack: Stack, change: Snapshot, policy: dict[str, Any] | None) -> None:
        runner = StackRunner(self, stack)
        stack.status = "UPDATE_IN_PROGRESS"
        self._start(lambda: runner.update(change, policy), stack.name)

    def _op_DeleteStack(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._find(call, request.get("StackName") or "")
        if stack is None:
            return {}
        if stack.termination_protection:
            raise ValidationError(
                f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        for output in stack.outputs:
            name = output.get("ExportName")
            if name:
                users = [u for u in self.importers(stack.account_id, stack.region, name)]
                users = [u for u in users if u != stack.name]
                if users:
                    raise ValidationError(
                        f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
                    )
        if stack.status == "DELETE_IN_PROGRESS":
            return {}
        if stack.in_progress:
            raise ValidationError(
                f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        stack.client_request_token = TokenLedger.token_of("DeleteStack", request)
        if stack.status == "REVIEW_IN_PROGRESS":
            runner = StackRunner(self, stack)
            runner.stack_event("DELETE_COMPLETE")
            stack.deletion_time = now()
            return {}
        runner = StackRunner(self, stack)
        stack.status = "DELETE_IN_PROGRESS"
        self._start(runner.delete, stack.name)
        return {}

    def _op_DescribeStacks(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("StackName")
        if name:
            stacks = [self._stack(call, name, deleted=True)]
        else:
            stacks = sorted(
                self._live(call.account_id, call.region),
                key=lambda s: s.creation_time,
                reverse=True,
            )
        page, token = self._page(stacks, request.get("NextToken"))
        return {"Stacks": [shapes.stack(s) for s in page], "NextToken": token}

    def _op_ListStacks(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        wanted = set(request.get("StackStatusFilter", []))
        stacks = sorted(
            (
                s
                for s in self.stacks.values()
                if s.account_id == call.account_id
                and s.region == call.region
                and (not wanted or s.status in wanted)
                and s.status != "REVIEW_IN_PROGRESS"
            ),
            key=lambda s: s.creation_time,
            reverse=True,
        )
        page, token = self._page(stacks, request.get("NextToken"))
        return {"StackSummaries": [shapes.stack_summary(s) for s in page], "NextToken": token}

    def _op_DescribeStackEvents(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"), deleted=True, bracketed=True)
        events = list(reversed(stack.events))
        page, token = self._page(events, request.get("NextToken"))
        return {"StackEvents": [shapes.event(e) for e in page], "NextToken": token}

    def _op_DescribeStackResources(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        physical = request.get("PhysicalResourceId")
        if physical and not request.get("StackName"):
            owners = [
                s for s in self._live(call.account_id, call.region)
                if any(r.physical_id == physical for r in s.resources.values())
            ]  # fmt: skip
            if not owners:
                raise ValidationError(f"Stack for {physical} does not exist")
            stack = owners[0]
        else:
            stack = self._stack(call, request.get("StackName"), deleted=True)
        logical = request.get("LogicalResourceId")
        items = [
            shapes.resource(stack, r)
            for r in stack.resources.values()
            if (not logical or r.logical_id == logical)
            and (not physical or r.physical_id == physical)
        ]
        return {"StackResources": items}

    def _op_DescribeStackResource(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"), deleted=True)
        logical = request.get("LogicalResourceId", "")
        resource = stack.resources.get(logical)
        if resource is None:
            raise ValidationError(f"Resource {logical} does not exist for stack {stack.name}")
        return {"StackResourceDetail": shapes.resource(stack, resource, detail=True)}

    def _op_ListStackResources(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"), deleted=True)
        items = [shapes.resource_summary(r) for r in stack.resources.values()]
        page, token = self._page(items, request.get("NextToken"))
        return {"StackResourceSummaries": page, "NextToken": token}

    def _op_GetTemplate(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ChangeSetName"):
            change_set = self._change_set(call, request["ChangeSetName"], request.get("StackName"))
            body, processed = change_set.template_body, change_set.template
        else:
            stack = self._stack(call, request.get("StackName"), deleted=True)
            body, processed = stack.template_body, stack.template
        if request.get("TemplateStage") == "Processed" and _declared(body):
            body = json.dumps(processed, indent=2)
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    def _op_GetTemplateSummary(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("StackName"):
            found = self._stack(call, request["StackName"])
            body, template = found.template_body, found.template
        else:
            body, template = self._template_from(call, request)
        needed, reasons = required_capabilities(template)
        return {
            "Parameters": [
                {
                    "ParameterKey": key,
                    "DefaultValue": _default_text(spec),
                    "ParameterType": str(spec.get("Type", "String")),
                    "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
                    "Description": spec.get("Description"),
                    "ParameterConstraints": {
                        "AllowedValues": [str(v) for v in spec.get("AllowedValues", [])]
                    },
                }
                for key, spec in (template.get("Parameters") or {}).items()
            ],
            "Description": template.get("Description"),
            "Capabilities": [needed] if needed else [],
            "CapabilitiesReason": _capabilities_reason(reasons) if needed else None,
            "ResourceTypes": sorted({r["Type"] for r in template["Resources"].values()}),
            "Version": template.get("AWSTemplateFormatVersion", "2010-09-09"),
            "Metadata": json.dumps(template["Metadata"]) if "Metadata" in template else None,
            "DeclaredTransforms": _declared(body),
        }

    def _op_ValidateTemplate(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        body, template = self._template_from(call, request)
        needed, reasons = required_capabilities(template)
        return {
            "Parameters": [
                {
                    "ParameterKey": key,
                    "DefaultValue": _default_text(spec),
                    "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
                    "Description": spec.get("Description"),
                }
                for key, spec in (template.get("Parameters") or {}).items()
            ],
            "Description": template.get("Description"),
            "Capabilities": [needed] if needed else [],
            "CapabilitiesReason": _capabilities_reason(reasons) if needed else None,
            "DeclaredTransforms": _declared(body),
        }

    # guards -----------------------------------------------------------------------------

    def _op_UpdateTerminationProtection(
        self, call: _Call, request: dict[str, Any]
    ) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        stack.termination_protection = bool(request.get("EnableTerminationProtection"))
        return {"StackId": stack.stack_id}

    def _op_SetStackPolicy(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        if request.get("StackPolicyURL"):
            body = self._read_template_url(call, request["StackPolicyURL"])
        else:
            body = request.get("StackPolicyBody", "")
        parse_policy(body)
        stack.policy_body = body
        return {}

    def _op_GetStackPolicy(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        return {"StackPolicyBody": self._stack(call, request.get("StackName")).policy_body}

    def _op_CancelUpdateStack(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        token = TokenLedger.token_of("CancelUpdateStack", request)
        if self.tokens.recall(call.where, "CancelUpdateStack", stack.stack_id, token) is not None:
            return {}
        if stack.status != "UPDATE_IN_PROGRESS":
            raise ValidationError("CancelUpdateStack cannot be called from current stack status")
        stack.cancel_requested = True
        stack.client_request_token = token
        return self.tokens.remember(call.where, "CancelUpdateStack", stack.stack_id, token, {})

    def _op_ContinueUpdateRollback(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        token = TokenLedger.token_of("ContinueUpdateRollback", request)
        answered = self.tokens.recall(call.where, "ContinueUpdateRollback", stack.stack_id, token)
        if answered is not None:
            return answered
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(
                "ContinueUpdateRollback cannot be called from current stack status"
            )
        stack.client_request_token = token
        runner = StackRunner(self, stack)
        runner.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "Continue rollback requested by user")
        runner.stack_event("UPDATE_ROLLBACK_COMPLETE")
        return self.tokens.remember(call.where, "ContinueUpdateRollback", stack.stack_id, token, {})

    # exports and drift ------------------------------------------------------------------

    def _op_ListExports(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        items = [
            {"ExportingStackId": stack_id, "Name": name, "Value": value}
            for name, (stack_id, value) in sorted(
                self._exports(call.account_id, call.region).items()
            )
        ]
        page, token = self._page(items, request.get("NextToken"))
        return {"Exports": page, "NextToken": token}

    def _op_ListImports(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("ExportName", "")
        users = self.importers(call.account_id, call.region, name)
        if not users:
            raise ValidationError(f"Export '{name}' is not imported by any stack.")
        page, token = self._page(users, request.get("NextToken"))
        return {"Imports": page, "NextToken": token}

    def _resource_drift(self, stack: Stack, resource: Resource) -> dict[str, Any]:
        found = drift.detect(stack.account_id, stack.region, resource)
        out: dict[str, Any] = {
            "StackId": stack.stack_id,
            "LogicalResourceId": resource.logical_id,
            "PhysicalResourceId": resource.physical_id,
            "ResourceType": resource.type,
            "StackResourceDriftStatus": found.status,
            "Timestamp": now(),
        }
        if found.status != "NOT_CHECKED":
            out["ExpectedProperties"] = json.dumps(found.expected, default=str, sort_keys=True)
            out["ActualProperties"] = json.dumps(found.actual, default=str, sort_keys=True)
            out["PropertyDifferences"] = found.differences
        return out

    def _op_DetectStackDrift(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        if stack.in_progress:
            raise ValidationError(
                f"Drift detection cannot be performed on stack [{stack.name}] while it is in "
                f"status {stack.status}"
            )
        wanted = set(request.get("LogicalResourceIds") or stack.resources)
        drifts = [
            self._resource_drift(stack, resource)
            for resource in stack.resources.values()
            if resource.logical_id in wanted and resource.status not in _GONE
        ]
        drifted = [d for d in drifts if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
        stack.resource_drifts = drifts
        stack.drift_status = "DRIFTED" if drifted else "IN_SYNC"
        stack.drift_checked = now()
        detection_id = str(uuid.uuid4())
        self.drift_detections[detection_id] = {
            "StackId": stack.stack_id,
            "StackDriftDetectionId": detection_id,
            "StackDriftStatus": stack.drift_status,
            "DetectionStatus": "DETECTION_COMPLETE",
            "DriftedStackResourceCount": len(drifted),
            "Timestamp": stack.drift_checked,
        }
        return {"StackDriftDetectionId": detection_id}

    def _op_DescribeStackDriftDetectionStatus(
        self, call: _Call, request: dict[str, Any]
    ) -> dict[str, Any]:
        detection = request.get("StackDriftDetectionId", "")
        found = self.drift_detections.get(detection)
        if found is None:
            raise ValidationError(f"Drift detection {detection} does not exist")
        return dict(found)

    def _op_DescribeStackResourceDrifts(
        self, call: _Call, request: dict[str, Any]
    ) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        wanted = set(request.get("StackResourceDriftStatusFilters") or [])
        drifts = [
            d
            for d in stack.resource_drifts or []
            if not wanted or d["StackResourceDriftStatus"] in wanted
        ]
        page, token = self._page(drifts, request.get("NextToken"))
        return {"StackResourceDrifts": page, "NextToken": token}

    def _op_DetectStackResourceDrift(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        logical = request.get("LogicalResourceId", "")
        resource = stack.resources.get(logical)
        if resource is None or resource.status in _GONE:
            raise ValidationError(f"Resource {logical} does not exist for stack {stack.name}")
        return {"StackResourceDrift": self._resource_drift(stack, resource)}

    # change sets ------------------------------------------------------------------------

    def _change_set(self, call: _Call, name: str, stack_name: str | None) -> ChangeSet:
        if name.startswith("arn:"):
            found = self.change_sets.get(name)
            if found is not None:
                return found
        else:
            if not stack_name:
                raise ValidationError(
                    "StackName must be specified if ChangeSetName is not specified as an ARN."
                )
            stack = self._find(call, stack_name)
            if stack is not None:
                for change_set in self.change_sets.values():
                    if change_set.stack_id == stack.stack_id and change_set.name == name:
                        return change_set
        raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")

    def _op_CreateChangeSet(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        requested = str(request.get("StackName") or "")
        by_arn = self._find(call, requested) if requested.startswith("arn:") else None
        if requested.startswith("arn:") and by_arn is None:
            raise ValidationError(f"Stack [{requested}] does not exist")
        name = by_arn.name if by_arn is not None else self._check_name(requested)
        cs_name = request.get("ChangeSetName", "")
        if not _STACK_NAME.match(cs_name):
            raise ValidationError(
                f"1 validation error detected: Value '{cs_name}' at 'changeSetName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*"
            )
        kind = request.get("ChangeSetType") or "UPDATE"
        token = TokenLedger.token_of("CreateChangeSet", request)
        answered = self.tokens.recall(call.where, "CreateChangeSet", f"{name}/{cs_name}", token)
        if answered is not None:
            return answered
        stack = self._find(call, name)
        if kind == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise AlreadyExists(
                    f"Stack [{name}] already exists and cannot be created again with the "
                    f"changeSet [{cs_name}]."
                )
        elif stack is None or stack.status == "REVIEW_IN_PROGRESS":
            raise ValidationError(f"Stack [{name}] does not exist")
        if stack is not None and any(
            c.stack_id == stack.stack_id and c.name == cs_name for c in self.change_sets.values()
        ):
            raise AlreadyExists(f"ChangeSet [{cs_name}] already exists")
        if kind == "CREATE":
            body, template = self._template_from(call, request)
            params = resolve_parameters(
                template.get("Parameters") or {}, request.get("Parameters", []), None
            )
            capabilities = request.get("Capabilities", [])
            self._check_capabilities(template, capabilities)
            change = Snapshot(
                template, body, params, {}, [], request.get("Tags", []),
                request.get("NotificationARNs", []), request.get("RoleARN"), capabilities,
            )  # fmt: skip
            if stack is None:
                stack = Stack(
                    stack_id=self._new_stack_id(call, name),
                    name=name,
                    region=call.region,
                    account_id=call.account_id,
                    template={"Resources": {}},
                    template_body="",
                    parameters={},
                    status="REVIEW_IN_PROGRESS",
                )
                self.stacks[stack.stack_id] = stack
                StackRunner(self, stack).stack_event("REVIEW_IN_PROGRESS", "User Initiated")
            changes = resource_changes({}, {}, {}, template, params)
            status, reason = "CREATE_COMPLETE", None
        else:
            assert stack is not None
            change = self._proposed(call, stack, request)
            if self._unchanged(stack, change):
                changes, status, reason = [], "FAILED", _NO_CHANGES
            else:
                changes = resource_changes(
                    stack.template, stack.parameters, stack.resources,
                    change.template, change.parameters,
                )  # fmt: skip
                status, reason = "CREATE_COMPLETE", None
        change_set_id = (
            f"arn:aws:cloudformation:{call.region}:{call.account_id}:changeSet/{cs_name}/"
            f"{uuid.uuid4()}"
        )
        self.change_sets[change_set_id] = ChangeSet(
            change_set_id=change_set_id,
            name=cs_name,
            stack_id=stack.stack_id,
            stack_name=stack.name,
            change_set_type=kind,
            template=change.template,
            template_body=change.template_body,
            parameters=change.parameters,
            tags=change.tags,
            notification_arns=change.notification_arns,
            role_arn=change.role_arn,
            capabilities=change.capabilities,
            changes=changes,
            status=status,
            execution_status="AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
            reason=reason,
            description=request.get("Description"),
            ready_at=time.time() + self.latency.change_set_seconds,
        )
        answer = {"Id": change_set_id, "StackId": stack.stack_id}
        return self.tokens.remember(
            call.where, "CreateChangeSet", f"{name}/{cs_name}", token, answer
        )

    def _op_DescribeChangeSet(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        change_set = self._change_set(
            call, request.get("ChangeSetName", ""), request.get("StackName")
        )
        out = shapes.change_set(change_set)
        page, token = self._page(out.pop("Changes"), request.get("NextToken"))
        out["Changes"] = page
        out["NextToken"] = token
        return out

    def _op_ListChangeSets(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(call, request.get("StackName"))
        items = [
            shapes.change_set(c, summary=True)
            for c in self.change_sets.values()
            if c.stack_id == stack.stack_id
        ]
        page, token = self._page(items, request.get("NextToken"))
        return {"Summaries": page, "NextToken": token}

    def _op_DeleteChangeSet(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        change_set = self._change_set(
            call, request.get("ChangeSetName", ""), request.get("StackName")
        )
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(
                f"Cannot delete ChangeSet in status {change_set.execution_status}"
            )
        del self.change_sets[change_set.change_set_id]
        return {}

    def _op_ExecuteChangeSet(self, call: _Call, request: dict[str, Any]) -> dict[str, Any]:
        change_set = self._change_set(
            call, request.get("ChangeSetName", ""), request.get("StackName")
        )
        token = TokenLedger.token_of("ExecuteChangeSet", request)
        subject = change_set.change_set_id
        if self.tokens.recall(call.where, "ExecuteChangeSet", subject, token) is not None:
            return {}
        status, execution_status = change_set.visible(time.time())
        if execution_status != "AVAILABLE":
            shown = (
                status
                if status in ("FAILED", "CREATE_PENDING", "CREATE_IN_PROGRESS")
                else (execution_status)
            )
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"status of [{shown}]"
            )
        stack = self.stacks[change_set.stack_id]
        stack.client_request_token = token
        change = Snapshot(
            change_set.template, change_set.template_body, change_set.parameters, {}, [],
            change_set.tags, change_set.notification_arns, change_set.role_arn,
            change_set.capabilities,
        )  # fmt: skip
        if change_set.change_set_type == "CREATE":
            stack.take_settings(change)
            stack.disable_rollback = bool(request.get("DisableRollback"))
            stack.change_set_id = change_set.change_set_id
            runner = StackRunner(self, stack)
            stack.status = "CREATE_IN_PROGRESS"
            self._start(runner.create, stack.name)
        else:
            self._require_updatable(stack)
            stack.change_set_id = change_set.change_set_id
            policy = parse_policy(stack.policy_body) if stack.policy_body else None
            self._start_update(stack, change, policy)
        change_set.execution_status = "EXECUTE_COMPLETE"
        # AWS deletes a stack's other change sets once one is executed: they no longer apply
        for sibling in list(self.change_sets.values()):
            if sibling.stack_id == stack.stack_id and sibling is not change_set:
                del self.change_sets[sibling.change_set_id]
        return self.tokens.remember(call.where, "ExecuteChangeSet", subject, token, {})


class _Call:
    """Where a request came from."""

    __slots__ = ("account_id", "host", "region")

    def __init__(self, region: str, account_id: str, host: str) -> None:
        self.region = region
        self.account_id = account_id
        self.host = host

    @property
    def where(self) -> tuple[str, str]:
        """(account id, region): the scope of names and tokens."""
        return self.account_id, self.region


def _default_text(spec: Mapping[str, Any]) -> str | None:
    if "Default" not in spec:
        return None
    default = spec["Default"]
    return ",".join(map(str, default)) if isinstance(default, list) else str(default)


def _capabilities_reason(resources: list[str]) -> str:
    return f"The following resource(s) require capabilities: [{', '.join(resources)}]"


def _declared(body: str) -> list[str]:
    """The transforms the original template names (the processed one has none)."""
    return transforms.declared_transforms(load_template(body)) if body.strip() else []
