"""Typos are caught before AWS: one message with file, line and a did-you-mean; exit 2."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]

OPS = Path(__file__).parents[2] / "examples" / "ops"

TOPIC_TEMPLATE = """\
Parameters:
  TopicName:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Ref TopicName
"""


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    """A copy of the ops example to misspell things in."""
    for name in ("stackyard.yaml", "stage.env"):
        shutil.copy(OPS / name, tmp_path / name)
    return tmp_path


def test_misspelt_blueprint_variable_is_refused_with_did_you_mean(ops: Path, run_cli: Run) -> None:
    config = ops / "stackyard.yaml"
    text = config.read_text()
    config.write_text(text.replace("CidrBlock:", "CidrBlok:", 1))
    line = text.splitlines().index("      CidrBlock: ${vpc_cidr}") + 1
    result = run_cli("validate", "--no-lint", "stage.env", "stackyard.yaml", cwd=ops)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"stackyard.yaml:{line}" in result.stderr
    assert "unknown variable 'CidrBlok'" in result.stderr
    assert "did you mean 'CidrBlock'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_misspelt_raw_template_parameter_is_refused(tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "topic.yaml").write_text(TOPIC_TEMPLATE)
    (tmp_path / "stackyard.yaml").write_text(
        "namespace: t\nstacks:\n  - name: topic\n    template_path: topic.yaml\n"
        "    variables:\n      TopicNme: alerts\n"
    )
    result = run_cli("render", "stackyard.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "stackyard.yaml:6" in result.stderr
    assert "unknown variable 'TopicNme'" in result.stderr
    assert "did you mean 'TopicName'?" in result.stderr


def test_diff_refuses_a_misspelt_property_and_type_before_any_write(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import re
    import urllib.request

    (tmp_path / "topic.yaml").write_text(
        TOPIC_TEMPLATE.replace("TopicName: !Ref", "TopicNme: !Ref")
        + "  Other:\n    Type: AWS::SNS::Topc\n"
    )
    (tmp_path / "stackyard.yaml").write_text(
        "namespace: t\nstacks:\n  - name: topic\n    template_path: topic.yaml\n"
        "    variables:\n      TopicName: alerts\n"
    )
    monkeypatch.setenv("STACKYARD_HOME", str(tmp_path / "home"))
    up = run_cli("local", "up", "--port", "0", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    url = re.search(r"running at (\S+)", up.stdout)
    assert url is not None
    try:
        result = run_cli("diff", "--local", "stackyard.yaml", cwd=tmp_path)
        with urllib.request.urlopen(url.group(1) + "/_stackyard/calls") as response:
            calls = json.load(response)
    finally:
        run_cli("local", "down", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{tmp_path / 'topic.yaml'}:8" in result.stderr
    assert "unknown property 'TopicNme' of AWS::SNS::Topic" in result.stderr
    assert "did you mean 'TopicName'?" in result.stderr
    assert f"{tmp_path / 'topic.yaml'}:10" in result.stderr
    assert "unknown resource type 'AWS::SNS::Topc'" in result.stderr
    actions = calls["services"].get("cloudformation", {})
    writes = [a for a in actions if not a.startswith(("Describe", "List", "Get"))]
    assert writes == [], actions
