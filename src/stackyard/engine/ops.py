"""What build and destroy do to one stack, and what a status change means for it.

``BuildOps`` decides with ``stackyard.plan.actions`` and submits: CreateStack
for a new stack; a change set for an update (created, waited on, executed, and
deleted whenever it is not executed); termination protection and the stack
policy with calls of their own. ``DestroyOps`` deletes. Both run ``prepare`` on
worker threads and check the interrupt before every write.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from stackyard.aws.cloudformation import (
    CloudFormationGateway,
    DeployedStack,
    StackEvent,
    StackSubmission,
)
from stackyard.aws.session import Location
from stackyard.aws.template_store import TemplateStore
from stackyard.engine.approval import Approvals, Decision
from stackyard.engine.scheduler import Again, Done, InFlight, Interrupt, Outcome
from stackyard.engine.status import Failure, Phase
from stackyard.plan.actions import (
    ActionKind,
    classify,
    compare,
    submitted_parameters,
    submitted_tags,
)
from stackyard.plan.planner import plan_stack, with_protection_defaults

if TYPE_CHECKING:
    from stackyard.desired import DesiredStack
    from stackyard.lookups.context import AWSAccess
    from stackyard.plan.model import StackPlan
    from stackyard.project import Project

__all__ = ["BuildOps", "DestroyOps", "first_failure"]

_NO_CHANGES = ("didn't contain changes", "no updates are to be performed", "submitted information")
_INTERRUPTED = Done(Phase.NOT_STARTED, "interrupted before it was submitted")


def first_failure(events: Sequence[StackEvent], stack: DeployedStack | None) -> Failure:
    """The first resource failure of an operation (events oldest first), else the status."""
    for event in events:
        if event.is_failure and not event.is_stack and event.reason:
            return Failure(event.reason, event.logical_id)
    for event in events:
        if event.is_failure and event.reason:
            return Failure(event.reason, None if event.is_stack else event.logical_id)
    if stack is not None:
        return Failure(stack.status_reason or stack.status)
    return Failure("the stack disappeared")


def secret_values(desired: DesiredStack) -> tuple[str, ...]:
    """The values of a stack that must never be shown: NoEcho parameters and secrets."""
    from stackyard.lookups.secret import is_secret
    from stackyard.unknown import Unknown

    values = []
    for key, value in desired.parameters.items():
        shown = isinstance(value, str) and value and not isinstance(value, Unknown)
        if shown and (key in desired.no_echo or is_secret(value)):
            values.append(str.__str__(value))
    return tuple(values)


def mask_failure(failure: Failure, secrets: Sequence[str]) -> Failure:
    """``failure`` with every secret value in its text replaced by ``****``."""
    from stackyard.lookups.secret import MASK

    reason, hint = failure.reason, failure.hint
    for secret in sorted(secrets, key=len, reverse=True):
        reason = reason.replace(secret, MASK)
        hint = hint.replace(secret, MASK) if hint else hint
    return Failure(reason, failure.resource, hint)


def _gate(approvals: Approvals | None, plan: Callable[[], StackPlan]) -> Done | None:
    """None when the stack may run; else why not (its dependents are cancelled with it).

    Without ``approvals`` there is no gate (library use: the caller decides) and the plan
    is not even computed.
    """
    if approvals is None:
        return None
    decision = approvals.decide(plan())
    if decision is Decision.APPROVED:
        return None
    return Done(Phase.CANCELLED, f"not approved: {decision}")


def _succeeded(status: str) -> bool:
    return status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status


@dataclass
class BuildOps:
    """Create or update one stack."""

    project: Project
    gateway: CloudFormationGateway
    store: TemplateStore
    access: AWSAccess
    locations: Mapping[str, Location]
    interrupt: Interrupt
    recreate_failed: bool = False
    force: frozenset[str] = frozenset()
    sleep: Callable[[float], None] = time.sleep
    change_set_timeout: float = 600.0
    approvals: Approvals | None = None
    _policies: dict[str, str] = field(default_factory=dict)
    # Templates submitted, recorded in the gateway's template cache once they succeed.
    _submitted: dict[str, str] = field(default_factory=dict)
    # Each stack's NoEcho and secret values: CloudFormation may quote them in a failure
    # reason (a bucket named by a NoEcho parameter "already exists"), so reasons are masked.
    _secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _approved: set[str] = field(default_factory=set)  # recreated stacks, approved once

    def prepare(self, name: str) -> Outcome:
        """Decide what to do with ``name`` and submit it."""
        config = self.project.stack(name)
        fqn = self.project.fqn(name)
        location = self.locations[name]
        deployed = self.gateway.cached(fqn, location)
        action = classify(
            deployed,
            locked=config.locked,
            forced=name in self.force,
            recreate_failed=self.recreate_failed,
            wait_in_progress=config.in_progress_behavior == "wait",
        )
        if action is not None and deployed is not None:
            if action.kind is ActionKind.SKIP_LOCKED:
                return Done(Phase.SKIPPED, "locked")
            if action.kind is ActionKind.BLOCKED:
                return Done(Phase.FAILED, deployed.status, Failure(action.reason, hint=action.hint))
            if action.kind is ActionKind.WAIT:
                return InFlight("wait", fqn, location, deployed.status, deployed.stack_id)
            if action.kind is ActionKind.RECREATE:
                desired = self._render(name)
                refused = _gate(
                    self.approvals,
                    lambda: plan_stack(self.project, desired, deployed, recreate_failed=True),
                )
                if refused is not None:
                    return refused
                self._approved.add(name)
                if self.interrupt.stopping:
                    return _INTERRUPTED
                self.gateway.delete_stack(fqn, location, self.project.loaded.config.service_role)
                return InFlight("recreate", fqn, location, "DELETE_IN_PROGRESS", deployed.stack_id)
        if (
            config.locked
            and name not in self.force
            and deployed is None
            and not (config.class_path or config.template_path)
        ):
            return Done(
                Phase.FAILED,
                failure=Failure(
                    f"locked stack {fqn} does not exist and has no template to create it from"
                ),
            )
        desired = self._render(name)
        if desired.has_unknowns:
            return Done(Phase.FAILED, failure=Failure("some values are still unknown"))
        if deployed is None:
            if name not in self._approved:
                refused = _gate(
                    self.approvals,
                    lambda: plan_stack(self.project, desired, None, forced=name in self.force),
                )
                if refused is not None:
                    return refused
            return self._create(desired, location)
        read: dict[str, object] = {}

        def fetch(what: str, call: Callable[[], object]) -> Callable[[], object]:
            def once() -> object:
                if what not in read:
                    read[what] = call()
                return read[what]

            return once

        template = fetch(
            "template", lambda: self.gateway.get_template(fqn, location, stack=deployed)
        )
        policy = fetch("policy", lambda: self.gateway.get_stack_policy(fqn, location))
        decision = compare(
            desired,
            deployed,
            fetch_template=template,
            fetch_stack_policy=policy,  # type: ignore[arg-type]
        )
        if decision.kind is ActionKind.NO_CHANGE:
            return Done(Phase.NO_CHANGE)
        refused = _gate(
            self.approvals,
            lambda: plan_stack(
                self.project,
                desired,
                deployed,
                template=template(),
                stack_policy=policy() if desired.stack_policy else None,
                forced=name in self.force,
            ),
        )
        if refused is not None:
            return refused
        if self.interrupt.stopping:
            return _INTERRUPTED
        if decision.set_termination_protection is not None:
            self.gateway.update_termination_protection(
                fqn, location, decision.set_termination_protection
            )
        if not decision.needs_change_set:
            if decision.set_stack_policy and desired.stack_policy:
                self.gateway.set_stack_policy(fqn, location, desired.stack_policy)
            return Done(Phase.COMPLETE, "settings updated: " + ", ".join(decision.changes))
        return self._update(desired, deployed, location, decision.set_stack_policy)

    def redact_events(self, name: str, events: Sequence[StackEvent]) -> list[StackEvent]:
        """``events`` with the stack's NoEcho and secret values masked in their reasons."""
        secrets = self._secrets.get(name, ())
        if not secrets:
            return list(events)
        return [replace(e, reason=mask_failure(Failure(e.reason), secrets).reason) for e in events]

    def _render(self, name: str) -> DesiredStack:
        desired = self.project.render(name, self.project.resolve_context(aws=self.access))
        self._secrets[name] = secret_values(desired)
        return with_protection_defaults(self.project, desired)

    def _submission(
        self, desired: DesiredStack, deployed: DeployedStack | None, location: Location
    ) -> StackSubmission:
        body, url = self.store.template_location(desired.fqn, desired.template_body)
        return StackSubmission(
            fqn=desired.fqn,
            location=location,
            template_body=body,
            template_url=url,
            parameters=submitted_parameters(desired, deployed),
            tags=submitted_tags(desired, deployed, self.project.context.namespace),
            capabilities=desired.capabilities,
            notification_arns=desired.notification_arns,
            role_arn=desired.service_role,
            termination_protection=desired.termination_protection,
            stack_policy=desired.stack_policy,
        )

    def _create(self, desired: DesiredStack, location: Location) -> Outcome:
        submission = self._submission(desired, None, location)
        if self.interrupt.stopping:
            return _INTERRUPTED
        stack_id = self.gateway.create_stack(submission)
        self._submitted[desired.name] = desired.template_body
        return InFlight("create", desired.fqn, location, "CREATE_IN_PROGRESS", stack_id)

    def _update(
        self,
        desired: DesiredStack,
        deployed: DeployedStack,
        location: Location,
        set_policy: bool,
    ) -> Outcome:
        submission = self._submission(desired, deployed, location)
        if self.interrupt.stopping:
            return _INTERRUPTED
        name = f"stackyard-{desired.template_hash}-{uuid.uuid4().hex[:8]}"
        change_set = self.gateway.create_change_set(submission, name)
        executed = False
        try:
            info = self._wait_for_change_set(change_set, location)
            if info is None:
                return _INTERRUPTED
            if info.status == "FAILED":
                if any(text in info.reason.lower() for text in _NO_CHANGES):
                    if set_policy and desired.stack_policy:
                        self.gateway.set_stack_policy(desired.fqn, location, desired.stack_policy)
                    return Done(Phase.NO_CHANGE)
                return Done(Phase.FAILED, "change set failed", Failure(info.reason))
            if self.interrupt.stopping:
                return _INTERRUPTED
            self.gateway.execute_change_set(change_set, location, desired.fqn)
            executed = True
            self._submitted[desired.name] = desired.template_body
        finally:
            if not executed:
                self.gateway.delete_change_set(change_set, location, desired.fqn)
        if desired.stack_policy:
            self._policies[desired.name] = desired.stack_policy
        return InFlight("update", desired.fqn, location, "UPDATE_IN_PROGRESS", deployed.stack_id)

    def _wait_for_change_set(self, change_set: str, location: Location) -> _ChangeSet | None:
        waited = 0.0
        delay = 0.1
        while True:
            info = self.gateway.describe_change_set(change_set, location)
            if info.status in ("CREATE_COMPLETE", "FAILED"):
                return _ChangeSet(info.status, info.reason)
            if self.interrupt.stopping:
                return None
            if waited >= self.change_set_timeout:
                return _ChangeSet("FAILED", f"change set still {info.status} after {waited:.0f}s")
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)

    def settled(
        self,
        name: str,
        flight: InFlight,
        stack: DeployedStack | None,
        events: Sequence[StackEvent],
    ) -> Outcome | None:
        """What a status change of a stack being built means."""
        status = stack.status if stack is not None else "DELETE_COMPLETE"
        if flight.op == "wait":
            return None if status.endswith("_IN_PROGRESS") else Again(f"was {flight.status}")
        if flight.op == "recreate":
            if stack is None:
                self.gateway.remember(flight.location, flight.fqn, None)
                return Again("deleted; creating it again")
            if status == "DELETE_FAILED":
                return Done(
                    Phase.FAILED,
                    status,
                    mask_failure(first_failure(events, stack), self._secrets.get(name, ())),
                )
            return None
        if status.endswith("_IN_PROGRESS"):
            return None
        if _succeeded(status):
            submitted = self._submitted.pop(name, None)
            if submitted is not None and stack is not None:
                self.gateway.remember_template(stack, submitted)
            policy = self._policies.pop(name, None)
            if flight.op == "update" and policy:
                self.gateway.set_stack_policy(flight.fqn, flight.location, policy)
            return Done(Phase.COMPLETE, "created" if flight.op == "create" else "updated")
        return Done(
            Phase.FAILED,
            status,
            mask_failure(first_failure(events, stack), self._secrets.get(name, ())),
        )


@dataclass(frozen=True)
class _ChangeSet:
    status: str
    reason: str


@dataclass
class DestroyOps:
    """Delete one stack."""

    project: Project
    gateway: CloudFormationGateway
    locations: Mapping[str, Location]
    interrupt: Interrupt
    disable_termination_protection: bool = False
    approvals: Approvals | None = None

    def redact_events(self, name: str, events: Sequence[StackEvent]) -> list[StackEvent]:
        """Deleting renders nothing, so there are no values of this run to mask."""
        return list(events)

    def prepare(self, name: str) -> Outcome:
        """Delete ``name`` (after turning off termination protection if told to, and after
        approval when the stack is protected)."""
        fqn = self.project.fqn(name)
        location = self.locations[name]
        deployed = self.gateway.cached(fqn, location)
        if deployed is None:
            return Done(Phase.NO_CHANGE, "does not exist")
        if deployed.status == "DELETE_IN_PROGRESS":
            return InFlight("delete", fqn, location, deployed.status, deployed.stack_id)
        if deployed.termination_protection and not self.disable_termination_protection:
            return Done(
                Phase.FAILED,
                "protected",
                Failure(
                    "termination protection is on",
                    hint="rerun with --disable-termination-protection to delete it anyway",
                ),
            )
        refused = self._gate(name, deployed, location)
        if refused is not None:
            return refused
        if deployed.termination_protection:
            if self.interrupt.stopping:
                return _INTERRUPTED
            self.gateway.update_termination_protection(fqn, location, False)
        if self.interrupt.stopping:
            return _INTERRUPTED
        self.gateway.delete_stack(fqn, location, self.project.loaded.config.service_role)
        return InFlight("delete", fqn, location, "DELETE_IN_PROGRESS", deployed.stack_id)

    def _gate(self, name: str, deployed: DeployedStack, location: Location) -> Done | None:
        """Ask before deleting a protected stack (one GetTemplate, only for those)."""
        from dataclasses import replace

        protected = self.project.stack(name).protected
        if not protected:
            return None

        def plan() -> StackPlan:
            made = plan_stack(
                self.project,
                None,
                deployed,
                template=self.gateway.get_template(deployed.name, location),
                protected=protected if isinstance(protected, bool) else tuple(protected),
            )
            # --disable-termination-protection is the explicit approval of that part.
            items = tuple(i for i in made.protection.items if i.rule != "termination protection")
            return replace(made, name=name, protection=replace(made.protection, items=items))

        return _gate(self.approvals, plan)

    def settled(
        self,
        name: str,
        flight: InFlight,
        stack: DeployedStack | None,
        events: Sequence[StackEvent],
    ) -> Outcome | None:
        """Deleted, failed, or still going."""
        if stack is None:
            self.gateway.remember(flight.location, flight.fqn, None)
            return Done(Phase.COMPLETE, "deleted")
        if stack.status.endswith("_IN_PROGRESS"):
            return None
        return Done(Phase.FAILED, stack.status, first_failure(events, stack))
