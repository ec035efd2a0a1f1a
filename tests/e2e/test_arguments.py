"""The environment file and the config in either order; wrong arguments are never a green run."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]

OPS = Path(__file__).parents[2] / "examples" / "ops"


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    for name in ("stackyard.yaml", "stage.env"):
        shutil.copy(OPS / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    "order", [("stage.env", "stackyard.yaml"), ("stackyard.yaml", "stage.env")]
)
def test_either_order_works(ops: Path, run_cli: Run, order: tuple[str, str]) -> None:
    result = run_cli("validate", "--no-lint", *order, cwd=ops)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok: 12 stacks valid"


def test_two_configs_are_refused_as_ambiguous(ops: Path, run_cli: Run) -> None:
    shutil.copy(ops / "stackyard.yaml", ops / "other.yaml")
    result = run_cli("build", "other.yaml", "stackyard.yaml", cwd=ops)
    assert result.returncode == 2
    assert "cannot tell the config from the environment file: both" in result.stderr


# With --detailed-exitcode, 2 means "changes present", so an error there is 1 (Terraform's rule).
@pytest.mark.parametrize(
    ("command", "code"),
    [(["build"], 2), (["destroy", "--yes"], 2), (["diff", "--detailed-exitcode"], 1)],
)
def test_a_config_that_selects_no_stack_is_an_error(
    tmp_path: Path, run_cli: Run, command: list[str], code: int
) -> None:
    (tmp_path / "empty.yaml").write_text("namespace: t\nstacks: []\n")
    result = run_cli(*command, "empty.yaml", cwd=tmp_path)
    assert result.returncode == code, result.stdout + result.stderr
    assert "empty.yaml: the config selects no stack" in result.stderr
    assert "nothing to do" not in result.stdout


def test_the_example_header_command_is_right() -> None:
    header = (OPS / "stackyard.yaml").read_text().splitlines()[2]
    found = re.search(r"stackyard build (\S+) (\S+)", header)
    assert found is not None
    assert [Path(p).name for p in found.groups()] == ["stage.env", "stackyard.yaml"]


def test_a_misspelt_command_gets_a_suggestion(run_cli: Run) -> None:
    result = run_cli("biuld", "x.yaml")
    assert result.returncode == 2
    assert "No such command 'biuld'. Did you mean 'build'?" in result.stderr


def test_global_flags_work_after_the_command(ops: Path, run_cli: Run) -> None:
    result = run_cli(
        "validate", "--no-lint", "stage.env", "stackyard.yaml", "--debug", "--no-color", cwd=ops
    )
    assert result.returncode == 0, result.stderr
