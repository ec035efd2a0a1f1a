"""Small things that erode trust, each fixed and shown through the installed CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

STACKYARD = Path(sys.executable).with_name("stackyard")
TOPIC = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'


class Cli:
    """The CLI in one folder, with its own local endpoint home."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "NO_COLOR": "1", "STACKYARD_HOME": str(folder / "home")}

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Cli]:
    """A folder with a protected one-stack config, and a running local endpoint."""
    (tmp_path / "t.json").write_text(TOPIC)
    (tmp_path / "c.yaml").write_text(
        "namespace: small\nstacks:\n  - name: kept\n    template_path: t.json\n"
        "    protected: true\n"
    )
    cli = Cli(tmp_path)
    assert cli("local", "up", "--port", "0").returncode == 0
    try:
        yield cli
    finally:
        cli("local", "down")


def test_info_after_a_clean_build_of_a_protected_stack_is_in_sync(local: Cli) -> None:
    built = local("build", "--local", "--approve-protected", "c.yaml")
    assert built.returncode == 0, built.stdout + built.stderr
    info = local("info", "--local", "--json", "c.yaml")
    assert info.returncode == 0, info.stderr
    (stack,) = json.loads(info.stdout)["stacks"]
    assert stack["drift"] == "in sync", stack
    diff = local("diff", "--local", "--detailed-exitcode", "c.yaml")
    assert diff.returncode == 0, diff.stdout


def test_every_config_problem_is_shown_at_once(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "namespace: t\nstacks:\n  - name: a\n    clas_path: x.Y\n"
        "  - name: b\n    requries: [a]\n  - name: c\n    tags: 5\n"
    )
    result = Cli(tmp_path)("validate", "c.yaml")
    assert result.returncode == 2
    for line, fragment in ((4, "'clas_path'"), (6, "'requries'"), (8, "tags")):
        assert any(
            f"c.yaml:{line}" in text and fragment in text for text in result.stderr.splitlines()
        ), result.stderr
    assert "more problem" not in result.stderr


def test_twenty_five_problems_are_capped_at_twenty(tmp_path: Path) -> None:
    stacks = "".join(f"  - name: s{i}\n    bogus{i}: 1\n" for i in range(25))
    (tmp_path / "c.yaml").write_text("namespace: t\nstacks:\n" + stacks)
    result = Cli(tmp_path)("validate", "c.yaml")
    assert result.returncode == 2
    assert result.stderr.count("unknown key 'bogus") == 20
    assert "... and 5 more" in result.stderr


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (["render"], "CloudFormation stack name"),
        (["apply"], "Work on at most N stacks at once"),
        (["fleet", "release"], "rewrites the environment file"),
    ],
)
def test_help_says_what_the_command_does(tmp_path: Path, command: list[str], fragment: str) -> None:
    result = Cli(tmp_path)(*command, "--help")
    assert result.returncode == 0
    assert fragment in " ".join(result.stdout.split())
