"""Running the installed ``stackyard`` command from a test, in one folder with one environment."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


def local_up(run: CLI, latency: str = "resource=0s") -> str:
    """``stackyard local up`` through ``run`` (in its home); the endpoint's URL."""
    up = run("local", "up", "--port", "0", "--latency", latency)
    assert up.returncode == 0, up.stdout + up.stderr
    found = re.search(r"AWS_ENDPOINT_URL=(\S+)", up.stdout + up.stderr)
    assert found, up.stdout + up.stderr
    return found.group(1)


def local_client(endpoint: str, service: str) -> Any:
    """A boto3 client of ``service`` on the local endpoint (its test credentials)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
