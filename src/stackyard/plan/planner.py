"""The planner: the selected stacks' desired state against what is deployed, as a ``Plan``.

Reads are few and shared: one listing per location (one paginated DescribeStacks), then
per existing stack one GetTemplate (none when the local template cache knows it), plus one
GetStackPolicy where the config sets a policy. Stacks are planned in build order.

Values known only after apply are as few as they really are: an upstream stack that is
created makes all its outputs unknown; one that is updated makes unknown only the outputs
whose value can change (the definition changed, or something it reads is replaced, or a
property it reads changes). Every other lookup reads the deployed value.

:meth:`Planner.prepare` returns a :class:`Planned`: the plan (plain data, for people,
files and approvals) and, per stack, what executing it needs (the rendered desired state
and the deployed snapshot). The engine executes that; :meth:`Planner.settle` renders a
stack again once its unknowns are known and checks the result against the plan.

The planner never writes. Only with ``change_sets`` (asked for by ``diff --change-sets``)
is each update cross-checked with a CloudFormation change set, which is always deleted.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stackyard.aws.cloudformation import CloudFormationGateway, DeployedStack
from stackyard.aws.errors import AWSCallError
from stackyard.aws.session import Location
from stackyard.aws.template_store import TemplateStore
from stackyard.desired import DesiredStack
from stackyard.errors import StackyardError
from stackyard.plan.actions import classify
from stackyard.plan.change_sets import merge_change_set
from stackyard.plan.diff import diff_stack, snapshot
from stackyard.plan.fingerprint import stack_fingerprint
from stackyard.plan.kept import broken_promises
from stackyard.plan.model import (
    ChangeAction,
    Plan,
    PlanInputs,
    StackAction,
    StackFingerprint,
    StackPlan,
)
from stackyard.plan.protection import (
    ProjectProtection,
    assess,
    merge_protection,
)
from stackyard.submission import PROTECTION_TAG, protection_from_tag
from stackyard.unknown import Unknown

if TYPE_CHECKING:
    from stackyard.graph import Graph
    from stackyard.lookups.context import AWSAccess
    from stackyard.project import Project

__all__ = [
    "PlanBroken",
    "PlanOptions",
    "Planned",
    "PlannedStack",
    "Planner",
    "destroy_selection",
    "plan_stack",
    "project_protection",
    "with_deployed_digests",
    "with_protection_defaults",
]

# Statuses whose template cannot be read (or means nothing yet).
_NO_TEMPLATE = frozenset({"DELETE_IN_PROGRESS", "REVIEW_IN_PROGRESS"})
_UNKNOWN_TEXT = re.compile(r"\(known after apply: ([^()]*(?:\([^()]*\)[^()]*)*)\)")


class PlanBroken(StackyardError):
    """A stack, rendered again once its unknowns were known, is not what the plan showed."""


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of a plan (the same choices ``build`` and ``destroy`` take)."""

    stacks: tuple[str, ...] = ()
    recreate_failed: bool = False
    force: frozenset[str] = frozenset()  # locked stacks planned as if unlocked
    change_sets: bool = False
    change_set_timeout: float = 120.0
    destroy: bool = False
    wait: bool = True  # a stack found busy is waited on; False (--no-wait) refuses it
    locked_delta: bool = True  # read locked stacks' templates to show what they hold back
    prune: bool = False  # also delete this namespace's stacks the config no longer names


@dataclass(frozen=True)
class PlannedStack:
    """One stack's plan and what executing it needs."""

    plan: StackPlan
    location: Location
    desired: DesiredStack | None = None
    deployed: DeployedStack | None = None  # with its template, as the plan saw it
    protected: bool | tuple[str, ...] = False  # in force: the config's and the deployed one
    forced: bool = False  # a locked stack planned as if unlocked (--force)
    wait: bool = True  # a busy stack is waited on

    @property
    def name(self) -> str:
        """The stack's name in the config."""
        return self.plan.name


@dataclass(frozen=True)
class Planned:
    """A plan and the working data to execute it, in the order and graph to run it."""

    plan: Plan
    stacks: Mapping[str, PlannedStack]
    order: tuple[str, ...]  # the run order (reversed for a destroy)
    waits_for: Mapping[str, frozenset[str]]  # what each node starts after
    targets: frozenset[str] = frozenset()  # graph nodes with no stack
    destroy: bool = False

    def stack(self, name: str) -> PlannedStack:
        """The planned stack called ``name``."""
        return self.stacks[name]


def project_protection(project: Project) -> ProjectProtection:
    """The config's project-wide ``protection`` as the protection module takes it."""
    config = project.loaded.config.protection
    return ProjectProtection(rules=tuple(config.rules), deletion=config.deletion)


def with_protection_defaults(
    project: Project, desired: DesiredStack, deployed: DeployedStack | None = None
) -> DesiredStack:
    """``desired`` with termination protection on when the stack is protected, unless the
    config turns it off explicitly (``termination_protection: false``).

    A stack another tool deployed (stacker has no termination protection setting) keeps
    the termination protection it has unless the config sets it: adopting a stack changes
    nothing the config does not ask for.
    """
    from stackyard.plan.actions import is_owned

    setting = project.stack(desired.name).termination_protection
    if setting is not None:
        return desired
    if deployed is not None and not is_owned(deployed):
        if desired.termination_protection != deployed.termination_protection:
            return replace(desired, termination_protection=deployed.termination_protection)
        return desired
    if desired.protected and not desired.termination_protection:
        return replace(desired, termination_protection=True)
    return desired


def _check_kept_parameters(
    project: Project, desired: DesiredStack, deployed: DeployedStack | None
) -> None:
    """A parameter with no value and no Default can only keep the deployed stack's value:
    a stack that does not exist (or lacks the parameter) needs a value, as CloudFormation
    and stacker refuse it without one."""
    missing = sorted(
        p for p in desired.kept_parameters if deployed is None or p not in deployed.parameters
    )
    if not missing:
        return
    from stackyard.errors import ConfigError

    file, line = project.loaded.where(desired.name)
    listed = ", ".join(repr(p) for p in missing)
    verb = "have" if len(missing) > 1 else "has"
    raise ConfigError(
        f"parameter{'s' if len(missing) > 1 else ''} {listed} {verb} no value and no Default",
        file=file,
        line=line,
        stack=desired.name,
        hint=f"set {missing[0]} under `variables:` of the stack (a stack that already has it "
        "keeps its deployed value)",
    )


def with_deployed_digests(desired: DesiredStack, deployed: DeployedStack | None) -> DesiredStack:
    """``desired`` whose template keeps the deployed digests of the NoEcho parameters the
    config leaves out (they keep their deployed value, so their digest still holds)."""
    from stackyard.template_secrets import carry_digests

    if deployed is None or not desired.no_echo:
        return desired
    kept = [
        key
        for key in desired.no_echo
        if key not in desired.parameters and key in deployed.parameters
    ]
    body = carry_digests(desired.template_body, deployed.template, kept)
    return desired if body == desired.template_body else replace(desired, template_body=body)


def deployed_protection(described: DeployedStack | None) -> bool | tuple[str, ...]:
    """The protection a deployed stack was last deployed under (its stack tag)."""
    if described is None:
        return False
    return protection_from_tag(described.tags.get(PROTECTION_TAG))


def plan_stack(
    project: Project,
    desired: DesiredStack | None,
    described: DeployedStack | None,
    *,
    template: Any = None,
    stack_policy: Any = None,
    forced: bool = False,
    recreate_failed: bool = False,
    protected: bool | tuple[str, ...] | None = None,
    wait: bool = True,
) -> StackPlan:
    """One stack's plan from its desired state and what CloudFormation described."""
    deployed = snapshot(described, template or {}, stack_policy) if described is not None else None
    return _diff(project, desired, deployed, forced, recreate_failed, protected, wait)


def waits(desired: DesiredStack | None, wait: bool) -> bool:
    """Whether a stack found busy is waited on: by default, or by stacker's
    ``in_progress_behavior: wait`` even under ``--no-wait``."""
    return wait or (desired is not None and desired.in_progress_behavior == "wait")


def _diff(
    project: Project,
    desired: DesiredStack | None,
    deployed: DeployedStack | None,
    forced: bool,
    recreate_failed: bool,
    protected: bool | tuple[str, ...] | None,
    wait: bool = True,
) -> StackPlan:
    wait = waits(desired, wait)
    if protected is None:
        configured = desired.protected if desired is not None else False
        recorded = deployed_protection(deployed) if deployed is not None else False
        protected = merge_protection(configured, recorded)
    plan = diff_stack(
        desired,
        deployed,
        secrets=_secret_texts(desired),
        forced=forced,
        recreate_failed=recreate_failed,
        wait_in_progress=wait,
        protected=protected,
        project_protection=project_protection(project),
    )
    return replace(plan, unknowns=unknowns_of(desired))


def unknowns_of(desired: DesiredStack | None) -> tuple[str, ...]:
    """What in ``desired`` is known only after apply (the lookups, as written)."""
    if desired is None:
        return ()
    found = [v.reason for v in desired.parameters.values() if isinstance(v, Unknown)]
    found += _UNKNOWN_TEXT.findall(desired.template_body)
    return tuple(sorted(set(found)))


def _secret_texts(desired: DesiredStack | None) -> list[str]:
    from stackyard.template_secrets import secrets_in

    if desired is None:
        return []
    return [str.__str__(s) for s in secrets_in(desired.parameters)]


def destroy_selection(project: Project, names: Iterable[str]) -> Graph:
    """The named stacks and every stack that depends on them (all, when none are named)."""
    from stackyard.graph import Graph

    graph = project.graph
    wanted = list(names)
    if not wanted:
        return graph
    graph.select(wanted)  # unknown names are errors with suggestions
    dependents = graph.dependents()
    keep: set[str] = set()
    pending = list(wanted)
    while pending:
        node = pending.pop()
        if node not in keep:
            keep.add(node)
            pending.extend(dependents[node])
    needs = {n: frozenset(d for d in graph.needs[n] if d in keep) for n in keep}
    return Graph(needs, frozenset(graph.targets & keep), graph.notices)


@dataclass
class _Pending:
    """What upstream stacks of this plan leave unknown."""

    created: set[str] = field(default_factory=set)  # every output unknown
    outputs: dict[str, frozenset[str]] = field(default_factory=dict)  # these outputs unknown

    def note(self, name: str, plan: StackPlan) -> None:
        if plan.action in (StackAction.CREATE, StackAction.RECREATE, StackAction.WAIT):
            self.created.add(name)
        elif plan.action is StackAction.UPDATE:
            changing = frozenset(o.key for o in plan.outputs)
            if changing:
                self.outputs[name] = changing


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
        inputs: PlanInputs | None = None,
    ) -> None:
        self.project = project
        self.gateway = gateway
        self.access = access
        self.store = store
        self.now = now
        self.sleep = sleep
        self.inputs = inputs

    def plan(self, options: PlanOptions) -> Plan:
        """The plan of the selected stacks (all when none are named)."""
        return self.prepare(options).plan

    def prepare(self, options: PlanOptions) -> Planned:
        """The plan and what executing it needs."""
        if options.destroy:
            return self._prepare_destroy(options)
        project = self.project
        graph = project.selected(options.stacks)
        names = [n for n in graph.order() if n not in graph.targets]
        self._list(names)
        pending = _Pending()
        blocked: set[str] = set()
        planned: dict[str, PlannedStack] = {}
        fingerprints: dict[str, StackFingerprint] = {}
        for name in names:
            stuck = sorted(_upstream(graph.needs, graph.targets, name) & blocked)
            # A blocked upstream stack may have no outputs at all: read them as unknown.
            pending.created.update(stuck)
            item, fingerprint = self._stack(name, options, pending)
            plan = item.plan
            if stuck and plan.will_change:
                plan = replace(
                    plan,
                    action=StackAction.BLOCKED,
                    reason=f"waits for {', '.join(stuck)}, which cannot change",
                )
                item = replace(item, plan=plan)
            # A busy stack (another run's operation, or one a killed run left) is waited for
            # before anything that reads it runs: its outputs are unknown until then.
            if plan.will_change or plan.action is StackAction.WAIT:
                pending.note(name, plan)
            elif plan.action is StackAction.BLOCKED:
                blocked.add(name)
            planned[name] = item
            fingerprints[name] = fingerprint
        order = tuple(graph.order())
        waits_for = dict(graph.needs)
        if options.prune:
            for name, item in self._prune().items():
                planned[name] = item
                fingerprints[name] = stack_fingerprint(None, item.deployed)
                names.append(name)
                # Nothing in the config depends on an orphan, and what orphans need of
                # each other is unknown: each is deleted as soon as the run starts.
                order += (name,)
                waits_for[name] = frozenset()
        return self._planned(names, planned, fingerprints, order, waits_for, graph.targets)

    def _planned(
        self,
        names: list[str],
        planned: dict[str, PlannedStack],
        fingerprints: dict[str, StackFingerprint],
        order: tuple[str, ...],
        waits_for: Mapping[str, frozenset[str]],
        targets: frozenset[str],
        *,
        destroy: bool = False,
    ) -> Planned:
        made = Plan.create(
            [planned[n].plan for n in names],
            now=self.now(),
            fingerprints=fingerprints,
            inputs=self.inputs,
        )
        return Planned(made, planned, order, waits_for, targets, destroy)

    def _prune(self) -> dict[str, PlannedStack]:
        """A deletion plan for every orphan, under the protection it was deployed with
        (its ``stackyard:protected`` tag and termination protection)."""
        from stackyard.plan.orphans import find_orphans

        out: dict[str, PlannedStack] = {}
        for orphan in find_orphans(self.project, self.gateway):
            described = orphan.stack
            protected = deployed_protection(described)
            plan = StackPlan(
                orphan.name, orphan.fqn, StackAction.DELETE, "no longer in the config (prune)"
            )
            if described.status == "DELETE_IN_PROGRESS":
                plan = replace(plan, reason="already being deleted")
            verdict = assess(
                plan,
                protected,
                project=project_protection(self.project),
                termination_protection=described.termination_protection,
            )
            plan = replace(plan, protection=verdict)
            deployed = snapshot(described, {}, None)
            out[orphan.name] = PlannedStack(plan, orphan.location, None, deployed, protected)
        return out

    def settle(self, planned: PlannedStack, *, refresh: bool = False) -> PlannedStack:
        """``planned`` rendered again now that the stacks it reads are applied, checked
        against its plan; ``PlanBroken`` names what would now differ from the reviewed plan.

        With ``refresh`` (the stack was busy when planned) the deployed stack is read again.
        """
        name = planned.name
        deployed = planned.deployed
        if refresh:
            described = self.gateway.describe_stack(self.project.fqn(name), planned.location)
            deployed = self._snapshot(name, described, planned.desired, refresh=True)
        desired = with_deployed_digests(self._render(name, _Pending(), deployed), deployed)
        resolved = _diff(
            self.project,
            desired,
            deployed,
            planned.forced,
            planned.plan.action is StackAction.RECREATE,
            planned.protected,
            planned.wait,
        )
        broken = broken_promises(planned.plan, resolved)
        if broken:
            raise PlanBroken(
                f"{name}: " + "; ".join(broken) + ": review again",
                stack=name,
                hint="make the plan again (stackyard diff / plan -o PLANFILE) and review it",
            )
        # What runs is the resolved stack, under the reviewed plan's approvals.
        return replace(planned, desired=desired, deployed=deployed, plan=resolved)

    # -- one stack ------------------------------------------------------------------------

    def _list(self, names: Iterable[str]) -> None:
        locations = {self.project.location(n) for n in names}
        for location in sorted(locations, key=lambda x: x.sort_key):
            self.gateway.list_stacks(location)

    def _render(
        self, name: str, pending: _Pending, described: DeployedStack | None = None
    ) -> DesiredStack:
        project = self.project
        context = project.resolve_context(
            aws=self.access, pending=pending.created, changing_outputs=pending.outputs
        )
        return with_protection_defaults(project, project.render(name, context), described)

    def _snapshot(
        self,
        name: str,
        described: DeployedStack | None,
        desired: DesiredStack | None,
        *,
        refresh: bool = False,
    ) -> DeployedStack | None:
        """The deployed stack with its template (and policy, where the config sets one)."""
        if described is None:
            return None
        location = self.project.location(name)
        template: Any = {}
        policy: Any = None
        if described.status not in _NO_TEMPLATE:
            template = self._read(
                lambda: self.gateway.get_template(described.name, location, stack=described), {}
            )
            if desired is not None and desired.stack_policy:
                policy = self._read(
                    lambda: self.gateway.get_stack_policy(described.name, location), None
                )
        return snapshot(described, template, policy)

    def _stack(
        self, name: str, options: PlanOptions, pending: _Pending
    ) -> tuple[PlannedStack, StackFingerprint]:
        project = self.project
        config = project.stack(name)
        fqn = project.fqn(name)
        location = project.location(name)
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
            return PlannedStack(plan, location), stack_fingerprint(None, None)
        desired = self._render(name, pending, described)
        decided = classify(
            described,
            locked=desired.locked,
            forced=forced,
            recreate_failed=options.recreate_failed,
            wait_in_progress=waits(desired, options.wait),
        )
        recreate = decided is not None and decided.kind is StackAction.RECREATE
        skipped = decided is not None and decided.kind is StackAction.SKIP_LOCKED
        if skipped and decided is not None and not options.locked_delta:
            # A build does not even read a locked stack.
            plan = StackPlan(name, fqn, StackAction.SKIP_LOCKED, decided.reason)
            return PlannedStack(plan, location, desired), stack_fingerprint(None, None)
        deployed = None if recreate else self._snapshot(name, described, desired)
        if recreate and described is not None:
            deployed = snapshot(described, {}, None)
        _check_kept_parameters(project, desired, None if recreate else deployed)
        if deployed is not None:
            desired = with_deployed_digests(desired, deployed)
        protected = merge_protection(desired.protected, deployed_protection(described))
        plan = _diff(
            project, desired, deployed, forced, options.recreate_failed, protected, options.wait
        )
        if (
            options.change_sets
            and deployed is not None
            and plan.action is StackAction.UPDATE
            and not plan.unknowns
        ):
            plan = self._cross_check(plan, desired, deployed, location, options, protected)
        item = PlannedStack(plan, location, desired, deployed, protected, forced, options.wait)
        return item, stack_fingerprint(desired, deployed)

    @staticmethod
    def _read(call: Callable[[], Any], default: Any) -> Any:
        try:
            return call()
        except AWSCallError:
            return default

    # -- destroy --------------------------------------------------------------------------

    def _prepare_destroy(self, options: PlanOptions) -> Planned:
        """Deletion plans, dependents first; protection from the config and the deployed tag."""
        project = self.project
        graph = destroy_selection(project, options.stacks)
        order = tuple(reversed(graph.order()))
        names = [n for n in order if n not in graph.targets]
        self._list(names)
        dependents = graph.dependents()
        planned: dict[str, PlannedStack] = {}
        fingerprints: dict[str, StackFingerprint] = {}
        rules = project_protection(project)
        for name in names:
            fqn = project.fqn(name)
            location = project.location(name)
            described = self.gateway.cached(fqn, location)
            if described is None:
                plan = StackPlan(name, fqn, StackAction.NO_CHANGE, "does not exist")
                planned[name] = PlannedStack(plan, location)
                fingerprints[name] = stack_fingerprint(None, None)
                continue
            configured = project.stack(name).protected
            protected = merge_protection(
                configured if isinstance(configured, bool) else tuple(configured),
                deployed_protection(described),
            )
            deployed = snapshot(described, {}, None)
            plan = StackPlan(name, fqn, StackAction.DELETE, f"is {described.status}")
            if described.status == "DELETE_IN_PROGRESS":
                plan = replace(plan, reason="already being deleted")
            verdict = assess(
                plan,
                protected,
                project=rules,
                termination_protection=described.termination_protection,
            )
            plan = replace(plan, protection=verdict)
            planned[name] = PlannedStack(plan, location, None, deployed, protected)
            fingerprints[name] = stack_fingerprint(None, deployed)
        waits_for = {n: frozenset(dependents[n]) for n in graph.needs}
        return self._planned(
            names, planned, fingerprints, order, waits_for, graph.targets, destroy=True
        )

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
        deployed: DeployedStack,
        location: Location,
        options: PlanOptions,
        protected: bool | tuple[str, ...],
    ) -> StackPlan:
        """``plan`` merged with what a change set says; the change set is always deleted."""
        from stackyard.aws.change_sets import change_set
        from stackyard.submission import stack_submission

        submission = stack_submission(
            desired,
            deployed,
            location,
            self._template_store(),
            namespace=self.project.context.namespace,
        )
        name = f"stackyard-plan-{uuid.uuid4().hex[:12]}"
        with change_set(
            self.gateway,
            submission,
            name,
            timeout=options.change_set_timeout,
            sleep=self.sleep,
            first_delay=0.05,
            max_delay=1.0,
        ) as made:
            if made.ready:
                changes = made.changes()
            elif made.empty:
                changes = []
            else:
                return replace(plan, hint=f"the change set failed: {made.reason}")
        merged = merge_change_set(plan, changes)
        resources = set(deployed.template.get("Resources") or {})
        resources |= {r.logical_id for r in plan.resources if r.action is ChangeAction.ADD}
        verdict = assess(
            merged,
            protected,
            project=project_protection(self.project),
            termination_protection=deployed.termination_protection,
            logical_ids=resources,
        )
        return replace(merged, protection=verdict)


def _upstream(needs: Mapping[str, frozenset[str]], targets: frozenset[str], name: str) -> set[str]:
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
