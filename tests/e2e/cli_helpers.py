"""Running the installed ``stackyard`` command from a test, in one folder with one environment."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

STACKYARD = Path(sys.executable).with_name("stackyard")

CLI = Callable[..., subprocess.CompletedProcess[str]]


def cli_in(
    folder: Path, env: Mapping[str, str], *, timeout: float = 180, stdin: str | None = None
) -> CLI:
    """``run(*args, stdin=...)``: ``stackyard ARGS...`` in ``folder`` with ``env``, its output
    captured as text; standard input is ``stdin`` (default: the one given here; None: the
    test's own, "": an empty pipe, so never a terminal)."""
    default_stdin = stdin

    def run(*args: str, stdin: str | None = default_stdin) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=folder,
            env=dict(env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
