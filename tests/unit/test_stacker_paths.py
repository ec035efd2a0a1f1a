"""``sys_path``, ``template_path`` and ``stack_policy_path`` are found where stacker 1.7 found
them: from the working directory (then ``sys.path`` for templates), and the config file's
folder after that."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from stackyard.project import Project

TEMPLATE = """\
Parameters:
  Name:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Ref Name
"""

BLUEPRINT = """\
from troposphere import sns

from stackyard.blueprints.base import Blueprint


class Topic(Blueprint):
    VARIABLES = {"Name": {"type": str}}

    def create_template(self):
        self.template.add_resource(sns.Topic("Topic", TopicName=self.get_variables()["Name"]))
"""


@pytest.fixture(autouse=True)
def _own_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def topic_name(project: Project, stack: str = "topic") -> str:
    desired = project.render(stack, project.resolve_context())
    return (
        desired.parameters.get("Name")
        or json.loads(desired.template_body)["Resources"]["Topic"]["Properties"]["TopicName"]
    )


def test_sys_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"bp_{uuid.uuid4().hex[:8]}"
    write(tmp_path / "lib" / f"{module}.py", BLUEPRINT)
    config = write(
        tmp_path / "conf" / "stacker.yaml",
        f"""\
        namespace: t
        sys_path: lib
        stacks:
          - name: topic
            class_path: {module}.Topic
            variables: {{Name: from-lib}}
        """,
    )
    monkeypatch.chdir(tmp_path)
    project = Project.load(str(config))
    assert topic_name(project) == "from-lib"
    # Appended as stacker appends it: installed packages keep their precedence.
    assert sys.path[-1] == str(tmp_path / "lib")


def test_sys_path_from_the_config_folder_is_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"bp_{uuid.uuid4().hex[:8]}"
    write(tmp_path / "conf" / f"{module}.py", BLUEPRINT)
    config = write(
        tmp_path / "conf" / "stacker.yaml",
        f"""\
        namespace: t
        sys_path: .
        stacks:
          - name: topic
            class_path: {module}.Topic
            variables: {{Name: beside}}
        """,
    )
    monkeypatch.chdir(tmp_path)
    assert topic_name(Project.load(str(config))) == "beside"
    assert sys.path[-2:] == [str(tmp_path), str(tmp_path / "conf")]


def config_with_template(folder: Path, extra: str = "") -> Path:
    return write(
        folder / "stacker.yaml",
        f"""\
        namespace: t
        {extra}
        stacks:
          - name: topic
            template_path: templates/topic.yaml
            variables: {{Name: n}}
        """,
    )


def test_template_path_from_the_working_directory_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "templates" / "topic.yaml", TEMPLATE)
    write(tmp_path / "conf" / "templates" / "topic.yaml", TEMPLATE.replace("Topic:", "Other:"))
    config = config_with_template(tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    project = Project.load(str(config))
    body = json.loads(project.render("topic", project.resolve_context()).template_body)
    assert list(body["Resources"]) == ["Topic"]
    assert project.template_file("topic") == tmp_path / "templates" / "topic.yaml"


def test_template_path_under_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "shared" / "templates" / "topic.yaml", TEMPLATE)
    config = config_with_template(tmp_path / "conf", "sys_path: shared")
    monkeypatch.chdir(tmp_path)
    project = Project.load(str(config))
    assert project.template_file("topic") == tmp_path / "shared" / "templates" / "topic.yaml"
    assert topic_name(project) == "n"


def test_template_path_beside_the_config_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "conf" / "templates" / "topic.yaml", TEMPLATE)
    config = config_with_template(tmp_path / "conf")
    monkeypatch.chdir(tmp_path)
    project = Project.load(str(config))
    assert project.template_file("topic") == tmp_path / "conf" / "templates" / "topic.yaml"


def test_a_config_read_from_a_pipe_finds_its_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "templates" / "topic.yaml", TEMPLATE)
    text = config_with_template(tmp_path / "conf").read_text()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    project = Project.load("-")
    assert topic_name(project) == "n"


def test_stack_policy_path_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "templates" / "topic.yaml", TEMPLATE)
    write(tmp_path / "policies" / "p.json", '{"Statement": [{"Effect": "Allow"}]}')
    config = write(
        tmp_path / "conf" / "stacker.yaml",
        """\
        namespace: t
        stacks:
          - name: topic
            template_path: templates/topic.yaml
            stack_policy_path: policies/p.json
            variables: {Name: n}
        """,
    )
    monkeypatch.chdir(tmp_path)
    project = Project.load(str(config))
    desired = project.render("topic", project.resolve_context())
    assert json.loads(desired.stack_policy or "{}") == {"Statement": [{"Effect": "Allow"}]}
