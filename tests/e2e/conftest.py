"""End-to-end tests run the installed ``stackyard`` command as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

STACKYARD = Path(sys.executable).with_name("stackyard")


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``stackyard ARGS...`` in a subprocess; returns the completed process."""

    def run(
        *args: str, cwd: Path | None = None, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )

    return run
