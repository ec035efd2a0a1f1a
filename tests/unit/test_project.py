"""A Project renders each stack's desired state from config, lookups and blueprints."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stackyard.errors import ConfigError, LookupError_
from stackyard.project import Project
from stackyard.unknown import Unknown

BLUEPRINT = """
from troposphere import Output, Ref, sqs

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import CFNCommaDelimitedList, CFNString


class Queue(Blueprint):
    VARIABLES = {
        "Name": {"type": str},
        "Upstream": {"type": CFNString, "default": "none"},
        "Secret": {"type": CFNString, "no_echo": True, "default": "x"},
        "Zones": {"type": CFNCommaDelimitedList, "default": []},
    }

    def create_template(self):
        q = self.template.add_resource(sqs.Queue("Q", QueueName=self.get_variables()["Name"]))
        self.template.add_output(Output("QueueUrl", Value=Ref(q)))
"""


def make(tmp_path: Path, stacks: str, extra: str = "") -> Project:
    (tmp_path / "projbp.py").write_text(BLUEPRINT)
    (tmp_path / "policy.json").write_text('{"Statement": []}')
    config = tmp_path / "stackyard.yaml"
    config.write_text(
        "namespace: ns\nsys_path: .\ntags: {team: ops}\n"
        + extra
        + "stacks:\n"
        + textwrap.dedent(stacks)
    )
    return Project.load(str(config), region="eu-west-1")


STACKS = """\
  - name: first
    class_path: projbp.Queue
    variables: {Name: one, Zones: [a, b]}
  - name: second
    stack_name: custom
    class_path: projbp.Queue
    stack_policy_path: policy.json
    termination_protection: true
    tags: {tier: app}
    protected: [Q, replace]
    variables:
      Name: two-${default missing::fallback}
      Upstream: ${output first::QueueUrl}
"""


def test_render_resolves_variables_and_settings(tmp_path: Path) -> None:
    project = make(tmp_path, STACKS)
    assert project.graph.needs["second"] == {"first"}
    desired = project.render("second", project.resolve_context())
    assert desired.fqn == "ns-custom"
    assert desired.region == "eu-west-1"
    assert (
        json.loads(desired.template_body)["Resources"]["Q"]["Properties"]["QueueName"]
        == "two-fallback"
    )
    assert isinstance(desired.parameters["Upstream"], Unknown)
    assert desired.has_unknowns
    assert desired.tags == {"team": "ops", "tier": "app"}
    assert desired.stack_policy == '{"Statement": []}'
    assert desired.termination_protection is True
    assert desired.protected == ("Q", "replace")
    assert desired.no_echo == frozenset({"Secret"})
    assert {"Upstream", "Secret", "Zones"} <= desired.declared_parameters


def test_list_parameters_are_comma_joined(tmp_path: Path) -> None:
    project = make(tmp_path, STACKS)
    desired = project.render("first", project.resolve_context())
    assert desired.parameters["Zones"] == "a,b"
    assert not desired.has_unknowns


class FakeAWS:
    def stack_outputs(self, fqn: str, region: str | None = None) -> dict[str, str]:
        assert fqn == "ns-first"
        return {"QueueUrl": "https://queue/one"}


def test_output_lookup_resolved_with_aws(tmp_path: Path) -> None:
    project = make(tmp_path, STACKS)
    desired = project.render("second", project.resolve_context(aws=FakeAWS()))  # type: ignore[arg-type]
    assert desired.parameters["Upstream"] == "https://queue/one"


def test_pending_upstream_is_unknown_even_with_aws(tmp_path: Path) -> None:
    project = make(tmp_path, STACKS)
    resolve = project.resolve_context(aws=FakeAWS(), pending=["first"])  # type: ignore[arg-type]
    assert isinstance(project.render("second", resolve).parameters["Upstream"], Unknown)


def test_lookup_error_is_located_in_the_config(tmp_path: Path) -> None:
    with pytest.raises(LookupError_) as caught:
        make(
            tmp_path,
            "  - name: a\n    class_path: projbp.Queue\n    variables:\n      Name: ${split nodelimiter}\n",
        )
    error = caught.value
    assert error.file and error.file.endswith("stackyard.yaml")
    assert error.line == 8
    assert error.key is not None and error.key.startswith("stacks[0].variables.Name")
    assert error.stack == "a"


def test_hook_args_lookups_are_validated(tmp_path: Path) -> None:
    extra = "pre_build:\n  - path: x.y\n    args:\n      v: ${nosuch thing}\n"
    with pytest.raises(LookupError_) as caught:
        make(
            tmp_path, "  - name: a\n    class_path: projbp.Queue\n    variables: {Name: a}\n", extra
        )
    assert caught.value.line == 7


def test_missing_stack_policy_is_a_config_error(tmp_path: Path) -> None:
    project = make(
        tmp_path,
        "  - name: a\n    class_path: projbp.Queue\n    stack_policy_path: nope.json\n    variables: {Name: a}\n",
    )
    with pytest.raises(ConfigError, match="stack policy file not found") as caught:
        project.render("a", project.resolve_context())
    assert caught.value.line == 7


def test_custom_lookup_from_config(tmp_path: Path) -> None:
    (tmp_path / "mylookups.py").write_text(
        "def shout(value, **kwargs):\n    return value.upper()\n"
    )
    project = make(
        tmp_path,
        "  - name: a\n    class_path: projbp.Queue\n    variables: {Name: '${shout quiet}'}\n",
        "lookups:\n  shout: mylookups.shout\n",
    )
    # A custom lookup may call AWS, so without AWS it is not run...
    offline = json.loads(project.render("a", project.resolve_context()).template_body)
    assert isinstance(offline["Resources"]["Q"]["Properties"]["QueueName"], str)
    assert "known after apply" in offline["Resources"]["Q"]["Properties"]["QueueName"]
    # ...and with AWS it is.
    online = project.render("a", project.resolve_context(aws=FakeAWS()))  # type: ignore[arg-type]
    assert json.loads(online.template_body)["Resources"]["Q"]["Properties"]["QueueName"] == "QUIET"
