"""Entry point: the command group, global flags, and turning errors into exit codes."""

from __future__ import annotations

import sys
from typing import Any

import click

from stackyard import __version__
from stackyard.cli.lazy import LazyGroup
from stackyard.errors import StackyardError

COMMANDS: dict[str, tuple[str, str]] = {
    "graph": ("stackyard.cli.static:graph", "Show the stack dependency graph (dot or json)."),
    "render": ("stackyard.cli.static:render", "Render templates and parameters, without AWS."),
    "validate": ("stackyard.cli.static:validate", "Check config, blueprints and templates."),
    "build": (
        "stackyard.cli.apply:build",
        "Create or update stacks, in parallel, as soon as ready.",
    ),
    "diff": (
        "stackyard.cli.plan:diff",
        "Show what a build would change; --detailed-exitcode for CI.",
    ),
    "plan": ("stackyard.cli.plan:plan", "Save a plan to review and apply (-o PLANFILE)."),
    "apply": ("stackyard.cli.plan:apply", "Execute a saved plan; refuses if anything moved."),
    "destroy": ("stackyard.cli.apply:destroy", "Delete stacks in reverse dependency order."),
    "info": (
        "stackyard.cli.apply:info",
        "Show deployed stacks: status, outputs, drift from config.",
    ),
    "secrets": (
        "stackyard.cli.secrets:secrets",
        "Put, read, list, audit secrets in SSM under one key.",
    ),
    "local": ("stackyard.local.cli:local", "Run the embedded local AWS endpoint."),
    "fleet": ("stackyard.cli.fleet:fleet", "Roll a new AMI onto the ECS pools; show what runs."),
    "apps": ("stackyard.cli.apps:apps", "Apps on ECS: deploy, config, scale, ps, rollback."),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="stackyard")
@click.option("--debug", is_flag=True, help="Show a traceback for errors (for bug reports).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Run AWS infrastructure as reviewed code.

    Commands take stacker's arguments: stackyard COMMAND [options] [ENVIRONMENT_FILE] CONFIG
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; StackyardErrors become one clear message and their exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        # Without standalone mode, click returns the code of a raised `Exit`.
        code = cli.main(args=argv, prog_name="stackyard", standalone_mode=False)
    except StackyardError as exc:
        if debug:
            raise
        _error(str(exc))
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _error("aborted")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  hint: this is a bug in stackyard; rerun with --debug and report the traceback"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def notice(message: Any) -> None:
    """A line for the user on stderr that is neither output nor an error."""
    click.echo(f"notice: {message}", err=True)
