"""What executing a plan does to one stack, and what a status change means for it.

``BuildOps`` executes a stack's planned action: CreateStack for a creation; for an update
the settings' own calls (termination protection, stack policy) and a change set (created,
waited on, executed, and deleted whenever it is not executed); for a recreation a delete
and then a creation. It never decides again: the only stacks it renders are those whose
plan has values known only after apply, through ``Planner.settle``, which refuses a
result that departs from the plan. ``DestroyOps`` executes deletions. Both run
``prepare`` on worker threads and check the interrupt before every write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from stackyard.aws import idempotent
from stackyard.aws.cloudformation import CloudFormationGateway, DeployedStack, StackEvent
from stackyard.aws.template_store import TemplateStore
from stackyard.desired import DesiredStack
from stackyard.engine.approval import Approvals
from stackyard.engine.scheduler import Again, Done, InFlight, Interrupt, Outcome
from stackyard.engine.status import Failure, Phase
from stackyard.plan.model import Setting, StackAction
from stackyard.plan.planner import Planned, PlannedStack, Planner
from stackyard.plan.protection import RULE_TERMINATION_PROTECTION
from stackyard.submission import protection_tag, stack_submission

__all__ = [
    "BuildOps",
    "DestroyOps",
    "deletion_settled",
    "first_failure",
    "mask_failure",
    "secret_values",
    "start_deletion",
]

_INTERRUPTED = Done(Phase.NOT_STARTED, "interrupted before it was submitted")
# Actions that submit a rendered template, so unknowns must be resolved first.
_RENDERS = (StackAction.CREATE, StackAction.UPDATE, StackAction.RECREATE)


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


def secret_values(planned: PlannedStack) -> tuple[str, ...]:
    """The values of a stack that must never be shown: NoEcho parameters and secrets."""
    from stackyard.lookups.secret import is_secret
    from stackyard.unknown import Unknown

    desired = planned.desired
    if desired is None:
        return ()
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


def _succeeded(status: str) -> bool:
    return status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status


def _needs_change_set(desired: DesiredStack) -> bool:
    """True when only a change set can update the stack: a template with a transform (macros
    expand only there) or with nested stacks (so their changes are reviewed with it)."""
    if desired.requires_change_set:
        return True
    return '"Transform"' in desired.template_body or "AWS::CloudFormation::Stack" in (
        desired.template_body
    )


def _refused(approvals: Approvals, name: str) -> Done | None:
    outcome = approvals.not_approved.get(name)
    if outcome is None:
        return None
    return Done(Phase.CANCELLED, f"not approved: {outcome.decision}")


@dataclass
class BuildOps:
    """Execute one stack's planned creation, update or recreation."""

    planned: Planned
    planner: Planner
    gateway: CloudFormationGateway
    store: TemplateStore
    interrupt: Interrupt
    approvals: Approvals
    namespace: str
    run_id: str
    service_role: str | None = None
    sleep: Callable[[float], None] = time.sleep
    change_set_timeout: float = 600.0
    change_sets: bool = False  # asked for: update through change sets even where not needed
    # The stacks as they run: the plan's, or rendered again once their unknowns are known.
    _current: dict[str, PlannedStack] = field(default_factory=dict)
    _policies: dict[str, str] = field(default_factory=dict)
    # Templates submitted, recorded in the gateway's template cache once they succeed.
    _submitted: dict[str, str] = field(default_factory=dict)
    _waited: set[str] = field(default_factory=set)
    _deleted: set[str] = field(default_factory=set)  # failed stacks deleted to be recreated

    def stack(self, name: str) -> PlannedStack:
        """The stack as it runs now."""
        return self._current.get(name) or self.planned.stack(name)

    def prepare(self, name: str) -> Outcome:
        """Execute ``name``'s plan (after waiting on, or deleting, what is in the way)."""
        refused = _refused(self.approvals, name)
        if refused is not None:
            return refused
        item = self.stack(name)
        plan = item.plan
        action = plan.action
        if action is StackAction.WAIT:
            if name in self._waited:  # it settled: decide now, as the plan could not
                item = self._settle(item, refresh=True)
                action = item.plan.action
            if action is StackAction.WAIT:  # busy (again): follow it until it settles
                self._waited.add(name)
                deployed = item.deployed
                status = deployed.status if deployed else "UPDATE_IN_PROGRESS"
                stack_id = deployed.stack_id if deployed else None
                return InFlight(
                    "wait", plan.fqn, item.location, status, stack_id, detail=item.plan.reason
                )
        elif plan.unknowns and action in _RENDERS:
            item = self._settle(item)
            action = item.plan.action
        plan = item.plan
        if action is StackAction.NO_CHANGE:
            return Done(Phase.NO_CHANGE)
        if action is StackAction.SKIP_LOCKED:
            return Done(Phase.SKIPPED, "locked")
        if action is StackAction.BLOCKED:
            return Done(Phase.FAILED, "blocked", Failure(plan.reason, hint=plan.hint))
        if action is StackAction.DELETE:  # an orphan pruned (build --prune)
            return start_deletion(
                item, self.gateway, self.interrupt, self.run_id, self.service_role
            )
        if self.interrupt.stopping:
            return _INTERRUPTED
        if action is StackAction.RECREATE and name not in self._deleted:
            assert item.deployed is not None
            self._deleted.add(name)
            token = idempotent.run_token(self.run_id, "recreate", plan.fqn)
            idempotent.delete_stack(self.gateway, plan.fqn, item.location, self.service_role, token)
            return InFlight(
                "recreate", plan.fqn, item.location, "DELETE_IN_PROGRESS", item.deployed.stack_id
            )
        if action in (StackAction.CREATE, StackAction.RECREATE):
            return self._create(item)
        return self._update(item)

    def _settle(self, item: PlannedStack, *, refresh: bool = False) -> PlannedStack:
        settled = self.planner.settle(item, refresh=refresh)
        self._current[item.name] = settled
        return settled

    def redact_events(self, name: str, events: Sequence[StackEvent]) -> list[StackEvent]:
        """``events`` with the stack's NoEcho and secret values masked in their reasons."""
        secrets = secret_values(self.stack(name))
        if not secrets:
            return list(events)
        return [replace(e, reason=mask_failure(Failure(e.reason), secrets).reason) for e in events]

    def _create(self, item: PlannedStack) -> Outcome:
        desired = item.desired
        assert desired is not None
        submission = stack_submission(
            desired,
            None,
            item.location,
            self.store,
            namespace=self.namespace,
            protection=protection_tag(desired.protected),
        )
        if self.interrupt.stopping:
            return _INTERRUPTED
        token = idempotent.run_token(self.run_id, "create", desired.fqn)
        stack_id = idempotent.create_stack(self.gateway, submission, token)
        self._submitted[item.name] = desired.template_body
        return InFlight("create", desired.fqn, item.location, "CREATE_IN_PROGRESS", stack_id)

    def _update(self, item: PlannedStack) -> Outcome:
        from stackyard.aws.change_sets import change_set

        desired, deployed, plan = item.desired, item.deployed, item.plan
        assert desired is not None and deployed is not None
        fqn, location = desired.fqn, item.location
        protection = plan.setting(Setting.TERMINATION_PROTECTION)
        if protection is not None:
            self.gateway.update_termination_protection(fqn, location, bool(protection.after))
        policy = desired.stack_policy if plan.setting(Setting.STACK_POLICY) else None
        if not plan.needs_update_call:
            if policy:
                self.gateway.set_stack_policy(fqn, location, policy)
            changed = ", ".join(str(s.name) for s in plan.settings)
            return Done(Phase.COMPLETE, f"settings updated: {changed}")
        submission = stack_submission(
            desired,
            deployed,
            location,
            self.store,
            namespace=self.namespace,
            protection=protection_tag(desired.protected),
            stack_policy=policy,
        )
        if self.interrupt.stopping:
            return _INTERRUPTED
        if not (self.change_sets or _needs_change_set(desired)):
            # The reviewed plan already says what changes: one UpdateStack carries it (and the
            # stack policy), where a change set would cost a create, a describe and an execute.
            token = idempotent.run_token(self.run_id, "update", fqn)
            if not idempotent.update_stack(self.gateway, submission, token):
                return Done(Phase.NO_CHANGE)
            self._submitted[item.name] = desired.template_body
            return InFlight("update", fqn, location, "UPDATE_IN_PROGRESS", deployed.stack_id)
        with change_set(
            self.gateway,
            submission,
            idempotent.change_set_name(self.run_id, fqn),
            timeout=self.change_set_timeout,
            sleep=self.sleep,
            stopping=lambda: self.interrupt.stopping,
            token=idempotent.run_token(self.run_id, "changeset", fqn),
        ) as made:
            if made.empty:
                if policy:
                    self.gateway.set_stack_policy(fqn, location, policy)
                return Done(Phase.NO_CHANGE)
            if not made.ready:
                if self.interrupt.stopping:
                    return _INTERRUPTED
                return Done(Phase.FAILED, "change set failed", Failure(made.reason))
            if self.interrupt.stopping:
                return _INTERRUPTED
            made.execute(idempotent.run_token(self.run_id, "update", fqn))
        self._submitted[item.name] = desired.template_body
        if policy:
            self._policies[item.name] = policy
        return InFlight("update", fqn, location, "UPDATE_IN_PROGRESS", deployed.stack_id)

    def settled(
        self,
        name: str,
        flight: InFlight,
        stack: DeployedStack | None,
        events: Sequence[StackEvent],
    ) -> Outcome | None:
        """What a status change of a stack being built means."""
        if flight.op == "delete":
            return deletion_settled(self.gateway, flight, stack, events)
        status = stack.status if stack is not None else "DELETE_COMPLETE"
        secrets = secret_values(self.stack(name))
        if flight.op == "wait":
            return None if status.endswith("_IN_PROGRESS") else Again(f"was {flight.status}")
        if flight.op == "recreate":
            if stack is None:
                self.gateway.remember(flight.location, flight.fqn, None)
                return Again("deleted; creating it again")
            if status == "DELETE_FAILED":
                return Done(
                    Phase.FAILED, status, mask_failure(first_failure(events, stack), secrets)
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
        return Done(Phase.FAILED, status, mask_failure(first_failure(events, stack), secrets))


@dataclass
class DestroyOps:
    """Execute one stack's planned deletion (every approval was settled before the run)."""

    planned: Planned
    gateway: CloudFormationGateway
    interrupt: Interrupt
    approvals: Approvals
    run_id: str
    service_role: str | None = None
    disable_termination_protection: bool = False

    def redact_events(self, name: str, events: Sequence[StackEvent]) -> list[StackEvent]:
        """Deleting renders nothing, so there are no values of this run to mask."""
        return list(events)

    def prepare(self, name: str) -> Outcome:
        """Delete ``name``: termination protection off first where the plan approved it."""
        refused = _refused(self.approvals, name)
        if refused is not None:
            return refused
        return start_deletion(
            self.planned.stack(name),
            self.gateway,
            self.interrupt,
            self.run_id,
            self.service_role,
            disable_termination_protection=self.disable_termination_protection,
        )

    def settled(
        self,
        name: str,
        flight: InFlight,
        stack: DeployedStack | None,
        events: Sequence[StackEvent],
    ) -> Outcome | None:
        """Deleted, failed, or still going."""
        return deletion_settled(self.gateway, flight, stack, events)


def start_deletion(
    item: PlannedStack,
    gateway: CloudFormationGateway,
    interrupt: Interrupt,
    run_id: str,
    service_role: str | None,
    *,
    disable_termination_protection: bool = False,
) -> Outcome:
    """Delete one stack as planned (a destroy, or a prune within a build): termination
    protection off first where the plan approved that."""
    deployed = item.deployed
    if item.plan.action is not StackAction.DELETE or deployed is None:
        return Done(Phase.NO_CHANGE, item.plan.reason)
    fqn, location = item.plan.fqn, item.location
    if deployed.status == "DELETE_IN_PROGRESS":
        return InFlight("delete", fqn, location, deployed.status, deployed.stack_id)
    if interrupt.stopping:
        return _INTERRUPTED
    if deployed.termination_protection:
        approved = disable_termination_protection or any(
            i.rule_id == RULE_TERMINATION_PROTECTION for i in item.plan.protection.items
        )
        if not approved:
            return Done(
                Phase.FAILED,
                "protected",
                Failure(
                    "termination protection is on",
                    hint="rerun with --disable-termination-protection to delete it anyway",
                ),
            )
        gateway.update_termination_protection(fqn, location, False)
    token = idempotent.run_token(run_id, "delete", fqn)
    idempotent.delete_stack(gateway, fqn, location, service_role, token)
    return InFlight("delete", fqn, location, "DELETE_IN_PROGRESS", deployed.stack_id)


def deletion_settled(
    gateway: CloudFormationGateway,
    flight: InFlight,
    stack: DeployedStack | None,
    events: Sequence[StackEvent],
) -> Outcome | None:
    """A deletion's outcome: deleted, failed, or None while it is still going."""
    if stack is None:
        gateway.remember(flight.location, flight.fqn, None)
        return Done(Phase.COMPLETE, "deleted")
    if stack.status.endswith("_IN_PROGRESS"):
        return None
    return Done(Phase.FAILED, stack.status, first_failure(events, stack))
