"""graph, render and validate as a user runs them: no AWS needed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
ENV = str(DEMO / "stage.env")
CONFIG = str(DEMO / "stackyard.yaml")


def test_graph_dot_shows_output_edges(run_cli: Run) -> None:
    result = run_cli("graph", ENV, CONFIG)
    assert result.returncode == 0, result.stderr
    assert '"jobs" -> "events";' in result.stdout
    assert '"app" -> "jobs";' in result.stdout
    assert '"app" -> "settings";' in result.stdout


def test_graph_json_selection_pulls_in_dependencies(run_cli: Run) -> None:
    result = run_cli("graph", "--format", "json", "--stacks", "jobs", ENV, CONFIG)
    assert result.returncode == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert [n["name"] for n in nodes] == ["events", "jobs"]
    assert nodes[1]["needs"] == [{"name": "events", "why": "reads an output of"}]


def test_render_writes_templates_and_masks_nothing_it_should_not(
    run_cli: Run, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run_cli("render", "--out", str(out), "-e", "log_level=debug", ENV, CONFIG)
    assert result.returncode == 0, result.stderr
    template = json.loads((out / "demo-settings.json").read_text())
    assert template["Resources"]["LogLevel"]["Properties"]["Value"] == "debug"
    parameters = json.loads((out / "demo-app.parameters.json").read_text())
    assert parameters["Environment"] == "demo"
    assert parameters["QueueUrl"] == "(known after apply: output jobs::QueueUrl)"


def test_render_reads_config_from_stdin(run_cli: Run, tmp_path: Path) -> None:
    config = (
        "namespace: piped\nstacks:\n  - name: app\n    template_path: "
        + str(DEMO / "templates" / "app.yaml")
        + "\n    variables: {QueueUrl: q, LogLevelParameter: p, Environment: stage}\n"
    )
    result = run_cli("render", "-", stdin=config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# stack app (piped-app)" in result.stdout


def test_validate_lints_rendered_templates(run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("validate", ENV, CONFIG).returncode == 0
    # Past the schema pre-flight (the property exists), caught by cfn-lint (out of range).
    (tmp_path / "bad.yaml").write_text(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: 1000\n"
    )
    (tmp_path / "c.yaml").write_text(
        "namespace: x\nstacks:\n  - name: q\n    template_path: bad.yaml\n"
    )
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.returncode == 1
    assert "DelaySeconds" in result.stdout
    assert f"{tmp_path / 'bad.yaml'}:5" in result.stdout


def test_version_and_help(run_cli: Run) -> None:
    assert run_cli("--version").stdout.startswith("stackyard, version ")
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("build", "destroy", "graph", "render", "validate", "local"):
        assert command in result.stdout


def test_unknown_option_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("graph", "--nope", CONFIG)
    assert result.returncode == 2
    assert "No such option" in result.stderr
