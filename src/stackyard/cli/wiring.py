"""What the commands share: loading the project, reaching AWS (or the local endpoint),
Ctrl-C handling, the console, and running the engine with progress and approvals. Heavy
imports stay inside the functions so that ``stackyard --help`` stays instant.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stackyard.cli.options import Invocation
from stackyard.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import Approvals
    from stackyard.engine.run import RunOptions, RunResult
    from stackyard.engine.scheduler import Interrupt
    from stackyard.plan.model import Plan
    from stackyard.project import Project
    from stackyard.ui.progress import ProgressView

__all__ = [
    "aws_options",
    "check_forced",
    "console",
    "gateway",
    "interrupts",
    "load_project",
    "run_engine",
    "run_in_view",
]

T = TypeVar("T")


def aws_options(func: Any) -> Any:
    """``--local`` and ``--retry-mode``, for every command that talks to AWS."""
    func = click.option(
        "--retry-mode",
        type=click.Choice(["standard", "adaptive"]),
        default="standard",
        show_default=True,
        help="botocore's retry mode for AWS calls.",
    )(func)
    func = click.option(
        "--local",
        is_flag=True,
        help="Use the local AWS endpoint (the running one, or one for this command).",
    )(func)
    return func


def load_project(inv: Invocation) -> Project:
    """Load the config the user named, and tell them its notices on stderr."""
    from stackyard.cli.main import notice
    from stackyard.config.environment import parse_overrides
    from stackyard.project import Project

    project = Project.load(
        inv.config_path,
        environment_file=inv.environment_file,
        overrides=parse_overrides(list(inv.overrides)),
        region=inv.region,
        profile=inv.profile,
    )
    for message in project.notices:
        notice(message)
    return project


def check_forced(project: Project, force: Iterable[str]) -> None:
    """``--force NAME`` must name a stack in the config."""
    known = {s.name for s in project.loaded.config.stacks}
    for name in force:
        if name not in known:
            raise UsageError(f"--force {name}: no stack of that name in the config")


@contextlib.contextmanager
def gateway(inv: Invocation, local: bool, retry_mode: str) -> Iterator[CloudFormationGateway]:
    """The CloudFormation gateway; ``--local`` changes the endpoint and nothing else."""
    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.aws.session import ClientFactory
    from stackyard.aws.template_cache import TemplateCache, default_cache_dir

    with contextlib.ExitStack() as stack:
        endpoint: str | None = None
        if local:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        factory = ClientFactory(
            endpoint_url=endpoint,
            retry_mode="adaptive" if retry_mode == "adaptive" else "standard",
            default_region=inv.region,
        )
        yield CloudFormationGateway(factory, templates=TemplateCache(default_cache_dir()))


@contextlib.contextmanager
def interrupts() -> Iterator[Interrupt]:
    """Count Ctrl-C presses for the engine while the block runs (main thread only)."""
    from stackyard.engine.scheduler import Interrupt

    interrupt = Interrupt()
    try:
        previous = signal.signal(signal.SIGINT, interrupt.handler)
    except ValueError:  # not the main thread (e.g. embedded use): no handler
        yield interrupt
        return
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def console() -> Console:
    """The one console output goes through."""
    from rich.console import Console

    return Console(highlight=False)


def run_in_view(
    console: Console,
    run: Callable[[ProgressView, Interrupt, Approvals], T],
    *,
    verbose: int,
    approve_protected: bool = False,
    reviewed: Plan | None = None,
) -> tuple[T, Approvals]:
    """Call ``run(view, interrupt, approvals)`` inside a progress view, counting Ctrl-C,
    with the approval gate for the run; return what it returned and the gate."""
    from stackyard.cli.plan import approvals_for
    from stackyard.ui.progress import ProgressView

    with interrupts() as interrupt, ProgressView(console, verbose=verbose) as view:
        approvals = approvals_for(
            console, view, approve_protected=approve_protected, reviewed=reviewed
        )
        return run(view, interrupt, approvals), approvals


def run_engine(
    command: str,
    entry: Callable[..., RunResult],
    project: Project,
    options: RunOptions,
    gateway: CloudFormationGateway,
    console: Console,
    *,
    verbose: int,
    stats: bool = False,
    approve_protected: bool = False,
    reviewed: Plan | None = None,
) -> int:
    """Run an engine entry point (``engine.run.build`` or ``destroy``) with progress and
    approvals, then print the summary, what was not approved and (``stats``) the calls
    made. Return the exit code."""
    from stackyard.cli.plan import report_not_approved
    from stackyard.ui.progress import print_summary

    result, approvals = run_in_view(
        console,
        lambda view, interrupt, approvals: entry(
            project, options, gateway, view, interrupt=interrupt, approvals=approvals
        ),
        verbose=verbose,
        approve_protected=approve_protected,
        reviewed=reviewed,
    )
    print_summary(console, result)
    report_not_approved(console, approvals, command)
    if stats:
        _print_stats(console, gateway, len(result.states))
    return result.exit_code


def _print_stats(console: Console, gateway: CloudFormationGateway, stacks: int) -> None:
    stats = gateway.stats
    console.print(
        f"CloudFormation calls: {stats.total} ({stats.reads} reads, {stats.writes} writes)"
    )
    for action, count in stats.snapshot().items():
        console.print(f"  {action:<28} {count:>6}")
    if stacks:
        console.print(f"  per stack: {stats.total / stacks:.2f}")
