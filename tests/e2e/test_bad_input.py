"""Bad input tried as a new user would: one clear message, file and line, exit 2, no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]

BLUEPRINTS = """
from troposphere import sqs

from stackyard.blueprints.base import Blueprint


def must_be_short(value):
    if len(value) > 5:
        raise ValueError("at most 5 characters")
    return value


class Queue(Blueprint):
    VARIABLES = {
        "Name": {"type": str, "validator": must_be_short},
        "Count": {"type": int, "default": 1},
    }

    def create_template(self):
        self.template.add_resource(sqs.Queue("Q", QueueName=self.get_variables()["Name"]))


class Broken(Blueprint):
    def create_template(self):
        raise RuntimeError("the blueprint fell over")
"""


GOOD = "  - name: ok\n    class_path: bps.Queue\n    variables: {Name: abc}\n"

CASES = {
    "empty file": ("", None, "the config is empty", None),
    "yaml syntax": (
        "namespace: t\nstacks:\n  - name: a\n   bad: indent\n",
        4,
        "YAML syntax error",
        None,
    ),
    "missing namespace": ("stacks: []\n", 1, "'namespace' is missing", None),
    "duplicate names": (
        "namespace: t\nsys_path: .\nstacks:\n" + GOOD + GOOD,
        7,
        "used twice",
        None,
    ),
    "unknown stack key": (
        "namespace: t\nstacks:\n  - name: a\n    class_path: bps.Queue\n    requries: [b]\n",
        5,
        "unknown key 'requries'",
        "did you mean 'requires'?",
    ),
    "missing environment key": (
        "namespace: ${ns}\nstacks: []\n",
        1,
        "environment key 'ns' has no value",
        "-e ns=VALUE",
    ),
    "unknown lookup": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: bps.Queue\n"
        "    variables:\n      Name: ${outptu b::X}\n",
        7,
        "outptu",
        "output",
    ),
    "malformed lookup": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: bps.Queue\n"
        "    variables:\n      Name: ${output b}\n",
        7,
        "output",
        None,
    ),
    "class_path does not import": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: nowhere.Thing\n",
        5,
        "nowhere",
        "sys_path",
    ),
    "template_path missing": (
        "namespace: t\nstacks:\n  - name: a\n    template_path: templates/none.yaml\n",
        4,
        "none.yaml",
        None,
    ),
    "wrong variable type": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: bps.Queue\n"
        "    variables:\n      Name: abc\n      Count: [1, 2]\n",
        4,
        "Count",
        None,
    ),
    "validator fails": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: bps.Queue\n"
        "    variables:\n      Name: much-too-long\n",
        4,
        "at most 5 characters",
        None,
    ),
    "blueprint raises": (
        "namespace: t\nsys_path: .\nstacks:\n  - name: a\n    class_path: bps.Broken\n",
        25,
        "the blueprint fell over",
        None,
    ),
    "cycle": (
        "namespace: t\nsys_path: .\nstacks:\n"
        "  - name: a\n    class_path: bps.Queue\n    requires: [b]\n"
        "  - name: b\n    class_path: bps.Queue\n    requires: [a]\n",
        None,
        "dependency cycle",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gets_one_clear_message(tmp_path: Path, run_cli: Run, case: str) -> None:
    text, line, fragment, hint = CASES[case]
    (tmp_path / "bps.py").write_text(BLUEPRINTS)
    config = tmp_path / "stackyard.yaml"
    config.write_text(text)
    result = run_cli("render", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert fragment in result.stderr
    # Errors inside a blueprint point at the blueprint's own line; all others at the config.
    located = tmp_path / "bps.py" if case == "blueprint raises" else config
    assert str(located) in result.stderr
    if line is not None:
        assert f"{located}:{line}" in result.stderr
    if hint:
        assert "hint:" in result.stderr and hint in result.stderr


def test_missing_config_file(tmp_path: Path, run_cli: Run) -> None:
    result = run_cli("graph", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "config file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_config_argument(run_cli: Run) -> None:
    result = run_cli("graph")
    assert result.returncode == 2
    assert "missing CONFIG" in result.stderr
