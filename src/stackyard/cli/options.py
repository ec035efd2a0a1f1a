"""Options shared by the commands, in stacker's shape so existing scripts keep working.

    stackyard COMMAND [options] [ENVIRONMENT_FILE] CONFIG

The last positional argument is the config (``-`` reads standard input); an
optional one before it is the environment file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

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


@overload
def config_arguments(func: F) -> F: ...


@overload
def config_arguments(*, leading: str) -> Callable[[F], F]: ...


def config_arguments(func: F | None = None, *, leading: str | None = None) -> Any:
    """Add ``[ENVIRONMENT_FILE] CONFIG`` and the common options to a command.

    The command receives them as one ``inv: Invocation``. With ``leading``
    (e.g. ``"PLANFILE"``), one more file comes first and is passed under that
    name in lower case.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_invocation(
            *args: Any,
            files: tuple[str, ...],
            overrides: tuple[str, ...],
            region: str | None,
            profile: str | None,
            stacks: tuple[str, ...],
            targets: tuple[str, ...],
            verbose: int,
            **kwargs: Any,
        ) -> Any:
            if leading:
                if not files:
                    raise UsageError(
                        f"missing {leading}", hint=f"{leading} [ENVIRONMENT_FILE] CONFIG"
                    )
                kwargs[leading.lower()] = files[0]
                files = files[1:]
            inv = invocation(files, overrides, region, profile, stacks, targets, verbose)
            return command(*args, inv=inv, **kwargs)

        metavar = f"{leading} [ENVIRONMENT_FILE] CONFIG" if leading else "[ENVIRONMENT_FILE] CONFIG"
        wrapped: Any = with_invocation
        for decorator in reversed(_common_options(metavar)):
            wrapped = decorator(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate(func) if func is not None else decorate


def _common_options(metavar: str) -> list[Callable[[Any], Any]]:
    return [
        click.argument("files", nargs=-1, metavar=metavar),
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
