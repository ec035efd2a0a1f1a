"""Commands that need no AWS: ``graph``, ``render`` and ``validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stackyard.cli import wiring
from stackyard.cli.options import NO_EFFECT, Invocation, config_arguments, stacker_flags


@click.command()
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["dot", "json"]),
    default="dot",
    show_default=True,
    help='dot: stacker\'s Graphviz text, "digraph digraph {" and one line "STACK" -> '
    '"WHAT IT NEEDS"; per edge (a stack with no edge gets a line of its own). json: '
    'stacker\'s {"steps": {STACK: {"deps": [...]}}}, plus "nodes" with the reason for each '
    "edge.",
)
@click.option(
    "--reduce",
    is_flag=True,
    help="Transitive reduction: drop an edge when a longer path already implies it.",
)
@stacker_flags(interactive=NO_EFFECT, replacements_only=NO_EFFECT)
@config_arguments
def graph(
    fmt: str,
    reduce: bool,
    interactive: bool,
    replacements_only: bool,
    recreate_failed: bool,
    inv: Invocation,
) -> None:
    """Show the stack dependency graph (no AWS): an arrow points from a stack to what it
    needs, so what it points to is built first and destroyed last."""
    selected = wiring.load_project(inv).selected(inv.stacks)
    if reduce:
        selected = selected.reduced()
    click.echo(selected.to_dot() if fmt == "dot" else selected.to_json(), nl=False)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write <stack name>.json and <stack name>.parameters.json here instead of printing "
    "(the CloudFormation stack name, with the namespace).",
)
@config_arguments
def render(out_dir: str | None, inv: Invocation) -> None:
    """Render each stack's template and parameters without AWS.

    Values that need AWS (outputs of other stacks, SSM, KMS...) are shown as
    "(known after apply: ...)"; secret values are masked.
    """
    project = wiring.load_project(inv)
    resolve = project.resolve_context(aws=None)
    for name in project.selected(inv.stacks).stacks:
        desired = project.render(name, resolve)
        parameters = _shown_parameters(desired)
        if out_dir:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{desired.fqn}.json").write_text(_pretty(desired.template_body))
            (folder / f"{desired.fqn}.parameters.json").write_text(
                json.dumps(parameters, indent=2, sort_keys=True) + "\n"
            )
            click.echo(f"{name}: wrote {folder / (desired.fqn + '.json')}")
        else:
            click.echo(f"# stack {name} ({desired.fqn})")
            click.echo(_pretty(desired.template_body), nl=False)
            click.echo(f"# parameters of {name}")
            click.echo(json.dumps(parameters, indent=2, sort_keys=True))


@click.command()
@click.option("--no-lint", is_flag=True, help="Skip cfn-lint on the rendered templates.")
@config_arguments
def validate(no_lint: bool, inv: Invocation) -> None:
    """Check the config, every blueprint and template, and lint the rendered templates."""
    project = wiring.load_project(inv)
    resolve = project.resolve_context(aws=None)
    names = project.selected(inv.stacks).stacks
    rendered = [project.render(name, resolve) for name in names]
    for warning in project.warnings:
        click.echo(f"warning: {warning}")
    problems = 0
    if not no_lint:
        problems = _lint(project, rendered)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"ok: {len(rendered)} stack{'s' if len(rendered) != 1 else ''} valid")


def _lint(project: Any, rendered: list[Any]) -> int:
    """cfn-lint each distinct template once; print findings with file:line; count errors."""
    from stackyard.lint import Finding, lint_template
    from stackyard.preflight import place

    seen: dict[tuple[str, str], list[Finding]] = {}
    errors = 0
    for desired in rendered:
        region = desired.region or "us-east-1"
        key = (desired.template_body, region)
        if key not in seen:
            seen[key] = lint_template(desired.template_body, region)
        for finding in seen[key]:
            file, line = place(finding.parts, project.blueprints[desired.name])
            where = f"{file}:{line}" if line else (file or desired.name)
            click.echo(f"{desired.name}: {where}: {finding}")
            errors += finding.is_error
    return errors


def _shown_parameters(desired: Any) -> dict[str, Any]:
    from stackyard.lookups.secret import is_secret

    shown: dict[str, Any] = {}
    for key, value in desired.parameters.items():
        masked = key in desired.no_echo or is_secret(value)
        shown[key] = "****" if masked else value
    return shown


def _pretty(template_body: str) -> str:
    return json.dumps(json.loads(template_body), indent=2) + "\n"
