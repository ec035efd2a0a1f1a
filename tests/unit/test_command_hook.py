"""stacker's ``command`` hook: its arguments, with the rest passed to Popen as stacker did."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.errors import ConfigError
from stackyard.hooks.command import run_command
from stackyard.hooks.runner import resolve_hook_path


def test_the_stacker_path_names_this_hook() -> None:
    assert resolve_hook_path("stacker.hooks.command.run_command") is run_command


def test_cwd_and_env_reach_the_command(tmp_path: Path) -> None:
    result = run_command(command=["pwd"], capture=True, cwd=str(tmp_path))
    assert isinstance(result, dict) and result["stdout"].strip() == str(tmp_path)
    shell = run_command(command="echo $GREETING", capture=True, env={"GREETING": "hi"})
    assert isinstance(shell, dict) and shell["stdout"] == "hi\n"


def test_shell_false_runs_a_string_as_a_program() -> None:
    with pytest.raises(FileNotFoundError):
        run_command(command="echo hi", shell=False)
    assert run_command(command="true", shell=False) == {
        "returncode": 0,
        "stdout": None,
        "stderr": None,
    }


def test_stdin_status_and_quiet() -> None:
    piped = run_command(command=["cat"], stdin="data", capture=True)
    assert isinstance(piped, dict) and piped["stdout"] == "data"
    assert run_command(command=["false"]) is False
    ignored = run_command(command=["false"], ignore_status=True)
    assert isinstance(ignored, dict) and ignored["returncode"] == 1
    with pytest.raises(ConfigError, match=r"quiet.*capture"):
        run_command(command=["true"], quiet=True, capture=True)
