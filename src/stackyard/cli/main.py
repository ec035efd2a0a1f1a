"""Entry point: the command group, global flags, and turning errors into exit codes."""

from __future__ import annotations

import os
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
    "approve": (
        "stackyard.cli.approve:approve",
        "Sign an approval of a saved plan's protected changes (for apply).",
    ),
    "report": (
        "stackyard.cli.report:report",
        "Render a saved plan as an offline HTML page or pull-request Markdown.",
    ),
    "destroy": ("stackyard.cli.apply:destroy", "Delete stacks in reverse dependency order."),
    "info": (
        "stackyard.cli.apply:info",
        "Show deployed stacks: status, outputs, drift from config.",
    ),
    "audit": (
        "stackyard.cli.audit:audit",
        "Audit what the config does not say: `audit dns` (unmanaged, dangling records).",
    ),
    "drift": (
        "stackyard.cli.drift:drift",
        "Detect drift: resources changed outside CloudFormation (exit 2 when drifted).",
    ),
    "secrets": (
        "stackyard.cli.secrets:secrets",
        "Put, read, list, audit secrets in SSM under one key.",
    ),
    "local": ("stackyard.local.cli:local", "Run the embedded local AWS endpoint."),
    "fleet": ("stackyard.cli.fleet:fleet", "Roll a new AMI onto the ECS pools; show what runs."),
    "init": ("stackyard.cli.init:init", "Write a minimal working project to start from."),
    "completion": (
        "stackyard.cli.completion:completion",
        "Print the shell completion script (bash, zsh, fish).",
    ),
    "apps": ("stackyard.cli.apps:apps", "Apps on ECS: deploy, config, scale, ps, rollback."),
    "server": ("stackyard.cli.server:server", "The control plane: API, Slack, CD, dashboard."),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="stackyard")
@click.option(
    "--debug", is_flag=True, help="Show a traceback for errors (for bug reports). Anywhere."
)
@click.option(
    "--no-color", is_flag=True, help="No colour in the output (as NO_COLOR=1 does). Anywhere."
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Run AWS infrastructure as reviewed code.

    Commands take stacker's arguments: stackyard COMMAND [options] [ENVIRONMENT_FILE] CONFIG

    Without a terminal, output is never wrapped or cut; set COLUMNS to choose a width.
    NO_COLOR (or --no-color) turns colour off.

    Exit codes: 0 done; 1 a stack failed or a saved plan no longer matches; 2 usage or config
    error; 3 protected changes held or declined (or a deletion lacking approval); 130
    interrupted. `diff --detailed-exitcode`: 0 no changes, 2 changes, 1 error or a stack that
    cannot be applied.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


GLOBAL_FLAGS = ("--debug", "--no-color")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; StackyardErrors become one clear message and their exit code."""
    args = list(argv if argv is not None else sys.argv[1:])
    # The global flags work anywhere on the line, not only before the command.
    given = {flag for flag in GLOBAL_FLAGS if flag in args}
    args = [*sorted(given), *(a for a in args if a not in GLOBAL_FLAGS)]
    debug = "--debug" in given
    if "--no-color" in given:
        os.environ["NO_COLOR"] = "1"
    try:
        # Without standalone mode, click returns the code of a raised `Exit`.
        code = cli.main(args=args, prog_name="stackyard", standalone_mode=False)
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
