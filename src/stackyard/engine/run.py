"""The engine's entry points: ``build`` and ``destroy`` a project's stacks.

Both are plan → approve → execute: the planner reads what is deployed (one paginated
DescribeStacks per location, plus templates), every approval is settled before anything
is submitted, and the engine then executes that plan over the graph, each stack as soon
as what it waits for is done, with the pre and post hooks around it. Time, sleeping, the
interrupt and the listener are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stackyard.aws.change_sets import sweep_leftovers
from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.limiter import CallStats
from stackyard.aws.poller import PollPolicy, StatusPoller
from stackyard.aws.template_store import TemplateStore
from stackyard.engine.approval import ApprovalPolicy, Approvals
from stackyard.engine.ops import BuildOps, DestroyOps
from stackyard.engine.scheduler import Interrupt, Scheduler, StackOps
from stackyard.engine.status import Listener, NullListener, Phase, StackState
from stackyard.errors import StackyardError

if TYPE_CHECKING:
    from stackyard.lookups.context import AWSAccess
    from stackyard.plan.planner import Planned, Planner
    from stackyard.project import Project

__all__ = [
    "NOT_APPROVED_EXIT",
    "RunOptions",
    "RunResult",
    "build",
    "default_store",
    "destroy",
]

# Exit code of a run that left protected changes unapplied for want of approval.
NOT_APPROVED_EXIT = 3


@dataclass(frozen=True)
class RunOptions:
    """What the user asked of a run."""

    stacks: tuple[str, ...] = ()
    max_parallel: int = 0  # 0: no limit
    recreate_failed: bool = False
    force: frozenset[str] = frozenset()  # locked stacks to update anyway
    disable_termination_protection: bool = False
    wait: bool = True  # wait for stacks found busy (False: --no-wait refuses them)
    change_sets: bool = False  # update every stack through a change set, not UpdateStack
    prune: bool = False  # also delete this namespace's stacks the config no longer names
    tail: bool = False  # report every stack event as it happens (stacker's --tail)
    poll: PollPolicy = field(default_factory=PollPolicy)


@dataclass
class RunResult:
    """How a run ended: every stack's final state, and why the run stopped if it did."""

    command: str
    states: dict[str, StackState]
    stats: CallStats
    interrupted: int = 0
    error: StackyardError | None = None  # a required hook failed
    started: float = 0.0
    finished: float = 0.0
    # Stacks that needed approval and did not get it: name -> "declined" / "awaiting approval".
    not_approved: dict[str, str] = field(default_factory=dict)
    approvals: Approvals | None = None  # every approval outcome of the run
    planned: Planned | None = None  # the plan the run executed
    declined: bool = False  # a person said no to the whole run before it started

    def count(self, *phases: Phase) -> int:
        """How many stacks ended in one of ``phases``."""
        return sum(1 for s in self.states.values() if s.phase in phases)

    @property
    def ok(self) -> bool:
        """True when every stack ended well and no hook failed."""
        return (
            self.error is None
            and not self.interrupted
            and all(s.phase.ok for s in self.states.values())
        )

    @property
    def exit_code(self) -> int:
        """0 ok, 130 interrupted, 3 protected changes not approved, 1 anything else."""
        if self.declined:
            return NOT_APPROVED_EXIT
        if self.ok:
            return 0
        if self.interrupted and self.count(Phase.FAILED) == 0 and self.error is None:
            return 130
        if self.not_approved and self.count(Phase.FAILED) == 0 and self.error is None:
            return NOT_APPROVED_EXIT
        return 1

    def summary(self) -> str:
        """One line: counts by phase, and the time taken."""
        counts: dict[str, int] = {}
        for state in self.states.values():
            counts[str(state.phase)] = counts.get(str(state.phase), 0) + 1
        parts = [f"{n} {phase}" for phase, n in sorted(counts.items(), key=lambda kv: -kv[1])]
        took = self.finished - self.started
        if self.declined:
            return f"{self.command}: declined; nothing changed"
        text = f"{self.command}: " + (", ".join(parts) or "nothing to do") + f" in {took:.1f}s"
        if self.error is not None:
            text += f"; {self.error.message}"
        return text


@dataclass
class _Run:
    project: Project
    gateway: CloudFormationGateway
    listener: Listener
    interrupt: Interrupt
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    inline: bool
    access: AWSAccess | None

    def aws_access(self, names: Iterable[str]) -> AWSAccess:
        if self.access is not None:
            return self.access
        from stackyard.engine.access import EngineAWSAccess

        return EngineAWSAccess.for_project(self.gateway, self.project, names)

    def hooks(self, stage: str, access: AWSAccess) -> StackyardError | None:
        """Run one stage's hooks; the error of a required hook that failed, if one did."""
        from stackyard.hooks.runner import HookProvider, run_hooks
        from stackyard.lookups.resolve import resolve_value

        hooks = getattr(self.project.loaded.config, stage)
        if not hooks:
            return None
        ctx = self.project.resolve_context(aws=access)

        def resolve(args: Any) -> Any:
            return resolve_value(args, self.project.registry, ctx)

        try:
            run_hooks(
                stage,
                hooks,
                self.project.context,
                HookProvider(self.project.region, self.gateway.clients),
                resolve_args=resolve,
                note=self.listener.note,
            )
        except StackyardError as exc:
            return exc
        return None

    def not_started(
        self, command: str, names: Iterable[str], error: StackyardError, started: float
    ) -> RunResult:
        states = {
            n: StackState(n, self.project.fqn(n), Phase.NOT_STARTED, "a pre hook failed")
            for n in names
        }
        result = RunResult(command, states, self.gateway.stats, started=started, error=error)
        result.finished = self.clock()
        return result

    def execute(
        self,
        command: str,
        planned: Planned,
        options: RunOptions,
        make_ops: Callable[[], StackOps],
        access: AWSAccess,
        started: float,
    ) -> RunResult:
        """Run the plan over its graph; the post hooks when everything went well."""
        names = [n for n in planned.order if n not in planned.targets]
        states = {
            n: StackState(n, planned.stack(n).plan.fqn, region=planned.stack(n).location.region)
            for n in names
        }
        result = RunResult(command, states, self.gateway.stats, started=started)
        result.planned = planned
        for state in states.values():
            self.listener.stack_changed(state)
        poller = StatusPoller(self.gateway, policy=options.poll, clock=self.clock)
        scheduler = Scheduler(
            planned.waits_for,
            states,
            make_ops(),
            poller,
            self.listener,
            order=list(planned.order),
            passthrough=planned.targets,
            max_parallel=options.max_parallel,
            interrupt=self.interrupt,
            clock=self.clock,
            sleep=self.sleep,
            inline=self.inline,
            tail=options.tail,
        )
        result.states = scheduler.run()
        result.interrupted = self.interrupt.count
        if result.ok:
            result.error = self.hooks(f"post_{command}", access)
        result.finished = self.clock()
        return result


def new_run_id() -> str:
    """A run's id: the part of every write's token that tells runs apart."""
    import uuid

    return uuid.uuid4().hex[:12]


def _planner(
    project: Project, gateway: CloudFormationGateway, access: AWSAccess, store: TemplateStore
) -> Planner:
    from stackyard.plan.planner import Planner

    return Planner(project, gateway, access=access, store=store)


def default_store(project: Project, gateway: CloudFormationGateway) -> TemplateStore:
    """The template bucket of ``project``, for templates over CloudFormation's inline limit."""
    return TemplateStore(
        gateway.clients,
        bucket=project.context.bucket_name,
        namespace=project.context.namespace,
        bucket_region=project.context.bucket_region or project.region,
        profile=project.profile,
    )


def build(
    project: Project,
    options: RunOptions,
    gateway: CloudFormationGateway,
    listener: Listener | None = None,
    *,
    interrupt: Interrupt | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    inline: bool = False,
    store: TemplateStore | None = None,
    access: AWSAccess | None = None,
    approvals: ApprovalPolicy | None = None,
    planned: Planned | None = None,
    review: Callable[[Planned], None] | None = None,
) -> RunResult:
    """Plan, settle approvals, then execute that plan: create or update the selected stacks,
    each as soon as what it needs is done.

    ``planned`` executes a plan made already (``apply PLANFILE``); else the pre hooks run and
    the plan is made here. ``review(planned)`` sees the plan before approvals are asked for
    (the CLI shows it). With an ``approvals`` policy, stacks whose changes touch a protected
    area run only when approved (held or declined ones make the run exit 3); without one,
    nothing is gated and the caller answers for it.
    """
    from stackyard.engine.approval import settle
    from stackyard.plan.planner import PlanOptions

    interrupt = interrupt or Interrupt()
    listener = listener or NullListener()
    run = _Run(project, gateway, listener, interrupt, clock, sleep, inline, access)
    store = store or default_store(project, gateway)
    started = clock()
    selected = project.selected(options.stacks)
    names = [n for n in selected.order() if n not in selected.targets]
    aws = run.aws_access(names)
    error = run.hooks("pre_build", aws) if planned is None else None
    if error is not None:
        return run.not_started("build", names, error, started)
    planner = _planner(project, gateway, aws, store)
    if planned is None:
        planned = planner.prepare(
            PlanOptions(
                stacks=options.stacks,
                recreate_failed=options.recreate_failed,
                force=options.force,
                wait=options.wait,
                locked_delta=False,
                prune=options.prune,
            )
        )
    if review is not None:
        review(planned)
    settled = settle(planned.plan, approvals, planned.waits_for)
    swept = sweep_leftovers(gateway)
    if swept:
        listener.note(f"deleted {swept} change set(s) an interrupted run left behind")

    def make_ops() -> StackOps:
        return BuildOps(
            planned,
            planner,
            gateway,
            store,
            interrupt,
            settled,
            namespace=project.context.namespace,
            run_id=new_run_id(),
            service_role=project.loaded.config.service_role,
            sleep=sleep,
            change_sets=options.change_sets,
        )

    result = run.execute("build", planned, options, make_ops, aws, started)
    result.approvals = settled
    result.not_approved = {n: str(o.decision) for n, o in settled.not_approved.items()}
    for stack in project.loaded.config.stacks:
        if not stack.enabled and (not options.stacks or stack.name in options.stacks):
            state = StackState(stack.name, project.fqn(stack.name), Phase.SKIPPED, "disabled")
            result.states[stack.name] = state
            run.listener.stack_changed(state)
    return result


def destroy(
    project: Project,
    options: RunOptions,
    gateway: CloudFormationGateway,
    listener: Listener | None = None,
    *,
    interrupt: Interrupt | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    inline: bool = False,
    access: AWSAccess | None = None,
    approvals: ApprovalPolicy | None = None,
    planned: Planned | None = None,
    review: Callable[[Planned], bool] | None = None,
) -> RunResult:
    """Plan the deletion of the selected stacks (and their dependents), settle every
    approval, and only then delete, dependents first. Without a policy nothing that needs
    approval is approved (``disable_termination_protection`` approves that rule only).

    When any stack that needs approval lacks it, nothing is deleted (exit 3).
    ``review(planned)`` sees the plan first and may return False to stop (a person said no).
    """
    from stackyard.engine.approval import settle
    from stackyard.plan.planner import PlanOptions
    from stackyard.plan.protection import RULE_TERMINATION_PROTECTION

    interrupt = interrupt or Interrupt()
    listener = listener or NullListener()
    run = _Run(project, gateway, listener, interrupt, clock, sleep, inline, access)
    started = clock()
    aws = run.aws_access(project.graph.stacks)
    if planned is None:
        planner = _planner(project, gateway, aws, default_store(project, gateway))
        planned = planner.prepare(PlanOptions(stacks=options.stacks, destroy=True))
    stack_names = [n for n in planned.order if n not in planned.targets]
    result = RunResult("destroy", {}, gateway.stats, started=started)
    result.planned = planned
    if review is not None and not review(planned):
        result.declined = True
        result.finished = clock()
        return result
    if approvals is None:
        # Deleting is never approved by default: only the flag approves its own rule.
        approvals = ApprovalPolicy(
            approved_rules=frozenset({RULE_TERMINATION_PROTECTION})
            if options.disable_termination_protection
            else frozenset()
        )
    settled = settle(planned.plan, approvals)
    result.approvals = settled
    result.not_approved = {n: str(o.decision) for n, o in settled.not_approved.items()}
    if settled.not_approved:
        # Nothing is deleted unless everything that needs approval has it.
        result.states = {
            n: StackState(n, project.fqn(n), Phase.NOT_STARTED, "nothing deleted: approval missing")
            for n in stack_names
        }
        result.finished = clock()
        return result
    error = run.hooks("pre_destroy", aws)
    if error is not None:
        return run.not_started("destroy", stack_names, error, started)

    def make_ops() -> StackOps:
        return DestroyOps(
            planned,
            gateway,
            interrupt,
            settled,
            run_id=new_run_id(),
            service_role=project.loaded.config.service_role,
            disable_termination_protection=options.disable_termination_protection,
        )

    result = run.execute("destroy", planned, options, make_ops, aws, started)
    result.approvals = settled
    return result
