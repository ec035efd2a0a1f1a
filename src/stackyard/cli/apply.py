"""``build``, ``destroy`` and ``info``: the commands that act on (or read) AWS.

Wiring only: load the project, make the gateway (``--local`` points it at the
local endpoint and changes nothing else), run the engine with a progress view,
turn the result into an exit code: 0 ok, 1 failure, 2 usage or config, 130
interrupted. Heavy imports stay inside the functions so ``--help`` is instant.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments
from stackyard.errors import UsageError

__all__ = ["build", "destroy", "info"]


def _run_options(func: Any) -> Any:
    func = click.option(
        "--stats", is_flag=True, help="Print the CloudFormation calls made, by action."
    )(func)
    func = click.option(
        "-j",
        "--max-parallel",
        type=click.IntRange(min=0),
        default=0,
        metavar="N",
        help="Work on at most N stacks at once (default: no limit).",
    )(func)
    return func


def _approve_option(func: Any) -> Any:
    return click.option(
        "--approve-protected",
        is_flag=True,
        help="Break glass: run protected changes without asking (says so loudly).",
    )(func)


@click.command()
@config_arguments
@wiring.aws_options
@_run_options
@click.option(
    "--recreate-failed",
    is_flag=True,
    help="Delete and create again stacks stackyard created that failed to create.",
)
@click.option(
    "--force",
    "force",
    multiple=True,
    metavar="NAME",
    help="Update this locked stack anyway. Repeatable.",
)
@_approve_option
@click.pass_context
def build(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    max_parallel: int,
    stats: bool,
    recreate_failed: bool,
    force: tuple[str, ...],
    approve_protected: bool,
) -> None:
    """Create or update stacks, each as soon as what it needs is done.

    Changes to protected stacks and resources are shown and asked about first on a
    terminal; without one they are not run, and the build exits 3.
    """
    from stackyard.engine.run import RunOptions
    from stackyard.engine.run import build as run_build

    project = wiring.load_project(inv)
    wiring.check_forced(project, force)
    options = RunOptions(
        stacks=inv.stacks,
        max_parallel=max_parallel,
        recreate_failed=recreate_failed,
        force=frozenset(force),
    )
    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        code = wiring.run_engine(
            "build",
            run_build,
            project,
            options,
            gateway,
            console,
            verbose=inv.verbose,
            stats=stats,
            approve_protected=approve_protected,
        )
    ctx.exit(code)


@click.command()
@config_arguments
@wiring.aws_options
@_run_options
@click.option("-y", "--yes", is_flag=True, help="Delete without asking.")
@click.option(
    "--force",
    "force",
    is_flag=True,
    help="Same as --yes (stacker's spelling, for existing scripts).",
)
@click.option(
    "--disable-termination-protection",
    is_flag=True,
    help="Turn termination protection off on stacks that have it, then delete them.",
)
@_approve_option
@click.pass_context
def destroy(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    max_parallel: int,
    stats: bool,
    yes: bool,
    force: bool,
    disable_termination_protection: bool,
    approve_protected: bool,
) -> None:
    """Delete stacks, dependents first. Asks first unless --yes; protected stacks need
    approval on top (a prompt on a terminal, else --approve-protected)."""
    from stackyard.engine.run import RunOptions, destroy_selection, stack_locations
    from stackyard.engine.run import destroy as run_destroy

    project = wiring.load_project(inv)
    options = RunOptions(
        stacks=inv.stacks,
        max_parallel=max_parallel,
        disable_termination_protection=disable_termination_protection,
    )
    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        graph = destroy_selection(project, inv.stacks)
        names = [n for n in reversed(graph.order()) if n not in graph.targets]
        locations = stack_locations(project, names)
        existing = []
        for name in names:
            deployed = gateway.cached(project.fqn(name), locations[name])
            if deployed is not None:
                existing.append((name, deployed))
        if not existing:
            console.print("nothing to delete: none of the selected stacks exists")
            ctx.exit(0)
        if not (yes or force):
            console.print("These stacks will be deleted, in this order:")
            for _name, deployed in existing:
                protected = " [termination protection]" if deployed.termination_protection else ""
                console.print(f"  {deployed.name} ({deployed.status}){protected}", highlight=False)
            if not sys.stdin.isatty():
                raise UsageError(
                    "refusing to delete stacks without confirmation",
                    hint="pass --yes (or --force) to delete without asking",
                )
            click.confirm("Delete them?", abort=True)
        code = wiring.run_engine(
            "destroy",
            run_destroy,
            project,
            options,
            gateway,
            console,
            verbose=inv.verbose,
            stats=stats,
            approve_protected=approve_protected,
        )
    ctx.exit(code)


@click.command()
@config_arguments
@wiring.aws_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    as_json: bool,
) -> None:
    """Show deployed stacks: status, outputs, last change, and drift from the config."""
    import json

    from stackyard.aws.session import Location
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.engine.run import stack_locations
    from stackyard.plan.status import stack_info

    project = wiring.load_project(inv)
    graph = project.selected(inv.stacks)
    names = [n for n in graph.order() if n not in graph.targets]
    with wiring.gateway(inv, local, retry_mode) as gateway:
        locations = stack_locations(project, names)
        access = EngineAWSAccess(
            gateway,
            default=Location(project.region, project.profile),
            locations={project.fqn(n): loc for n, loc in locations.items()},
        )
        infos = stack_info(project, gateway, access, names, locations)
    if as_json:
        click.echo(json.dumps({"stacks": [i.to_json() for i in infos]}, indent=2))
        return
    from stackyard.ui.info import render_info

    render_info(wiring.console(), infos, verbose=inv.verbose)
