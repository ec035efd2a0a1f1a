"""Hostile or odd input ends in one clear error with file and line, quickly: no expansion of
bombs, no hang, no traceback, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]

BLUEPRINTS = """\
import sys

from stackyard.blueprints.base import Blueprint


class Exits(Blueprint):
    def create_template(self):
        sys.exit(7)


class Interrupted(Blueprint):
    def create_template(self):
        raise KeyboardInterrupt


class Five(Blueprint):
    VARIABLES = 5
"""

TOPIC = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}'
PARAMETERS = """\
Parameters:
  Env: {Type: String, AllowedValues: [dev, prod]}
  Size: {Type: Number, MaxValue: 5}
  Code: {Type: String, AllowedPattern: "[a-z]+", ConstraintDescription: lower case only}
  Needed: {Type: String}
Resources:
  T: {Type: AWS::SNS::Topic}
"""
BOMB = "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
)


def stack(body: str) -> str:
    return "namespace: t\nsys_path: .\nstacks:\n  - name: a\n" + body


# name: (config bytes, file the error names, line, fragment of the message)
CASES: dict[str, tuple[bytes, str, int | None, str]] = {
    "alias bomb": (
        ("namespace: t\na: &a [x, x, x, x, x, x, x, x, x]\n" + BOMB).encode(),
        "c.yaml",
        None,
        "alias bomb is refused",
    ),
    "recursive alias": (b"namespace: t\nP: &r [*r]\n", "c.yaml", 2, "refers to the node"),
    "not UTF-8": (b"namespace: t\nstacks: []\n# \xff\n", "c.yaml", 3, "byte 0xff at offset 26"),
    "5000-digit integer": (
        b"namespace: t\nstacks: []\nx: " + b"9" * 5000 + b"\n",
        "c.yaml",
        None,
        "digits",
    ),
    "required_by an unknown stack": (
        stack("    template_path: t.json\n    required_by: [nosuch]\n").encode(),
        "c.yaml",
        6,
        "'nosuch' is not a stack",
    ),
    "blueprint calls sys.exit": (
        stack("    class_path: bps.Exits\n").encode(),
        "bps.py",
        8,
        "sys.exit(7)",
    ),
    "blueprint raises KeyboardInterrupt": (
        stack("    class_path: bps.Interrupted\n").encode(),
        "bps.py",
        13,
        "KeyboardInterrupt",
    ),
    "VARIABLES = 5": (
        stack("    class_path: bps.Five\n").encode(),
        "bps.py",
        None,
        "VARIABLES must map",
    ),
    "underscore in a stack name": (
        stack("    template_path: t.json\n    stack_name: a_b\n").encode(),
        "c.yaml",
        6,
        "characters CloudFormation refuses: '_'",
    ),
    "stack name starting with a digit": (
        b"namespace: ''\nstacks:\n  - name: 1x\n    template_path: t.json\n",
        "c.yaml",
        3,
        "must start with an ASCII letter",
    ),
    "accented stack name": (
        stack("    template_path: t.json\n    stack_name: \u00e9t\u00e9\n").encode(),
        "c.yaml",
        6,
        "refuses",
    ),
    "stack name of 129 characters": (
        stack(f"    template_path: t.json\n    stack_name: {'x' * 127}\n").encode(),
        "c.yaml",
        6,
        "129 characters long",
    ),
    "two stacks with one stack_name": (
        (
            stack("    template_path: t.json\n")
            + "  - name: b\n    template_path: t.json\n    stack_name: t-a\n"
        ).encode(),
        "c.yaml",
        8,
        "both deploy as 't-a'",
    ),
    "region mars-1": (
        stack("    template_path: t.json\n    region: mars-1\n").encode(),
        "c.yaml",
        6,
        "'mars-1' is not an AWS region",
    ),
    "parameter constraints": (
        stack(
            "    template_path: p.yaml\n    variables:\n      Env: stage\n      Size: 9\n"
            "      Code: ABC\n"
        ).encode(),
        "c.yaml",
        7,
        "not one of ['dev', 'prod']",
    ),
    "deeply nested JSON template": (
        stack("    template_path: deep.json\n").encode(),
        "deep.json",
        None,
        "nests too deeply",
    ),
    "Jinja2 reaching Python internals": (
        stack("    template_path: evil.yaml.j2\n").encode(),
        "evil.yaml.j2",
        None,
        "unsafe",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_gets_one_clear_error(tmp_path: Path, run_cli: Run, case: str) -> None:
    text, file, line, fragment = CASES[case]
    (tmp_path / "bps.py").write_text(BLUEPRINTS)
    (tmp_path / "t.json").write_text(TOPIC)
    (tmp_path / "p.yaml").write_text(PARAMETERS)
    (tmp_path / "deep.json").write_text('{"a":' * 50000 + "1" + "}" * 50000)
    (tmp_path / "evil.yaml.j2").write_text(
        "Description: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\nResources: {}\n"
    )
    (tmp_path / "c.yaml").write_bytes(text)
    result = run_cli("validate", "--no-lint", "c.yaml", cwd=tmp_path, timeout=20)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert fragment in result.stderr, output
    located = file if line is None else f"{file}:{line}"
    assert located in result.stderr, output


def test_environment_file_that_is_not_utf8(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "t.json").write_text(TOPIC)
    (tmp_path / "stage.env").write_bytes(b"ns: t\n\xfe\n")
    (tmp_path / "c.yaml").write_text("namespace: ${ns}\nstacks: []\n")
    result = run_cli("validate", "stage.env", "c.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "stage.env:2: byte 0xfe at offset 6 is not UTF-8" in result.stderr


def test_an_override_value_is_a_value_not_yaml(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "t.json").write_text(TOPIC)
    (tmp_path / "c.yaml").write_text(
        "namespace: t\nstacks:\n  - name: a\n    template_path: t.json\n    description: ${note}\n"
    )
    injected = "x\nstacks: []"
    result = run_cli("render", "-e", f"note={injected}", "c.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# stack a (t-a)" in result.stdout  # the stack list was not replaced
