"""A variable the blueprint or template does not take is named, with what was meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.declared import jinja_mentions, unknown_variables
from stackyard.blueprints.raw import RawTemplateBlueprint
from stackyard.context import Context


class Vpc(Blueprint):
    VARIABLES = {"CidrBlock": {"type": str}, "ZoneCount": {"type": int, "default": 2}}


def context() -> Context:
    return Context(namespace="t")


def test_python_blueprint_names_the_typo_and_the_intended_variable() -> None:
    found = unknown_variables(Vpc("vpc", context()), ["CidrBlok", "ZoneCount"])
    assert [(u.name, u.suggestion) for u in found] == [("CidrBlok", "CidrBlock")]
    assert found[0].hint == "did you mean 'CidrBlock'?"


def test_a_name_far_from_everything_lists_what_is_taken() -> None:
    (found,) = unknown_variables(Vpc("vpc", context()), ["Colour"])
    assert found.suggestion is None
    assert found.hint == "it takes: CidrBlock, ZoneCount"


def test_raw_template_takes_its_parameters_only(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Parameters:\n  TopicName: {Type: String}\nResources: {}\n")
    blueprint = RawTemplateBlueprint("t", context(), path)
    found = unknown_variables(blueprint, ["TopicNme", "TopicName"])
    assert [(u.name, u.suggestion) for u in found] == [("TopicNme", "TopicName")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ variables.Size }} {{ variables['Colour'] }}", {"Size", "Colour"}),
        ('{% if variables.get("Flag") %}x{% endif %}', {"Flag"}),
        ("{% for k, v in variables.items() %}{{ k }}{% endfor %}", None),
        ("{{ variables[key] }}", None),
        ("Resources: {}", set()),
    ],
)
def test_jinja_mentions(text: str, expected: set[str] | None) -> None:
    found = jinja_mentions(text)
    assert found == (None if expected is None else frozenset(expected))


def test_jinja_template_takes_the_variables_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml.j2"
    path.write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n# {{ variables.Size }}\n")
    blueprint = RawTemplateBlueprint("t", context(), path)
    blueprint.resolve_variables({"Size": 1, "Sise": 2})
    blueprint.render_template()
    assert [u.name for u in unknown_variables(blueprint, ["Size", "Sise"])] == ["Sise"]
