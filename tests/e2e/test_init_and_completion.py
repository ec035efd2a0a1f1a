"""`stackyard init` writes a project that validates and builds; `completion` prints scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STACKYARD = Path(sys.executable).with_name("stackyard")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "STACKYARD_HOME": str(folder / ".home")}
    return subprocess.run(
        [str(STACKYARD), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_init_writes_a_project_that_validates_and_builds(tmp_path: Path) -> None:
    made = run(tmp_path, "init")
    assert made.returncode == 0, made.stderr
    for name in ("stackyard.yaml", "stage.env", "blueprints/queue.py", "templates/alerts.yaml"):
        assert (tmp_path / name).is_file()
    validated = run(tmp_path, "validate", "stage.env", "stackyard.yaml")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.strip() == "ok: 2 stacks valid"
    assert run(tmp_path, "local", "up", "--port", "0").returncode == 0
    try:
        built = run(tmp_path, "build", "--local", "stage.env", "stackyard.yaml")
    finally:
        run(tmp_path, "local", "down")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "build: 2 complete" in built.stdout


def test_init_does_not_overwrite(tmp_path: Path) -> None:
    (tmp_path / "stackyard.yaml").write_text("namespace: mine\n")
    refused = run(tmp_path, "init")
    assert refused.returncode == 2
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "stackyard.yaml").read_text() == "namespace: mine\n"


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete "), ("zsh", "compdef"), ("fish", "complete ")]
)
def test_completion_scripts(tmp_path: Path, shell: str, marker: str) -> None:
    result = run(tmp_path, "completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_STACKYARD_COMPLETE" in result.stdout and marker in result.stdout


def test_bash_completion_completes_commands(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "_STACKYARD_COMPLETE": "bash_complete",
        "COMP_WORDS": "stackyard bui",
        "COMP_CWORD": "1",
    }
    result = subprocess.run([str(STACKYARD)], env=env, capture_output=True, text=True, timeout=60)
    assert "build" in result.stdout
