"""Headless Chromium for tests of web pages: Debian's ``chromium``, installed when missing.

``chromium()`` returns the binary. When it is absent and we are root, it is installed with
apt-get (waiting for the package lock another install may hold); when that is impossible
the calling test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

_NAMES = ("chromium", "chromium-browser")


def _found() -> str | None:
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def _install() -> str:
    """Why installing failed, or ``""`` when it worked."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "chromium is not installed and installing it needs root (apt-get install chromium)"
    if shutil.which("apt-get") is None:
        return "chromium is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    for args in (["update", "-qq"], ["install", "-y", "-qq", "chromium"]):
        done = subprocess.run(
            ["apt-get", *lock, *args], env=env, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            return f"apt-get {' '.join(args)} failed: {done.stderr.strip()[-300:]}"
    return ""


def chromium() -> str:
    """The headless Chromium binary; installs it, or skips the test saying why."""
    found = _found()
    if found is None:
        failure = _install()
        found = _found()
        if found is None:
            pytest.skip(failure or "chromium could not be installed")
    return found


def run_headless(
    binary: str, page: Path, profile: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with every network request made to fail, logging
    the page's console messages to stderr (``...:CONSOLE...`` lines)."""
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            f"--user-data-dir={profile}",
            *extra,
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
