"""A fake CloudFormation on a fake clock, behind the real gateway, for engine tests.

``FakeCloud`` answers the boto3 client calls the gateway makes, in boto3's
shapes. Operations take ``durations[stack]`` seconds of fake time; stacks named
in ``fail_create`` / ``fail_update`` roll back with a resource failure.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.limiter import RateLimiter
from stackyard.engine.scheduler import Interrupt

TEMPLATE = {
    "Parameters": {"Value": {"Type": "String"}},
    "Resources": {
        "Param": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Value"}},
        }
    },
    "Outputs": {"Value": {"Value": {"Ref": "Value"}}},
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


class ClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


@dataclass
class FakeStack:
    name: str
    stack_id: str
    status: str
    template: dict[str, Any]
    params: dict[str, str]
    tags: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    pending: tuple[float, str] | None = None  # (when, final status)
    protection: bool = False
    policy: str | None = None
    notification_arns: list[str] = field(default_factory=list)
    role: str | None = None


class FakeCloud:
    """The cloudformation client; also records every call as (time, action, stack)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.stacks: dict[str, FakeStack] = {}
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[float, str, str]] = []
        self.durations: dict[str, float] = {}
        self.default_duration = 10.0
        self.fail_create: set[str] = set()
        self.fail_update: set[str] = set()
        self.on_call: Any = None
        self._ids = 0

    # -- helpers ----------------------------------------------------------------------------
    def _log(self, action: str, stack: str = "") -> None:
        self.calls.append((self.clock(), action, stack))
        if self.on_call is not None:
            self.on_call(action, stack)

    def _now(self) -> datetime:
        return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=self.clock())

    def _event(self, stack: FakeStack, logical: str, status: str, reason: str = "") -> None:
        self._ids += 1
        stack.events.insert(
            0,
            {
                "EventId": f"e{self._ids}",
                "StackName": stack.name,
                "LogicalResourceId": logical,
                "ResourceType": "AWS::CloudFormation::Stack"
                if logical == stack.name
                else "AWS::SSM::Parameter",
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
                "Timestamp": self._now(),
            },
        )

    def _settle(self) -> None:
        for name, stack in list(self.stacks.items()):
            if stack.pending and self.clock() >= stack.pending[0]:
                final = stack.pending[1]
                stack.pending = None
                if final.startswith(("ROLLBACK", "UPDATE_ROLLBACK")):
                    self._event(
                        stack,
                        "Param",
                        final.split("_")[0] + "_FAILED"
                        if final.startswith("ROLLBACK")
                        else "UPDATE_FAILED",
                        "Value is not allowed",
                    )
                    self._event(stack, "Param", "DELETE_COMPLETE", "Resource creation cancelled")
                if final == "DELETE_COMPLETE":
                    del self.stacks[name]
                    continue
                stack.status = final
                self._event(stack, name, final)
                if final in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                    stack.outputs = {"Value": stack.params.get("Value", "")}

    def _find(self, name: str) -> FakeStack:
        self._settle()
        for stack in self.stacks.values():
            if name in (stack.name, stack.stack_id):
                return stack
        raise ClientError("ValidationError", f"Stack with id {name} does not exist")

    def _start(self, stack: FakeStack, status: str, final: str) -> None:
        stack.status = status
        self._event(stack, stack.name, status, "User Initiated")
        duration = self.durations.get(stack.name, self.default_duration)
        stack.pending = (self.clock() + duration, final)

    def in_flight(self) -> int:
        self._settle()
        return sum(1 for s in self.stacks.values() if s.pending)

    def count(self, action: str) -> int:
        return sum(1 for _, a, _ in self.calls if a == action)

    def add_stack(
        self, name: str, status: str, value: str = "x", tags: dict[str, str] | None = None
    ) -> FakeStack:
        self._ids += 1
        stack = FakeStack(
            name,
            f"arn:{name}:{self._ids}",
            status,
            TEMPLATE,
            {"Value": value},
            tags or {},
            {"Value": value},
        )
        self.stacks[name] = stack
        return stack

    # -- the client API ---------------------------------------------------------------------
    def describe_stacks(
        self, StackName: str | None = None, NextToken: str | None = None
    ) -> dict[str, Any]:
        self._log("DescribeStacks", StackName or "")
        self._settle()
        stacks = [self._find(StackName)] if StackName else list(self.stacks.values())
        start = int(NextToken or 0)
        page = stacks[start : start + 100]
        answer: dict[str, Any] = {"Stacks": [self._describe(s) for s in page]}
        if start + 100 < len(stacks):
            answer["NextToken"] = str(start + 100)
        return answer

    def _describe(self, s: FakeStack) -> dict[str, Any]:
        return {
            "StackName": s.name,
            "StackId": s.stack_id,
            "StackStatus": s.status,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in s.params.items()],
            "Tags": [{"Key": k, "Value": v} for k, v in s.tags.items()],
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in s.outputs.items()],
            "EnableTerminationProtection": s.protection,
            "NotificationARNs": s.notification_arns,
            **({"RoleARN": s.role} if s.role else {}),
            "CreationTime": self._now(),
        }

    def describe_stack_events(self, StackName: str, NextToken: str | None = None) -> dict[str, Any]:
        self._log("DescribeStackEvents", StackName)
        return {"StackEvents": list(self._find(StackName).events)}

    def get_template(self, StackName: str, TemplateStage: str = "Original") -> dict[str, Any]:
        self._log("GetTemplate", StackName)
        return {"TemplateBody": json.loads(json.dumps(self._find(StackName).template))}

    def get_stack_policy(self, StackName: str) -> dict[str, Any]:
        self._log("GetStackPolicy", StackName)
        policy = self._find(StackName).policy
        return {"StackPolicyBody": policy} if policy else {}

    def _params(self, args: dict[str, Any], old: dict[str, str]) -> dict[str, str]:
        out = {}
        for p in args.get("Parameters", []):
            out[p["ParameterKey"]] = (
                old[p["ParameterKey"]] if p.get("UsePreviousValue") else p["ParameterValue"]
            )
        return out

    def create_stack(self, **args: Any) -> dict[str, Any]:
        name = args["StackName"]
        self._log("CreateStack", name)
        self._settle()
        if name in self.stacks:
            raise ClientError("AlreadyExistsException", f"Stack [{name}] already exists")
        self._ids += 1
        stack = FakeStack(
            name,
            f"arn:{name}:{self._ids}",
            "",
            json.loads(args["TemplateBody"]),
            self._params(args, {}),
            {t["Key"]: t["Value"] for t in args.get("Tags", [])},
            protection=args.get("EnableTerminationProtection", False),
            policy=args.get("StackPolicyBody"),
        )
        self.stacks[name] = stack
        self._start(
            stack,
            "CREATE_IN_PROGRESS",
            "ROLLBACK_COMPLETE" if name in self.fail_create else "CREATE_COMPLETE",
        )
        return {"StackId": stack.stack_id}

    def create_change_set(self, **args: Any) -> dict[str, Any]:
        name = args["StackName"]
        self._log("CreateChangeSet", name)
        stack = self._find(name)
        cs_id = f"cs-{len(self.change_sets) + 1}"
        params = self._params(args, stack.params)
        template = json.loads(args["TemplateBody"])
        tags = {t["Key"]: t["Value"] for t in args.get("Tags", [])}
        same = template == stack.template and params == stack.params and tags == stack.tags
        self.change_sets[cs_id] = {
            "stack": name,
            "status": "FAILED" if same else "CREATE_COMPLETE",
            "reason": "The submitted information didn't contain changes." if same else "",
            "params": params,
            "template": template,
            "tags": tags,
        }
        return {"Id": cs_id, "StackId": stack.stack_id}

    def update_stack(self, **args: Any) -> dict[str, Any]:
        name = args["StackName"]
        self._log("UpdateStack", name)
        self._settle()
        stack = self._find(name)
        params = self._params(args, stack.params)
        template = json.loads(args["TemplateBody"])
        tags = {t["Key"]: t["Value"] for t in args.get("Tags", [])}
        if template == stack.template and params == stack.params and tags == stack.tags:
            raise ClientError("ValidationError", "No updates are to be performed.")
        stack.params, stack.template, stack.tags = params, template, tags
        if "StackPolicyBody" in args:
            stack.policy = args["StackPolicyBody"]
        self._start(
            stack,
            "UPDATE_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE" if stack.name in self.fail_update else "UPDATE_COMPLETE",
        )
        return {"StackId": stack.stack_id}

    def describe_change_set(self, ChangeSetName: str) -> dict[str, Any]:
        self._log("DescribeChangeSet", ChangeSetName)
        cs = self.change_sets[ChangeSetName]
        return {
            "ChangeSetId": ChangeSetName,
            "Status": cs["status"],
            "StatusReason": cs["reason"],
            "ExecutionStatus": "AVAILABLE",
            "Changes": [{}],
        }

    def execute_change_set(
        self, ChangeSetName: str, ClientRequestToken: str | None = None
    ) -> dict[str, Any]:
        cs = self.change_sets.pop(ChangeSetName)
        self._log("ExecuteChangeSet", cs["stack"])
        stack = self._find(cs["stack"])
        stack.params, stack.template, stack.tags = cs["params"], cs["template"], cs["tags"]
        self._start(
            stack,
            "UPDATE_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE" if stack.name in self.fail_update else "UPDATE_COMPLETE",
        )
        return {}

    def delete_change_set(self, ChangeSetName: str) -> dict[str, Any]:
        self._log("DeleteChangeSet", ChangeSetName)
        self.change_sets.pop(ChangeSetName, None)
        return {}

    def delete_stack(
        self, StackName: str, RoleARN: str | None = None, ClientRequestToken: str | None = None
    ) -> dict[str, Any]:
        self._log("DeleteStack", StackName)
        stack = self._find(StackName)
        self._start(stack, "DELETE_IN_PROGRESS", "DELETE_COMPLETE")
        return {}

    def set_stack_policy(self, StackName: str, StackPolicyBody: str) -> dict[str, Any]:
        self._log("SetStackPolicy", StackName)
        self._find(StackName).policy = StackPolicyBody
        return {}

    def update_termination_protection(
        self, StackName: str, EnableTerminationProtection: bool
    ) -> dict[str, Any]:
        self._log("UpdateTerminationProtection", StackName)
        self._find(StackName).protection = EnableTerminationProtection
        return {}


class FakeClients:
    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    def client(self, service: str, location: Any = None) -> Any:
        assert service == "cloudformation", service
        return self.cloud


class InlineStore:
    """A template store that never uploads."""

    def template_location(self, fqn: str, body: str) -> tuple[str | None, str | None]:
        return body, None


class OutputsAccess:
    """AWSAccess for lookups: outputs from the fake cloud (through the gateway's listing)."""

    def __init__(self, gateway: CloudFormationGateway) -> None:
        self.gateway = gateway

    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        from stackyard.aws.session import Location

        stack = self.gateway.cached(fqn, Location(region))
        assert stack is not None, fqn
        return dict(stack.outputs)


@dataclass
class World:
    clock: FakeClock
    cloud: FakeCloud
    gateway: CloudFormationGateway
    interrupt: Interrupt
    tmp: Path

    def project(self, stacks_yaml: str, extra: str = "") -> Any:
        from stackyard.project import Project

        (self.tmp / "t.json").write_text(json.dumps(TEMPLATE))
        config = self.tmp / "stackyard.yaml"
        config.write_text(
            "namespace: t\n"
            + textwrap.dedent(extra)
            + "stacks:\n"
            + textwrap.indent(textwrap.dedent(stacks_yaml), "  ")
        )
        return Project.load(str(config))

    def build(
        self,
        project: Any,
        listener: Any = None,
        *,
        review: Any = None,
        approvals: Any = None,
        **options: Any,
    ) -> Any:
        from stackyard.engine.run import RunOptions, build

        return build(
            project,
            RunOptions(**options),
            self.gateway,
            listener,
            review=review,
            approvals=approvals,
            interrupt=self.interrupt,
            clock=self.clock,
            sleep=self.clock.sleep,
            inline=True,
            store=InlineStore(),  # type: ignore[arg-type]
            access=OutputsAccess(self.gateway),
        )

    def destroy(self, project: Any, **options: Any) -> Any:
        from stackyard.engine.run import RunOptions, destroy

        return destroy(
            project,
            RunOptions(**options),
            self.gateway,
            interrupt=self.interrupt,
            clock=self.clock,
            sleep=self.clock.sleep,
            inline=True,
            access=OutputsAccess(self.gateway),
        )

    def started(self, action: str = "CreateStack") -> dict[str, float]:
        return {stack: t for t, a, stack in self.cloud.calls if a == action}


def make_world(tmp: Path) -> World:
    clock = FakeClock()
    cloud = FakeCloud(clock)
    gateway = CloudFormationGateway(
        FakeClients(cloud),  # type: ignore[arg-type]
        limiter=RateLimiter(1000, 1000, clock=clock, sleep=clock.sleep),
    )
    return World(clock, cloud, gateway, Interrupt(), tmp)
