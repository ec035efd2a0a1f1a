"""``fleet release`` and ``fleet status``: roll a new AMI onto the capacity pools.

Wiring and rendering only; the release itself is :mod:`stackyard.fleet`. ``release``
checks everything it can without AWS first (AMI shape, pool names, where each AMI
comes from), shows the plan, asks (``--yes`` skips; without a terminal it is
required), records the AMI in the environment file and rolls the pools.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments
from stackyard.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from stackyard.fleet import PoolStatus, Release

__all__ = ["fleet"]


@click.group()
def fleet() -> None:
    """Roll a new AMI onto the ECS capacity pools; show what each pool runs."""


def _render_release(console: Console, release: Release, parallel: bool, verbose: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    from stackyard.ui.diff import render_stack, summary_line

    console.print(
        f"[bold]Release {release.ami}[/] to pools "
        + ", ".join(escape(p.label) for p in release.pools)
        + f" (environment key{'s' if len(release.keys) > 1 else ''} "
        + ", ".join(release.keys)
        + ")"
    )
    for plan in release.plans:
        console.print(summary_line(plan))
        rows = release.fleet_changes(plan)
        if rows:
            table = Table(box=None, padding=(0, 2), show_edge=False)
            for column in ("resource", "type", "what changes", "protected"):
                table.add_column(column, style="dim" if column == "type" else None)
            for logical, kind, what, protected in rows:
                table.add_row(
                    escape(logical),
                    kind,
                    escape(what),
                    "[bold magenta]yes: needs approval[/]" if protected else "no",
                )
            console.print(table)
        if verbose:
            render_stack(plan, console, details=True, summary=False)
    for warning in release.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    changing = [p.name for p in release.changing]
    if changing:
        how = "all at once" if parallel or len(changing) == 1 else "one at a time: "
        order = "" if parallel or len(changing) == 1 else " then ".join(changing)
        console.print(f"[bold]Rolls {len(changing)} stack(s) {how}{order}[/]")


@fleet.command()
@config_arguments
@wiring.aws_options
@click.option("--ami", required=True, metavar="AMI", help="The AMI to release (ami-...).")
@click.option(
    "--pools",
    "pools",
    multiple=True,
    metavar="NAME[,NAME]",
    help="Only these pools (pool or stack names; default: every pool). Repeatable.",
)
@click.option("--parallel", is_flag=True, help="Roll the pool stacks at once, not one by one.")
@click.option("-y", "--yes", is_flag=True, help="Roll without asking.")
@click.pass_context
def release(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    ami: str,
    pools: tuple[str, ...],
    parallel: bool,
    yes: bool,
) -> None:
    """Roll a new AMI onto the pools: show the plan, ask, record it, build the pools.

    Recording it rewrites the environment file: each pool's AMI key is set to AMI (added
    when missing), so the next build keeps the release.
    """
    from rich.markup import escape

    from stackyard.fleet import check_release, plan_release, record_ami, roll
    from stackyard.project import Project
    from stackyard.ui.progress import print_summary

    names = (*pools, *inv.stacks)
    if inv.environment_file is None:
        raise UsageError(
            "fleet release records the AMI in the environment file, and none was given",
            hint="stackyard fleet release --ami AMI ENVIRONMENT_FILE CONFIG",
        )
    project = wiring.load_project(inv)
    _, keys = check_release(project, ami, names)  # nothing touches AWS before this passes
    given = {pair.partition("=")[0] for pair in inv.overrides}
    clash = sorted(given & set(keys))
    if clash:
        raise UsageError(
            f"-e {clash[0]} conflicts with --ami, which sets that key",
            hint=f"leave out -e {clash[0]}=...",
        )

    def load(extra: Mapping[str, str]) -> Project:
        return Project.load(
            inv.config_path,
            environment_file=inv.environment_file,
            overrides={**_pairs(inv.overrides), **extra},
            region=inv.region,
            profile=inv.profile,
        )

    console = wiring.console()
    with wiring.gateway(inv, local, retry_mode) as gateway:
        plan, released = plan_release(project, gateway, ami, names, load=load)
        _render_release(console, plan, parallel, inv.verbose)
        if plan.is_noop:
            console.print(f"nothing to release: every selected pool runs {ami}")
            ctx.exit(0)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    "refusing to roll pools without confirmation",
                    hint="pass --yes to roll without asking",
                )
            protected = sum(1 for p in plan.changing if p.needs_approval)
            extra = f" ({protected} stack(s) change protected resources)" if protected else ""
            click.confirm(f"Roll these pools{extra}?", abort=True)
        for key, before in record_ami(inv.environment_file, plan.keys, ami):
            was = f"{before} → " if before else "(added) "
            console.print(
                f"recorded in {escape(inv.environment_file)}: {key}: {was}{ami} "
                "[dim](commit it: it is the release's record)[/]"
            )
        from stackyard.ui.approval import report_not_approved

        # Protected pools still need approval: --yes confirms the release, not them.
        outcome = wiring.run_in_view(
            console,
            lambda view, interrupt: roll(
                released,
                plan,
                gateway,
                parallel=parallel,
                listener=view,
                interrupt=interrupt,
                approvals=wiring.approval_policy(console, view),
            ),
            verbose=inv.verbose,
        )
        for result in outcome.results:
            print_summary(console, result)
            report_not_approved(console, result.approvals, "fleet release")
        if outcome.not_started:
            console.print(
                "[yellow]not rolled:[/] "
                + ", ".join(outcome.not_started)
                + " (the config records the release: run it again, or build, to continue)"
            )
        elif outcome.ok:
            rolled = ", ".join(p.name for p in plan.changing)
            console.print(f"[green]released {ami} to {escape(rolled)}[/]")
    ctx.exit(outcome.exit_code)


def _pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    return {k: v for k, _, v in (p.partition("=") for p in pairs)}


def _render_status(console: Console, rows: list[PoolStatus]) -> None:
    from rich.markup import escape
    from rich.table import Table

    styles = {"in sync": "green", "release pending": "yellow", "unknown": "red"}
    table = Table(box=None, padding=(0, 2), show_edge=False)
    for column in ("pool", "stack", "config", "launch template", "instances", "state"):
        table.add_column(column)
    for row in rows:
        version = (
            f"{row.deployed_ami} (v{row.template_version})"
            if row.template_version
            else (row.deployed_ami or "-")
        )
        instances = ", ".join(f"{n} on {ami}" for ami, n in sorted(row.instances.items())) or "-"
        style = styles.get(row.state, "dim")
        table.add_row(
            escape(row.pool),
            escape(row.stack),
            escape(row.config_ami),
            escape(version),
            escape(instances),
            f"[{style}]{row.state}[/]",
        )
    console.print(table)


@fleet.command()
@config_arguments
@wiring.aws_options
@click.option(
    "--pools",
    "pools",
    multiple=True,
    metavar="NAME[,NAME]",
    help="Only these pools (pool or stack names). Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(
    inv: Invocation,
    local: bool,
    retry_mode: str,
    pools: tuple[str, ...],
    as_json: bool,
) -> None:
    """The AMI each pool runs (launch template, instances) against the config."""
    import json

    from stackyard.fleet import fleet_status

    project = wiring.load_project(inv)
    names = (*pools, *inv.stacks)
    with wiring.gateway(inv, local, retry_mode) as gateway:
        rows = fleet_status(project, gateway, names)
    if as_json:
        click.echo(json.dumps({"pools": [r.to_json() for r in rows]}, indent=2))
        return
    _render_status(wiring.console(), rows)
