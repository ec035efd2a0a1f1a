"""``drift``: CloudFormation drift detection on the config's deployed stacks.

Exit codes: 0 every checked stack is in sync, 2 something drifted, 1 an error.
"""

from __future__ import annotations

import click

from stackyard.cli import wiring
from stackyard.cli.options import Invocation, config_arguments

__all__ = ["drift"]

DRIFTED_EXIT = 2


@click.command()
@config_arguments
@wiring.aws_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the detections.",
)
@click.pass_context
def drift(
    ctx: click.Context,
    inv: Invocation,
    local: bool,
    retry_mode: str,
    as_json: bool,
    timeout: float,
) -> None:
    """Detect drift: what changed outside CloudFormation, property by property.

    Starts drift detection on each deployed stack (--stacks: only those), waits, and shows
    every drifted resource's differences (expected → actual). Exit codes: 0 in sync,
    2 drifted, 1 an error.
    """
    import json

    from stackyard.aws.drift import DriftTarget, detect_drift

    project = wiring.load_project(inv)
    graph = project.selected(inv.stacks)
    names = [n for n in graph.order() if n not in graph.targets]
    targets = [DriftTarget(n, project.fqn(n), project.location(n)) for n in names]
    with wiring.gateway(inv, local, retry_mode) as gateway:
        for location in sorted({t.location for t in targets}, key=lambda x: x.sort_key):
            gateway.list_stacks(location)
        drifts = detect_drift(gateway, targets, timeout=timeout)
    if as_json:
        click.echo(json.dumps({"stacks": [d.to_json() for d in drifts]}, indent=2, default=str))
    else:
        from stackyard.ui.drift import render_drift

        render_drift(wiring.console(), drifts)
    ctx.exit(DRIFTED_EXIT if any(d.drifted for d in drifts) else 0)
