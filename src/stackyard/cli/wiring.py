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
from stackyard.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.engine.run import RunResult
    from stackyard.engine.scheduler import Interrupt
    from stackyard.plan.planner import Planned
    from stackyard.project import Project
    from stackyard.ui.progress import ProgressView

__all__ = [
    "approval_policy",
    "aws_options",
    "check_forced",
    "console",
    "finish_run",
    "gateway",
    "interrupts",
    "load_project",
    "no_wait_option",
    "review_in_view",
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


def no_wait_option(func: Any) -> Any:
    """``--no-wait``: refuse stacks found busy instead of waiting for them."""
    return click.option(
        "--no-wait",
        is_flag=True,
        help="Refuse stacks that are busy (*_IN_PROGRESS) instead of waiting for them to "
        "finish (stacks with in_progress_behavior: wait still wait).",
    )(func)


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
    if not project.selected(inv.stacks).stacks:
        # A green "nothing to do" here is how swapped or wrong arguments went unnoticed.
        picked = f" of {', '.join(inv.stacks)}" if inv.stacks else ""
        raise ConfigError(
            f"the config selects no stack{picked}",
            file=project.loaded.source.file,
            hint="check that this is the config you meant; stacks with 'enabled: false' "
            "are left out",
        )
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
    from stackyard.workflow import connect

    with contextlib.ExitStack() as stack:
        endpoint: str | None = None
        if local:
            from stackyard.local.embedded import local_endpoint_url

            endpoint = stack.enter_context(local_endpoint_url(start_if_missing=True))
        yield connect(endpoint_url=endpoint, retry_mode=retry_mode, region=inv.region)


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
    from stackyard.ui.terminal import make_console

    return make_console()


def _on_terminal(console: Console) -> bool:
    import sys

    return sys.stdin.isatty() and console.is_terminal


def approval_policy(
    console: Console,
    view: ProgressView | None,
    *,
    approve_protected: bool = False,
    approved_rules: frozenset[str] = frozenset(),
    interactive: bool = False,
    replacements_only: bool = False,
    read_answers: bool = False,
) -> ApprovalPolicy:
    """Where a run's approvals come from: break-glass, a person on a terminal (asked once,
    before anything runs), or nobody (held).

    ``interactive`` (``build -i``): the person is asked about every stack that would change,
    one at a time (``replacements_only``: only where something is replaced), answers read
    from standard input whether or not it is a terminal. ``read_answers``: the one question
    about protected changes is asked without a terminal too (``destroy -i``)."""
    from contextlib import nullcontext

    from stackyard.engine.approval import ApprovalPolicy
    from stackyard.ui.approval import ask_each, ask_once

    if approve_protected:
        click.echo(
            "WARNING: --approve-protected: changes to protected stacks and resources will run "
            "WITHOUT review. Use it only to break glass; the reviewed path is "
            "`stackyard plan -o PLANFILE`, a review, then `stackyard apply PLANFILE`.",
            err=True,
        )
    pause = view.paused if view is not None else nullcontext
    if interactive:
        return ApprovalPolicy(
            ask_each=ask_each(console, replacements_only=replacements_only),
            replacements_only=replacements_only,
            asking=pause,
            approve_all=approve_protected,
            approved_rules=approved_rules,
        )
    ask = None
    if read_answers or _on_terminal(console):
        question = ask_once(console)

        def ask(stacks: Any) -> bool:
            with pause():
                return question(stacks)

    return ApprovalPolicy(ask=ask, approve_all=approve_protected, approved_rules=approved_rules)


def run_in_view(
    console: Console,
    run: Callable[[ProgressView, Interrupt], T],
    *,
    verbose: int,
) -> T:
    """Call ``run(view, interrupt)`` inside a progress view, counting Ctrl-C."""
    from stackyard.ui.progress import ProgressView

    with interrupts() as interrupt, ProgressView(console, verbose=verbose) as view:
        return run(view, interrupt)


def finish_run(console: Console, result: RunResult, command: str, gateway: Any, stats: bool) -> int:
    """After a run: the summary, what was not approved, (``stats``) the calls; the exit code."""
    from stackyard.ui.approval import report_not_approved
    from stackyard.ui.progress import print_summary

    print_summary(console, result)
    report_not_approved(console, result.approvals, command)
    if stats:
        _print_stats(console, gateway, len(result.states))
    return result.exit_code


def review_in_view(console: Console, view: ProgressView) -> Callable[[Planned], None]:
    """Show the plan's short form before a build runs (the view paused while it prints)."""
    from stackyard.ui.approval import render_review

    def review(planned: Planned) -> None:
        view.expect({s.name: len(s.resources) for s in planned.plan.stacks if s.will_change})
        with view.paused():
            render_review(planned.plan, console)

    return review


def _print_stats(console: Console, gateway: CloudFormationGateway, stacks: int) -> None:
    stats = gateway.stats
    console.print(
        f"CloudFormation calls: {stats.total} ({stats.reads} reads, {stats.writes} writes)"
    )
    for action, count in stats.snapshot().items():
        console.print(f"  {action:<28} {count:>6}")
    if stacks:
        console.print(f"  per stack: {stats.total / stacks:.2f}")
