"""A stacker 1.7 project runs unchanged: its config forms, its imports, its paths.

The project below is written as stacker users write them (the tutorials' layout): the
namespace in the environment file, stacks as a mapping, keys with no value, ``sys_path: .``
and template paths relative to where the command runs, and a blueprint that imports
``stacker.blueprints.base``, ``stacker.blueprints.variables.types``, ``stacker.util`` and
``stacker.exceptions``. Nothing in it names stackyard.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

BLUEPRINT = """\
from troposphere import Output, Ref, sqs

from stacker.blueprints.base import Blueprint
from stacker.blueprints.variables.types import CFNString
from stacker.exceptions import ValidatorError
from stacker.util import cf_safe_name


def not_empty(value):
    if not value:
        raise ValueError("a queue needs a name")
    return value


class Queues(Blueprint):
    VARIABLES = {
        "Names": {"type": list, "validator": not_empty},
        "Retention": {"type": CFNString, "default": "345600"},
    }

    def create_template(self):
        variables = self.get_variables()
        if len(variables["Names"]) > 10:
            raise ValidatorError("Names", "at_most_ten", variables["Names"])
        for name in variables["Names"]:
            queue = self.template.add_resource(
                sqs.Queue(
                    cf_safe_name(name),
                    QueueName=self.context.get_fqn(name),
                    MessageRetentionPeriod=Ref("Retention"),
                )
            )
            self.template.add_output(Output(cf_safe_name(name) + "Url", Value=Ref(queue)))
"""

TEMPLATE = """\
Parameters:
  Topic:
    Type: String
Resources:
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Ref Topic
"""

CONFIG = """\
# stacker 1.7 took the namespace from the environment file (with a deprecation warning)
sys_path: .
tags:
stacks:
  queues:
    class_path: blueprints.queues.Queues
    protected:
    variables:
      Names: [work-items, dead-letters]
  alerts:
    template_path: templates/alerts.yaml
    requires: [queues]
    variables:
      Topic: ${topic}
  idle:
    class_path: blueprints.queues.Queues
    variables:
    enabled: false
"""


def project(root: Path) -> Path:
    files = {
        "blueprints/__init__.py": "",
        "blueprints/queues.py": BLUEPRINT,
        "templates/alerts.yaml": TEMPLATE,
        "conf/stage.env": "namespace: tutorial\ntopic: alerts-stage\n",
        "conf/stacker.yaml": CONFIG,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def rendered(out: Path, fqn: str) -> dict:
    return json.loads((out / f"{fqn}.json").read_text())


def test_a_stacker_project_renders_with_no_edit(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = project(tmp_path / "project")
    out = tmp_path / "out"
    done = run_cli("render", "--out", str(out), "conf/stage.env", "conf/stacker.yaml", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "DEPRECATION WARNING: specifying namespace in the environment is deprecated" in (
        done.stderr
    )
    queues = rendered(out, "tutorial-queues")
    assert queues["Resources"]["WorkItems"]["Properties"]["QueueName"] == "tutorial-work-items"
    assert set(queues["Outputs"]) == {"WorkItemsUrl", "DeadLettersUrl"}
    assert json.loads((out / "tutorial-queues.parameters.json").read_text()) == {
        "Retention": "345600"
    }
    alerts = rendered(out, "tutorial-alerts")
    assert alerts["Resources"]["Alerts"]["Properties"]["TopicName"] == {"Ref": "Topic"}
    assert json.loads((out / "tutorial-alerts.parameters.json").read_text()) == {
        "Topic": "alerts-stage"
    }
    assert not (out / "tutorial-idle.json").exists()  # enabled: false


def test_a_config_read_from_a_pipe(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = project(tmp_path / "project")
    out = tmp_path / "out"
    config = (root / "conf" / "stacker.yaml").read_text()
    done = run_cli("render", "--out", str(out), "conf/stage.env", "-", cwd=root, stdin=config)
    assert done.returncode == 0, done.stderr
    assert (out / "tutorial-alerts.json").exists() and (out / "tutorial-queues.json").exists()


def test_a_stacker_exception_from_a_blueprint_names_the_stack_and_its_line(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = project(tmp_path / "project")
    config = root / "conf" / "stacker.yaml"
    names = ", ".join(f"q{i}" for i in range(11))
    config.write_text(config.read_text().replace("[work-items, dead-letters]", f"[{names}]"))
    done = run_cli("render", "conf/stage.env", "conf/stacker.yaml", cwd=root)
    assert done.returncode == 2
    # The stack is a key of the `stacks:` mapping: its line is the key's.
    assert "error: conf/stacker.yaml:5, stack 'queues': validator at_most_ten failed" in (
        done.stderr
    )
