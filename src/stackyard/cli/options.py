"""Options shared by the commands, in stacker's shape so existing scripts keep working.

    stackyard COMMAND [options] [ENVIRONMENT_FILE] CONFIG

The config (``-`` reads standard input) and an optional environment file may come in
either order: the config is the one with a top-level ``stacks:`` key. When neither has
one, stacker's order holds (environment file first); when both do, the command refuses
rather than guess.
"""

from __future__ import annotations

import functools
import re
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
def config_arguments(
    *, leading: str | None = None, dependents: bool = False
) -> Callable[[F], F]: ...


def config_arguments(
    func: F | None = None, *, leading: str | None = None, dependents: bool = False
) -> Any:
    """Add ``[ENVIRONMENT_FILE] CONFIG`` and the common options to a command.

    The command receives them as one ``inv: Invocation``. With ``leading``
    (e.g. ``"PLANFILE"``), one more file comes first and is passed under that
    name in lower case. ``dependents``: the command works on a selected stack and the
    stacks that depend on it (``destroy``), not on what it needs.
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
        for decorator in reversed(_common_options(metavar, dependents)):
            wrapped = decorator(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate(func) if func is not None else decorate


def _common_options(metavar: str, dependents: bool) -> list[Callable[[Any], Any]]:
    also = "and the stacks that depend on them" if dependents else "and what they need"
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
            help=f"Only these stacks ({also}). Repeatable.",
        ),
        click.option(
            "--targets",
            "--target",
            "targets",
            multiple=True,
            metavar="NAME",
            help=f"Only these targets or stacks ({also}). Repeatable.",
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
    environment_file, config_path = _ordered(files) if len(files) == 2 else (None, files[0])
    return Invocation(
        config_path=config_path,
        environment_file=environment_file,
        overrides=overrides,
        region=region,
        profile=profile,
        stacks=(*stacks, *targets),
        verbose=verbose,
    )


# A top-level `stacks:` in YAML, or a "stacks" key in a JSON config.
_STACKS_KEY = re.compile(
    rb"^[\"']?stacks[\"']?[ \t]*:|[{,][ \t\r\n]*\"stacks\"[ \t]*:", re.MULTILINE
)


def _ordered(files: tuple[str, ...]) -> tuple[str, str]:
    """(environment file, config) from two positional files given in either order."""
    first, second = files
    if second == "-" or first == "-":
        return (first, second) if second == "-" else (second, first)
    first_is, second_is = _looks_like_config(first), _looks_like_config(second)
    if second_is and not first_is:
        return first, second
    if first_is and not second_is:
        return second, first
    if not (first_is and second_is):
        # Neither (or one is missing): stacker's order; loading names any problem.
        return first, second
    raise UsageError(
        f"cannot tell the config from the environment file: both {first} and "
        f"{second} have a top-level 'stacks:' key",
        hint="stackyard COMMAND [ENVIRONMENT_FILE] CONFIG; the config lists its stacks "
        "under 'stacks:'",
    )


def _looks_like_config(path: str) -> bool | None:
    """Whether the file has a top-level ``stacks:`` key; None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return _STACKS_KEY.search(handle.read(1 << 20)) is not None
    except OSError:
        return None


# What stacker's -i, --replacements-only and --recreate-failed mean to a command that has
# no use for them (stacker 1.7 accepted all three on every command).
NO_EFFECT = "Accepted, as stacker accepted it here; it changes nothing for this command."


def stacker_flags(
    *, interactive: str, replacements_only: str, recreate_failed: str | None = NO_EFFECT
) -> Callable[[F], F]:
    """stacker 1.7's ``-i/--interactive``, ``--replacements-only`` and ``--recreate-failed``,
    with what each means to this command. ``recreate_failed=None``: the command declares
    its own ``--recreate-failed``. The command receives ``interactive`` and
    ``replacements_only`` (and ``recreate_failed``) as keyword arguments."""

    def decorate(command: F) -> F:
        wrapped: Any = command
        if recreate_failed is not None:
            wrapped = click.option("--recreate-failed", is_flag=True, help=recreate_failed)(wrapped)
        wrapped = click.option("--replacements-only", is_flag=True, help=replacements_only)(wrapped)
        wrapped = click.option("-i", "--interactive", is_flag=True, help=interactive)(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate
