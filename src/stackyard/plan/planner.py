"""The planner: the selected stacks' desired state against what is deployed, as a ``Plan``.

Reads are few and shared: one listing per location (one paginated DescribeStacks), then
per existing stack one GetTemplate, plus one GetStackPolicy where the config sets a policy.
Stacks are rendered in build order; an upstream stack that changes in this plan is
*pending*, so lookups of its outputs are "known after apply". Each stack gets its diff,
its protection verdict and its fingerprint (what ``apply PLANFILE`` checks).

With ``change_sets``, each update is cross-checked with a CloudFormation change set, which
is always deleted again: the planner never leaves one behind, and never writes anything
else.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.cloudformation import DeployedStack as DescribedStack
from stackyard.aws.errors import AWSCallError
from stackyard.aws.session import Location
from stackyard.aws.template_store import TemplateStore
from stackyard.desired import DesiredStack
from stackyard.plan.actions import (
    ActionKind,
    classify,
    submitted_parameters,
    submitted_tags,
)
from stackyard.plan.diff import DeployedStack, diff_stack, merge_change_set
from stackyard.plan.fingerprint import stack_fingerprint
from stackyard.plan.model import Plan, StackAction, StackFingerprint, StackPlan
from stackyard.plan.protection import ProjectProtection, assess

if TYPE_CHECKING:
    from stackyard.lookups.context import AWSAccess
    from stackyard.project import Project

__all__ = [
    "PlanOptions",
    "Planner",
    "plan_stack",
    "project_protection",
    "with_protection_defaults",
]

_NO_CHANGES = ("didn't contain changes", "no updates are to be performed", "submitted information")
# Statuses whose template cannot be read (or means nothing yet).
_NO_TEMPLATE = frozenset({"DELETE_IN_PROGRESS", "REVIEW_IN_PROGRESS"})


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of a plan (the same choices ``build`` takes)."""

    stacks: tuple[str, ...] = ()
    recreate_failed: bool = False
    force: frozenset[str] = frozenset()  # locked stacks planned as if unlocked
    change_sets: bool = False
    change_set_timeout: float = 120.0


def project_protection(project: Project) -> ProjectProtection:
    """The config's project-wide ``protection`` as the protection module takes it."""
    config = project.loaded.config.protection
    return ProjectProtection(rules=tuple(config.rules), deletion=config.deletion)


def with_protection_defaults(project: Project, desired: DesiredStack) -> DesiredStack:
    """``desired`` with termination protection on when the stack is protected, unless the
    config turns it off explicitly (``termination_protection: false``)."""
    setting = project.stack(desired.name).termination_protection
    if desired.protected and setting is None and not desired.termination_protection:
        return replace(desired, termination_protection=True)
    return desired


def plan_stack(
    project: Project,
    desired: DesiredStack | None,
    described: DescribedStack | None,
    *,
    template: Any = None,
    stack_policy: Any = None,
    forced: bool = False,
    recreate_failed: bool = False,
    protected: bool | tuple[str, ...] | None = None,
) -> StackPlan:
    """One stack's plan from its desired state and what CloudFormation described."""
    deployed = (
        DeployedStack.from_described(described, template or {}, stack_policy)
        if described is not None
        else None
    )
    wait = desired is not None and desired.in_progress_behavior == "wait"
    return diff_stack(
        desired,
        deployed,
        secrets=_secret_texts(desired),
        forced=forced,
        recreate_failed=recreate_failed,
        wait_in_progress=wait,
        protected=protected,
        project_protection=project_protection(project),
    )


def _secret_texts(desired: DesiredStack | None) -> list[str]:
    from stackyard.template_secrets import secrets_in

    if desired is None:
        return []
    return [str.__str__(s) for s in secrets_in(desired.parameters)]


@dataclass(frozen=True)
class _Seen:
    """One stack as the planner saw it, for the plan and the fingerprint."""

    plan: StackPlan
    fingerprint: StackFingerprint


class Planner:
    """Builds plans for one project through one gateway."""

    def __init__(
        self,
        project: Project,
        gateway: CloudFormationGateway,
        *,
        access: AWSAccess,
        store: TemplateStore | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.project = project
        self.gateway = gateway
        self.access = access
        self.store = store
        self.now = now
        self.sleep = sleep

    def plan(self, options: PlanOptions) -> Plan:
        """The plan of the selected stacks (all when none are named) and what they need."""
        project = self.project
        graph = project.selected(options.stacks)
        names = graph.stacks
        locations = {name: self.location(name) for name in names}
        for location in sorted(set(locations.values()), key=lambda x: x.sort_key):
            self.gateway.list_stacks(location)
        pending: set[str] = set()
        blocked: set[str] = set()
        seen: dict[str, _Seen] = {}
        for name in names:
            upstream = _upstream(graph.needs, graph.targets, name)
            stuck = sorted(upstream & blocked)
            item = self._stack(name, locations[name], options, pending | set(stuck))
            plan = item.plan
            if stuck and plan.will_change:
                plan = replace(
                    plan,
                    action=StackAction.BLOCKED,
                    reason=f"waits for {', '.join(stuck)}, which cannot change",
                )
            if plan.will_change:
                pending.add(name)
            elif plan.action is StackAction.BLOCKED:
                blocked.add(name)
            seen[name] = _Seen(plan, item.fingerprint)
        return Plan.create(
            [s.plan for s in seen.values()],
            now=self.now(),
            fingerprints={n: s.fingerprint for n, s in seen.items()},
        )

    def fingerprints(self, options: PlanOptions) -> dict[str, StackFingerprint]:
        """Fresh fingerprints of the selected stacks (what ``apply`` compares)."""
        plan = self.plan(replace(options, change_sets=False))
        return dict(plan.fingerprints)

    # -- one stack ------------------------------------------------------------------------

    def location(self, name: str) -> Location:
        """Where a stack lives: its own region/profile, else the run's."""
        stack = self.project.stack(name)
        return Location(stack.region or self.project.region, stack.profile or self.project.profile)

    def _stack(
        self,
        name: str,
        location: Location,
        options: PlanOptions,
        pending: Iterable[str],
    ) -> _Seen:
        project = self.project
        config = project.stack(name)
        fqn = project.fqn(name)
        described = self.gateway.cached(fqn, location)
        forced = name in options.force
        if config.locked and not forced and not (config.class_path or config.template_path):
            # Nothing to render: stacker's "locked, read only" stack.
            if described is None:
                plan = StackPlan(
                    name,
                    fqn,
                    StackAction.BLOCKED,
                    f"locked stack {fqn} does not exist and has no template to create it from",
                )
            else:
                plan = StackPlan(name, fqn, StackAction.SKIP_LOCKED, "locked (no template)")
            return _Seen(plan, stack_fingerprint(None, None))
        desired = project.render(name, project.resolve_context(aws=self.access, pending=pending))
        desired = with_protection_defaults(project, desired)
        decided = classify(
            described,
            locked=desired.locked,
            forced=forced,
            recreate_failed=options.recreate_failed,
            wait_in_progress=desired.in_progress_behavior == "wait",
        )
        template: Any = {}
        policy: Any = None
        recreate = decided is not None and decided.kind is ActionKind.RECREATE
        if described is not None and not recreate and described.status not in _NO_TEMPLATE:
            template = self._read(
                lambda: self.gateway.get_template(fqn, location, stack=described), {}
            )
            if desired.stack_policy:
                policy = self._read(lambda: self.gateway.get_stack_policy(fqn, location), None)
        plan = plan_stack(
            project,
            desired,
            described,
            template=template,
            stack_policy=policy,
            forced=forced,
            recreate_failed=options.recreate_failed,
        )
        deployed = DeployedStack.from_described(described, template, policy) if described else None
        if (
            options.change_sets
            and described is not None
            and plan.action is StackAction.UPDATE
            and not desired.has_unknowns
        ):
            plan = self._cross_check(plan, desired, described, location, deployed, options)
        return _Seen(plan, stack_fingerprint(desired, deployed))

    @staticmethod
    def _read(call: Callable[[], Any], default: Any) -> Any:
        try:
            return call()
        except AWSCallError:
            return default

    # -- change sets ----------------------------------------------------------------------

    def _template_store(self) -> TemplateStore:
        if self.store is None:
            context = self.project.context
            self.store = TemplateStore(
                self.gateway.clients,
                bucket=context.bucket_name,
                namespace=context.namespace,
                bucket_region=context.bucket_region or self.project.region,
                profile=self.project.profile,
            )
        return self.store

    def _cross_check(
        self,
        plan: StackPlan,
        desired: DesiredStack,
        described: DescribedStack,
        location: Location,
        deployed: DeployedStack | None,
        options: PlanOptions,
    ) -> StackPlan:
        """``plan`` merged with what a change set says; the change set is always deleted."""
        from stackyard.aws.cloudformation import StackSubmission

        body, url = self._template_store().template_location(desired.fqn, desired.template_body)
        submission = StackSubmission(
            fqn=desired.fqn,
            location=location,
            template_body=body,
            template_url=url,
            parameters=submitted_parameters(desired, described),
            tags=submitted_tags(desired, described, self.project.context.namespace),
            capabilities=desired.capabilities,
            notification_arns=desired.notification_arns,
            role_arn=desired.service_role,
        )
        name = f"stackyard-plan-{uuid.uuid4().hex[:12]}"
        change_set = self.gateway.create_change_set(submission, name)
        try:
            status, reason = self._wait(change_set, location, options.change_set_timeout)
            if status == "CREATE_COMPLETE":
                changes = self.gateway.change_set_changes(change_set, location)
            elif any(text in reason.lower() for text in _NO_CHANGES):
                changes = []
            else:
                return replace(plan, hint=f"the change set failed: {reason}")
        finally:
            self.gateway.delete_change_set(change_set, location, desired.fqn)
        merged = merge_change_set(plan, changes)
        resources = set((deployed.template if deployed else {}).get("Resources") or {})
        resources |= set(_template(desired).get("Resources") or {})
        verdict = assess(
            merged,
            desired.protected,
            project=project_protection(self.project),
            termination_protection=described.termination_protection,
            logical_ids=resources,
        )
        return replace(merged, protection=verdict)

    def _wait(self, change_set: str, location: Location, timeout: float) -> tuple[str, str]:
        waited, delay = 0.0, 0.05
        while True:
            info = self.gateway.describe_change_set(change_set, location)
            if info.status in ("CREATE_COMPLETE", "FAILED"):
                return info.status, info.reason
            if waited >= timeout:
                return "FAILED", f"change set still {info.status} after {waited:.0f}s"
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 1.0)


def _template(desired: DesiredStack) -> dict[str, Any]:
    from stackyard.plan.actions import normalise_template

    body = normalise_template(desired.template_body)
    return body if isinstance(body, dict) else {}


def _upstream(needs: dict[str, frozenset[str]], targets: frozenset[str], name: str) -> set[str]:
    """Every stack ``name`` needs, directly or through targets and other stacks."""
    out: set[str] = set()
    stack = list(needs.get(name, ()))
    while stack:
        node = stack.pop()
        if node in out:
            continue
        out.add(node)
        stack.extend(needs.get(node, ()))
    return out - targets
