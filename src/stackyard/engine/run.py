"""The engine's entry points: ``build`` and ``destroy`` a project's stacks.

Both list the deployed stacks once per location (one paginated DescribeStacks
each), run the pre hooks, schedule every selected stack as soon as what it
waits for is done, and run the post hooks when everything went well. Time,
sleeping, the interrupt and the listener are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stackyard.aws.cloudformation import CloudFormationGateway
from stackyard.aws.limiter import CallStats
from stackyard.aws.poller import PollPolicy, StatusPoller
from stackyard.aws.session import Location
from stackyard.aws.template_store import TemplateStore
from stackyard.engine.approval import Approvals
from stackyard.engine.ops import BuildOps, DestroyOps
from stackyard.engine.scheduler import Interrupt, Scheduler, StackOps
from stackyard.engine.status import Listener, NullListener, Phase, StackState
from stackyard.errors import StackyardError

if TYPE_CHECKING:
    from stackyard.graph import Graph
    from stackyard.lookups.context import AWSAccess
    from stackyard.project import Project

__all__ = [
    "NOT_APPROVED_EXIT",
    "RunOptions",
    "RunResult",
    "build",
    "destroy",
    "destroy_selection",
    "stack_locations",
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
        text = f"{self.command}: " + (", ".join(parts) or "nothing to do") + f" in {took:.1f}s"
        if self.error is not None:
            text += f"; {self.error.message}"
        return text


def stack_locations(project: Project, names: Iterable[str]) -> dict[str, Location]:
    """Where each stack lives: its own region/profile, else the run's."""
    out: dict[str, Location] = {}
    for name in names:
        stack = project.stack(name)
        out[name] = Location(stack.region or project.region, stack.profile or project.profile)
    return out


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
class _Run:
    project: Project
    gateway: CloudFormationGateway
    listener: Listener
    interrupt: Interrupt
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    inline: bool
    access: AWSAccess | None

    def aws_access(self, locations: dict[str, Location]) -> AWSAccess:
        if self.access is not None:
            return self.access
        from stackyard.engine.access import EngineAWSAccess

        return EngineAWSAccess(
            self.gateway,
            default=Location(self.project.region, self.project.profile),
            locations={self.project.fqn(n): loc for n, loc in locations.items()},
        )

    def hooks(self, stage: str, access: AWSAccess) -> None:
        from stackyard.hooks.runner import HookProvider, run_hooks
        from stackyard.lookups.resolve import resolve_value

        hooks = getattr(self.project.loaded.config, stage)
        if not hooks:
            return
        ctx = self.project.resolve_context(aws=access)

        def resolve(args: Any) -> Any:
            return resolve_value(args, self.project.registry, ctx)

        run_hooks(
            stage,
            hooks,
            self.project.context,
            HookProvider(self.project.region, self.gateway.clients),
            resolve_args=resolve,
            note=self.listener.note,
        )

    def execute(
        self,
        command: str,
        graph: Graph,
        options: RunOptions,
        make_ops: Callable[[dict[str, Location], AWSAccess], StackOps],
        waits_for: dict[str, frozenset[str]],
        order: list[str],
    ) -> RunResult:
        started = self.clock()
        names = [n for n in order if n not in graph.targets]
        locations = stack_locations(self.project, names)
        states = {n: StackState(n, self.project.fqn(n), region=locations[n].region) for n in names}
        result = RunResult(command, states, self.gateway.stats, started=started)
        access = self.aws_access(locations)
        for location in sorted(set(locations.values()), key=lambda x: x.sort_key):
            self.gateway.list_stacks(location)
        try:
            self.hooks(f"pre_{command}", access)
        except StackyardError as exc:
            result.error = exc
            for name in names:
                states[name] = states[name].moved(Phase.NOT_STARTED, "a pre hook failed")
            result.finished = self.clock()
            return result
        for state in states.values():
            self.listener.stack_changed(state)
        poller = StatusPoller(self.gateway, policy=options.poll, clock=self.clock)
        ops = make_ops(locations, access)
        scheduler = Scheduler(
            waits_for,
            states,
            ops,
            poller,
            self.listener,
            order=order,
            passthrough=frozenset(graph.targets),
            max_parallel=options.max_parallel,
            interrupt=self.interrupt,
            clock=self.clock,
            sleep=self.sleep,
            inline=self.inline,
        )
        result.states = scheduler.run()
        result.interrupted = self.interrupt.count
        if result.ok:
            try:
                self.hooks(f"post_{command}", access)
            except StackyardError as exc:
                result.error = exc
        result.finished = self.clock()
        return result


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
    approvals: Approvals | None = None,
) -> RunResult:
    """Create or update the selected stacks, each as soon as what it needs is done.

    With ``approvals``, a stack whose changes touch a protected area runs only when it
    approves (held or declined stacks make the run exit 3); without, nothing is gated and
    the caller answers for it (the CLI always passes one).
    """
    gate = approvals
    interrupt = interrupt or Interrupt()
    listener = listener or NullListener()
    run = _Run(project, gateway, listener, interrupt, clock, sleep, inline, access)
    graph = project.selected(options.stacks)
    if store is None:
        store = TemplateStore(
            gateway.clients,
            bucket=project.context.bucket_name,
            namespace=project.context.namespace,
            bucket_region=project.context.bucket_region or project.region,
            profile=project.profile,
        )
    template_store = store

    def make_ops(locations: dict[str, Location], aws: AWSAccess) -> StackOps:
        return BuildOps(
            project,
            gateway,
            template_store,
            aws,
            locations,
            interrupt,
            recreate_failed=options.recreate_failed,
            force=options.force,
            sleep=sleep,
            approvals=gate,
        )

    result = run.execute("build", graph, options, make_ops, dict(graph.needs), graph.order())
    if gate is not None:
        result.not_approved = {n: str(o.decision) for n, o in gate.not_approved.items()}
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
    approvals: Approvals | None = None,
) -> RunResult:
    """Delete the selected stacks (and their dependents), dependents first; with
    ``approvals``, a protected stack only when it approves."""
    gate = approvals
    interrupt = interrupt or Interrupt()
    listener = listener or NullListener()
    run = _Run(project, gateway, listener, interrupt, clock, sleep, inline, access)
    graph = destroy_selection(project, options.stacks)
    dependents = graph.dependents()
    waits_for = {n: frozenset(dependents[n]) for n in graph.needs}

    def make_ops(locations: dict[str, Location], aws: AWSAccess) -> StackOps:
        return DestroyOps(
            project,
            gateway,
            locations,
            interrupt,
            disable_termination_protection=options.disable_termination_protection,
            approvals=gate,
        )

    order = list(reversed(graph.order()))
    result = run.execute("destroy", graph, options, make_ops, waits_for, order)
    if gate is not None:
        result.not_approved = {n: str(o.decision) for n, o in gate.not_approved.items()}
    return result
