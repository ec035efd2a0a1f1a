"""Options shared by the commands, in stacker's shape so existing scripts keep working.

    stackyard COMMAND [options] [ENVIRONMENT_FILE] CONFIG

The last positional argument is the config (``-`` reads standard input); an
optional one before it is the environment file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from stackyard.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Invocation:
    """What the user asked for, common to every config-reading command."""

    config_path: str
    environment_file: str | None
    overrides: tuple[str, ...]
    region: str | None
    profile: str | None
    stacks: tuple[str, ...]
    verbose: int


def config_arguments(func: F) -> F:
    """Add ``[ENVIRONMENT_FILE] CONFIG`` and the common options to a command."""
    decorators = [
        click.argument("files", nargs=-1, metavar="[ENVIRONMENT_FILE] CONFIG"),
        click.option(
            "-e",
            "--env",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Set an environment value (overrides the environment file).",
        ),
        click.option("-r", "--region", help="Default AWS region for stacks that name none."),
        click.option("-p", "--profile", help="Default AWS profile for stacks that name none."),
        click.option(
            "--stacks",
            "--stack",
            "stacks",
            multiple=True,
            metavar="NAME",
            help="Only these stacks (and what they need). Repeatable.",
        ),
        click.option(
            "--targets",
            "--target",
            "targets",
            multiple=True,
            metavar="NAME",
            help="Only these targets or stacks (and what they need). Repeatable.",
        ),
        click.option("-v", "--verbose", count=True, help="More output; repeat for more."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def invocation(
    files: tuple[str, ...],
    overrides: tuple[str, ...],
    region: str | None,
    profile: str | None,
    stacks: tuple[str, ...],
    targets: tuple[str, ...],
    verbose: int,
) -> Invocation:
    """Interpret the positional files and common options."""
    if not files:
        raise UsageError(
            "missing CONFIG", hint="stackyard COMMAND [ENVIRONMENT_FILE] CONFIG (CONFIG may be -)"
        )
    if len(files) > 2:
        raise UsageError(
            f"expected [ENVIRONMENT_FILE] CONFIG, got {len(files)} files: {' '.join(files)}",
            hint="options go before the files; repeat --stacks for several stacks",
        )
    environment_file = files[0] if len(files) == 2 else None
    return Invocation(
        config_path=files[-1],
        environment_file=environment_file,
        overrides=overrides,
        region=region,
        profile=profile,
        stacks=(*stacks, *targets),
        verbose=verbose,
    )
