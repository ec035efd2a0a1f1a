"""The built-in ``command`` hook: run a program, optionally capturing its output.

Arguments follow stacker's ``run_command``: ``command`` (a list of arguments, or a string),
``capture``, ``interactive``, ``ignore_status``, ``quiet``, ``stdin`` and ``env`` (added to
the environment); any other argument goes to ``subprocess.Popen`` as in stacker (``cwd``,
``shell``...). A string runs through the shell unless ``shell: false`` is given (stacker
passed it to ``Popen`` as is, which runs a string only when it is a bare program name). It
returns ``{"returncode", "stdout", "stderr"}`` (text), so with a ``data_key`` the output can
be read by ``${hook_data KEY::stdout}``; a non-zero exit fails the hook unless
``ignore_status`` is set. ``quiet`` and ``capture`` together are refused, as in stacker.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from stackyard.errors import ConfigError
from stackyard.process_env import for_children

__all__ = ["run_command"]


def run_command(
    *,
    context: Any = None,
    provider: Any = None,
    command: str | Sequence[str],
    capture: bool = False,
    interactive: bool = False,
    ignore_status: bool = False,
    quiet: bool = False,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    **popen: Any,
) -> dict[str, Any] | bool:
    """Run ``command``; the result mapping, or False when it exits non-zero."""
    if quiet and capture:
        raise ConfigError(
            "stacker.hooks.command.run_command: cannot enable `quiet` and `capture` "
            "options simultaneously",
            hint="capture keeps the output for hook_data; quiet throws it away: pick one",
        )
    shell = bool(popen.pop("shell", isinstance(command, str)))
    args: str | list[str] = command if isinstance(command, str) else [str(c) for c in command]
    environ = {**for_children(), **{k: str(v) for k, v in (env or {}).items()}}
    out: int | None = None
    if capture:
        out = subprocess.PIPE
    elif quiet:
        out = subprocess.DEVNULL
    completed = subprocess.run(
        args,
        shell=shell,
        env=environ,
        input=stdin,
        stdin=None if interactive or stdin is not None else subprocess.DEVNULL,
        stdout=out,
        stderr=out,
        text=True,
        check=False,
        **popen,
    )
    if completed.returncode != 0 and not ignore_status:
        return False
    return {
        "returncode": completed.returncode,
        "stdout": completed.stdout if capture else None,
        "stderr": completed.stderr if capture else None,
    }
