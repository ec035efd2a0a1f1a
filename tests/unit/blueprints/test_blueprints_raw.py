"""stackyard.blueprints.raw: JSON, YAML-with-short-tags and Jinja2 templates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from stackyard.blueprints.raw import (
    RawTemplateBlueprint,
    get_template_params,
    parse_cloudformation_template,
)
from stackyard.context import Context
from stackyard.errors import BlueprintError, VariableError
from stackyard.unknown import Unknown

OWNERS = {"Owners": {"jobs": "ops", "mail": "web"}}


def raw(tmp_path: Path, name: str, text: str, **kwargs: Any) -> RawTemplateBlueprint:
    path = tmp_path / name
    path.write_text(text)
    return RawTemplateBlueprint("app", Context(namespace="acme"), path, **kwargs)


def test_json_template_parameters_values_and_outputs(load: Any) -> None:
    bp = load(template_path="templates/queue.json")
    bp.resolve_variables({"QueueName": "jobs", "Retention": 60, "Unrelated": {"a": 1}})
    assert set(bp.get_parameter_definitions()) == {"QueueName", "Retention", "Secret"}
    assert set(bp.get_required_parameter_definitions()) == {"QueueName"}
    assert bp.get_parameter_values() == {"QueueName": "jobs", "Retention": "60"}
    assert bp.get_cfn_parameters() == bp.get_parameter_values()
    assert bp.get_template_parameters()["Secret"]["NoEcho"] is True
    assert set(bp.get_output_definitions()) == {"QueueUrl", "QueueArn"}
    assert bp.requires_change_set is False
    assert bp.get_variables()["Unrelated"] == {"a": 1}


def test_rendered_is_normalized_json_in_author_order(load: Any) -> None:
    bp = load(template_path="templates/queue.json")
    bp.resolve_variables({})
    rendered = bp.rendered
    assert list(json.loads(rendered)) == [
        "AWSTemplateFormatVersion",
        "Description",
        "Parameters",
        "Resources",
        "Outputs",
    ]
    assert rendered.startswith('{\n    "AWSTemplateFormatVersion": "2010-09-09",\n')
    assert bp.version == hashlib.md5(rendered.encode()).hexdigest()[:8]
    assert bp.render_template() == (bp.version, rendered)
    assert bp.to_json() == rendered


def test_yaml_template_with_short_tags(load: Any) -> None:
    bp = load(template_path="templates/queue.yaml")
    bp.resolve_variables({"QueueName": "jobs", "Env": "prod"})
    body = json.loads(bp.rendered)
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"
    props = body["Resources"]["Queue"]["Properties"]
    assert props["QueueName"] == {"Fn::Sub": "${AWS::StackName}-${QueueName}"}
    assert props["MessageRetentionPeriod"] == {
        "Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Retention"]
    }
    assert props["Tags"][0]["Value"] == {"Fn::Join": [",", {"Fn::GetAZs": ""}]}
    assert body["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert body["Outputs"]["QueueArn"]["Value"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert body["Resources"]["Macro"]["Properties"]["Policy"] == {
        "Fn::Transform": {"Name": "Echo", "Parameters": {"Text": "hi"}}
    }
    assert bp.requires_change_set is True
    assert bp.get_parameter_values() == {"QueueName": "jobs", "Env": "prod"}


def test_jinja_template_sees_context_variables_mappings_and_name(load: Any) -> None:
    bp = load(template_path="templates/queue.yaml.j2", mappings=OWNERS, stack_name="queues")
    bp.resolve_variables({"Queues": ["jobs", "mail"], "Retention": 5})
    body = json.loads(bp.rendered)
    assert body["Description"] == "Queues for acme (queues)"
    assert body["Parameters"] == {"Retention": {"Type": "Number"}}
    assert body["Resources"]["MailQueue"]["Properties"]["QueueName"] == "acme-mail"
    assert body["Resources"]["JobsQueue"]["Properties"]["Tags"][0]["Value"] == "ops"
    assert bp.get_parameter_values() == {"Retention": "5"}
    assert bp.is_jinja


def test_jinja_parameters_follow_the_variables(load: Any) -> None:
    bp = load(template_path="templates/queue.yaml.j2", mappings=OWNERS)
    bp.resolve_variables({"Queues": ["jobs"]})
    assert bp.get_parameter_definitions()["Retention"]["Default"] == 60
    assert bp.get_required_parameter_definitions() == {}
    bp.resolve_variables({"Queues": ["jobs"], "Retention": Unknown("output x::y")})
    assert set(bp.get_required_parameter_definitions()) == {"Retention"}
    assert bp.get_parameter_values() == {"Retention": Unknown("output x::y")}


def test_jinja_to_json_with_variables(load: Any) -> None:
    bp = load(template_path="templates/queue.yaml.j2", mappings=OWNERS)
    body = json.loads(bp.to_json({"Queues": ["mail"]}))
    assert list(body["Resources"]) == ["MailQueue"]


def test_jinja_printing_an_undefined_variable_is_an_error_with_line(load: Any) -> None:
    bp = load(template_path="templates/queue.yaml.j2")  # no mappings given
    bp.resolve_variables({"Queues": ["jobs"]})
    with pytest.raises(BlueprintError) as info:
        bp.render_template()
    err = info.value
    assert "undefined value" in err.message and "Owners" in err.message
    assert err.file is not None and err.file.endswith("queue.yaml.j2")
    assert err.line == 15
    assert err.stack == "app"


def test_jinja_syntax_error_has_file_and_line(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.yaml.j2", "Resources:\n{% for x in %}\n")
    with pytest.raises(BlueprintError, match="invalid Jinja2 template") as info:
        bp.to_dict()
    assert info.value.line == 2
    assert info.value.file == str(tmp_path / "t.yaml.j2")


def test_jinja_runtime_error(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.json.j2", '{"A": {{ 1 // 0 }}}')
    with pytest.raises(BlueprintError, match="ZeroDivisionError"):
        bp.to_dict()


def test_yaml_syntax_error_has_file_and_line(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.yaml", "Resources:\n  A:\n    Type: x\n   bad: [\n")
    with pytest.raises(BlueprintError, match="invalid YAML") as info:
        bp.rendered  # noqa: B018
    assert info.value.line == 4
    assert info.value.file == str(tmp_path / "t.yaml")


def test_yaml_duplicate_key_is_an_error_with_line(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.yaml", "Resources:\n  A: {}\n  A: {}\n")
    with pytest.raises(BlueprintError, match="duplicate key 'A'") as info:
        bp.to_dict()
    assert info.value.line == 3


def test_json_syntax_error_has_file_and_line(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.json", '{\n  "Resources": {\n    "A": 1,\n  }\n}\n')
    with pytest.raises(BlueprintError, match="invalid JSON") as info:
        bp.to_dict()
    assert info.value.line == 4


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_template_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(BlueprintError, match="must be a mapping"):
        raw(tmp_path, "t.yaml", text).to_dict()


def test_missing_template_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(BlueprintError, match="does not exist") as info:
        RawTemplateBlueprint("app", Context(), tmp_path / "nope.yaml")
    assert info.value.file is not None and info.value.file.endswith("nope.yaml")


def test_template_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    bp = RawTemplateBlueprint("app", Context(), path)
    with pytest.raises(BlueprintError, match="not UTF-8"):
        bp.to_dict()


def test_mapping_value_for_a_parameter_is_a_variable_error(tmp_path: Path) -> None:
    bp = raw(tmp_path, "t.yaml", "Parameters:\n  P: {Type: String}\nResources: {}\n")
    bp.resolve_variables({"P": {"a": 1}, "B": True})
    with pytest.raises(VariableError, match="'P' cannot be submitted") as info:
        bp.get_parameter_values()
    assert info.value.key == "P"


def test_bool_and_list_parameter_values(tmp_path: Path) -> None:
    text = "Parameters:\n  B: {Type: String}\n  L: {Type: CommaDelimitedList}\nResources: {}\n"
    bp = raw(tmp_path, "t.yaml", text)
    bp.resolve_variables([type("V", (), {"name": "B", "value": True})(), _var("L", ["a", "b"])])
    assert bp.get_parameter_values() == {"B": "true", "L": ["a", "b"]}


def _var(name: str, value: Any) -> Any:
    return type("V", (), {"name": name, "value": value})()


def test_helpers() -> None:
    assert get_template_params({"Resources": {}}) == {}
    assert get_template_params({"Parameters": {"A": {"Type": "String"}}}) == {
        "A": {"Type": "String"}
    }
    assert parse_cloudformation_template('  {"a": 1}') == {"a": 1}
    assert parse_cloudformation_template("a: !Ref b") == {"a": {"Ref": "b"}}


def test_raw_templates_are_deterministic(load: Any) -> None:
    renders = set()
    for _ in range(3):
        bp = load(template_path="templates/queue.yaml.j2", mappings=OWNERS)
        bp.resolve_variables({"Queues": ["jobs", "mail"]})
        renders.add(bp.rendered)
    assert len(renders) == 1


def test_a_plain_template_is_read_once_whatever_the_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a Jinja2 template's text depends on the variables; a plain one is read and
    # parsed once per stack (the planner asks for its parameters before and after).
    import stackyard.input_limits

    reads: list[Path] = []
    original = stackyard.input_limits.read_utf8

    def read_utf8(path: Path) -> str:
        reads.append(path)
        return original(path)

    monkeypatch.setattr(stackyard.input_limits, "read_utf8", read_utf8)
    bp = raw(tmp_path, "t.json", '{"Parameters": {"Name": {"Type": "String"}}, "Resources": {}}')
    assert set(bp.get_parameter_definitions()) == {"Name"}
    bp.resolve_variables({"Name": "a"})
    assert bp.get_parameter_values() == {"Name": "a"}
    bp.resolve_variables({"Name": "b"})
    assert bp.get_parameter_values() == {"Name": "b"}
    assert json.loads(bp.rendered)["Parameters"] == {"Name": {"Type": "String"}}
    assert reads == [tmp_path / "t.json"]
