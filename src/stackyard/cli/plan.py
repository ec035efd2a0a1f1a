"""``diff``, ``plan`` and ``apply PLANFILE``; and the approval wiring ``build``/``destroy`` share.

- ``diff`` renders the plan (``--json``: the plan as JSON). ``--detailed-exitcode``: 0 no
  changes, 2 changes, 1 error.
- ``plan -o PLANFILE`` saves the plan, with fingerprints of everything it saw.
- ``apply PLANFILE`` plans again, refuses (naming what moved) if anything differs from the
  saved plan, else builds exactly the saved plan's stacks; protected changes that were in
  the reviewed plan count as approved. That is the reviewed path for CI.

Every form of output is masked: the plan holds no secret, and rendering masks again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments
from stackyard.errors import StackyardError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from stackyard.aws.cloudformation import CloudFormationGateway
    from stackyard.engine.approval import Approvals
    from stackyard.plan.model import Plan, StackPlan
    from stackyard.plan.planner import Planner, PlanOptions
    from stackyard.project import Project
    from stackyard.ui.progress import ProgressView

__all__ = ["apply", "approvals_for", "diff", "plan", "report_not_approved"]

_PROMPT = "Apply these protected changes? [y]es / [n]o / [s]how full diff: "


# --- approvals, shared with build and destroy ---------------------------------------------


def _on_terminal(console: Console) -> bool:
    return sys.stdin.isatty() and console.is_terminal


def _ask(console: Console) -> Any:
    from stackyard.engine.approval import Decision
    from stackyard.ui.diff import render_approval, render_stack

    def ask(stack: StackPlan) -> Decision:
        console.print()
        console.rule(f"approval needed: {stack.name}", align="left")
        render_approval(stack, console)
        while True:
            try:
                answer = console.input(_PROMPT).strip().lower()
            except EOFError:
                return Decision.DECLINED
            if answer in ("y", "yes"):
                return Decision.APPROVED
            if answer in ("n", "no"):
                return Decision.DECLINED
            if answer in ("s", "show"):
                render_stack(stack, console, details=True, summary=False)
            else:
                console.print("please answer y, n or s")

    return ask


def approvals_for(
    console: Console,
    view: ProgressView | None,
    *,
    approve_protected: bool = False,
    reviewed: Plan | None = None,
) -> Approvals:
    """The gate for a run: break-glass, a reviewed plan, a prompt on a terminal, or hold."""
    from contextlib import nullcontext

    from stackyard.engine.approval import Approvals

    if approve_protected:
        click.echo(
            "WARNING: --approve-protected: changes to protected stacks and resources will run "
            "WITHOUT review. Use it only to break glass; the reviewed path is "
            "`stackyard plan -o PLANFILE`, a review, then `stackyard apply PLANFILE`.",
            err=True,
        )
    asks = reviewed is None and _on_terminal(console)
    return Approvals(
        ask=_ask(console) if asks else None,
        approve_all=approve_protected,
        reviewed=reviewed,
        pause=view.paused if view is not None else nullcontext,
    )


def report_not_approved(console: Console, approvals: Approvals, command: str) -> None:
    """After a run: what was approved by break-glass, what was declined or held, and how to
    approve it."""
    from stackyard.engine.approval import Decision
    from stackyard.ui.diff import render_approval

    forced = [o for o in approvals.approved.values() if o.by == "--approve-protected"]
    for outcome in forced:
        click.echo(
            f"WARNING: {outcome.plan.name}: protected changes applied with --approve-protected",
            err=True,
        )
    held = [o for o in approvals.not_approved.values() if o.decision is Decision.HELD]
    declined = [o for o in approvals.not_approved.values() if o.decision is Decision.DECLINED]
    for outcome in declined:
        console.print(
            f"{outcome.plan.name}: not changed (declined); its dependents were cancelled",
            highlight=False,
        )
    if not held:
        return
    console.print()
    console.print(f"{len(held)} stack(s) need approval and were not changed:", style="bold magenta")
    for outcome in held:
        render_approval(outcome.plan, console)
    console.print()
    if command == "destroy":
        how = "rerun on a terminal to be asked, or pass --approve-protected."
    else:
        how = (
            "save the plan with `stackyard plan -o plan.json [ENVIRONMENT_FILE] CONFIG`, "
            "review it, then run `stackyard apply plan.json [ENVIRONMENT_FILE] CONFIG`"
            + (" (or rerun on a terminal to be asked)." if command == "build" else ".")
        )
    console.print("To approve: " + how, highlight=False, soft_wrap=True)


# --- planning -----------------------------------------------------------------------------


def _planner(project: Project, gateway: CloudFormationGateway) -> Planner:
    from stackyard.aws.session import Location
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.engine.run import stack_locations
    from stackyard.plan.planner import Planner

    locations = stack_locations(project, project.graph.stacks)
    access = EngineAWSAccess(
        gateway,
        default=Location(project.region, project.profile),
        locations={project.fqn(n): loc for n, loc in locations.items()},
    )
    return Planner(project, gateway, access=access)


def _plan_options(func: Any) -> Any:
    func = click.option(
        "--change-sets",
        is_flag=True,
        help="Cross-check updates with CloudFormation change sets (always deleted again).",
    )(func)
    func = click.option(
        "--force",
        "force",
        multiple=True,
        metavar="NAME",
        help="Plan this locked stack as if unlocked. Repeatable.",
    )(func)
    func = click.option(
        "--recreate-failed",
        is_flag=True,
        help="Plan stacks that failed to create as created again.",
    )(func)
    return func


def _make_plan(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
) -> Plan:
    from stackyard.plan.planner import PlanOptions

    project = wiring.load_project(inv)
    wiring.check_forced(project, force)
    options = PlanOptions(
        stacks=inv.stacks,
        recreate_failed=recreate_failed,
        force=frozenset(force),
        change_sets=change_sets,
    )
    with wiring.gateway(inv, local, retry_mode) as gateway:
        return _planner(project, gateway).plan(options)


@click.command()
@config_arguments
@wiring.aws_options
@_plan_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on error.",
)
@click.pass_context
def diff(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
    as_json: bool,
    detailed_exitcode: bool,
) -> None:
    """Show what a build would change, stack by stack and property by property."""
    try:
        plan = _make_plan(inv, local, retry_mode, recreate_failed, force, change_sets)
    except StackyardError as exc:
        if not detailed_exitcode:
            raise
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)
    if as_json:
        click.echo(plan.to_json())
    else:
        from stackyard.ui.diff import render_plan

        render_plan(plan, wiring.console(), details=True)
    if detailed_exitcode:
        ctx.exit(2 if plan.has_changes else 0)


@click.command()
@config_arguments
@wiring.aws_options
@_plan_options
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    metavar="PLANFILE",
    help="Write the plan (JSON, with fingerprints) to this file.",
)
def plan(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    recreate_failed: bool,
    force: tuple[str, ...],
    change_sets: bool,
    out: str,
) -> None:
    """Save a plan to review; `stackyard apply PLANFILE` executes exactly it."""
    from stackyard.ui.diff import render_plan

    made = _make_plan(inv, local, retry_mode, recreate_failed, force, change_sets)
    Path(out).write_text(made.to_json() + "\n", encoding="utf-8")
    console = wiring.console()
    render_plan(made, console, details=True)
    console.print(f"plan saved to {out}; apply it with `stackyard apply {out} ...`")


def _read_plan(path: str) -> Plan:
    from stackyard.plan.model import Plan

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read plan file {path}: {exc.strerror}") from None
    return Plan.from_json(text)


def _saved_options(saved: Plan, project: Project) -> PlanOptions:
    """The choices the saved plan was made with, read back from its actions."""
    from stackyard.plan.model import StackAction
    from stackyard.plan.planner import PlanOptions

    known = {s.name for s in project.loaded.config.stacks}
    forced = frozenset(
        s.name
        for s in saved.stacks
        if s.name in known
        and project.stack(s.name).locked
        and s.action not in (StackAction.SKIP_LOCKED, StackAction.BLOCKED)
    )
    return PlanOptions(
        stacks=tuple(s.name for s in saved.stacks if s.name in known),
        recreate_failed=any(s.action is StackAction.RECREATE for s in saved.stacks),
        force=forced,
    )


@click.command()
@config_arguments(leading="PLANFILE")
@wiring.aws_options
@click.option("-j", "--max-parallel", type=click.IntRange(min=0), default=0, metavar="N")
@click.pass_context
def apply(
    ctx: click.Context,
    planfile: str,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    max_parallel: int,
) -> None:
    """Execute a saved plan: PLANFILE [ENVIRONMENT_FILE] CONFIG. Refuses if anything moved."""
    from stackyard.engine.run import RunOptions
    from stackyard.engine.run import build as run_build
    from stackyard.plan.fingerprint import moved_in_plan

    if inv.stacks:
        raise UsageError("apply takes its stacks from the plan; --stacks/--targets do not apply")
    saved = _read_plan(planfile)
    project = wiring.load_project(inv)
    options = _saved_options(saved, project)
    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        current = _planner(project, gateway).fingerprints(options)
        moved = moved_in_plan(saved, current)
        if moved:
            raise StackyardError(
                "refusing to apply: things moved since the plan was made:\n"
                + "\n".join(f"  - {m}" for m in moved),
                hint="make and review the plan again (stackyard plan -o PLANFILE ...)",
            )
        changing = [s.name for s in saved.stacks if s.will_change]
        console.print(
            f"plan of {saved.created_at} matches what is deployed; applying "
            f"{len(changing)} changing stack(s) of {len(saved.stacks)}",
            highlight=False,
        )
        run_options = RunOptions(
            stacks=options.stacks,
            max_parallel=max_parallel,
            recreate_failed=options.recreate_failed,
            force=options.force,
        )
        code = wiring.run_engine(
            "apply",
            run_build,
            project,
            run_options,
            gateway,
            console,
            verbose=inv.verbose,
            reviewed=saved,
        )
    ctx.exit(code)
