"""stackyard.blueprints.base: variables, parameters, rendering, user data, errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from troposphere import Ref, s3, sqs

from stackyard.blueprints.base import (
    NOT_PROVIDED,
    Blueprint,
    CFNParameter,
    StackerTemplate,
    build_parameter,
    parse_user_data,
    read_value_from_path,
    resolve_variable,
)
from stackyard.blueprints.variables.types import (
    CFNCommaDelimitedList,
    CFNNumber,
    CFNString,
    EC2SubnetIdList,
    TroposphereType,
)
from stackyard.context import Context
from stackyard.errors import BlueprintError, StackyardError, VariableError
from stackyard.unknown import Unknown

FIXTURES = Path(__file__).parent / "fixtures"


class Queue(Blueprint):
    """A small blueprint used throughout these tests."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "QueueName": {"type": str, "description": "Name of the queue."},
        "Retention": {"type": CFNNumber, "default": 345600},
        "Tags": {"type": dict, "default": {}},
    }

    def create_template(self) -> None:
        v = self.get_variables()
        queue = self.template.add_resource(
            sqs.Queue(
                "Queue",
                QueueName=self.context.get_fqn(v["QueueName"]),
                MessageRetentionPeriod=v["Retention"].ref,
            )
        )
        v["Tags"]["touched"] = "yes"  # a blueprint mutating its variables
        self.add_output("QueueUrl", Ref(queue))


def make(cls: type[Blueprint] = Queue, context: Context | None = None, **kwargs: Any) -> Blueprint:
    return cls("jobs", context or Context(namespace="acme"), **kwargs)


def resolve_one(definition: dict[str, Any], value: Any = NOT_PROVIDED) -> Any:
    return resolve_variable("Var", definition, value, "stack", blueprint_class="Thing")


# -- variable resolution ----------------------------------------------------------------


def test_python_type_accepted_and_default_used() -> None:
    bp = make()
    bp.resolve_variables({"QueueName": "jobs"})
    v = bp.get_variables()
    assert v["QueueName"] == "jobs"
    assert v["Tags"] == {}
    assert v["Retention"] == CFNParameter("Retention", "345600")


def test_wrong_python_type_names_blueprint_variable_expected_and_got() -> None:
    with pytest.raises(VariableError) as info:
        make().resolve_variables({"QueueName": 42})
    err = info.value
    assert err.key == "QueueName"
    assert err.stack == "jobs"
    assert err.exit_code == 2
    assert "blueprint Queue: variable 'QueueName' has the wrong type" in err.message
    assert "expected str, got int 42" in err.message
    assert "str" in (err.hint or "")


def test_tuple_of_types() -> None:
    definition = {"type": (int, float)}
    assert resolve_one(definition, 1.5) == 1.5
    with pytest.raises(VariableError, match="expected int or float, got str"):
        resolve_one(definition, "1.5")


def test_none_is_a_value_and_is_type_checked() -> None:
    assert resolve_one({"type": (str, type(None))}, None) is None
    with pytest.raises(VariableError, match="got NoneType"):
        resolve_one({"type": str}, None)


def test_invalid_type_in_definition() -> None:
    with pytest.raises(VariableError, match="invalid type 'string'"):
        resolve_one({"type": "string"}, "x")


def test_missing_type_in_definition() -> None:
    with pytest.raises(VariableError, match="has no 'type'"):
        resolve_one({"default": 1})


def test_missing_required_variable_mentions_description_and_stack() -> None:
    with pytest.raises(VariableError) as info:
        make().resolve_variables({})
    err = info.value
    assert "'QueueName' is required but was not given a value (Name of the queue.)" in str(err)
    assert err.hint is not None and "stack 'jobs'" in err.hint


def test_variables_the_blueprint_does_not_define_are_ignored() -> None:
    bp = make()
    bp.resolve_variables({"QueueName": "q", "Colour": "red"})
    assert "Colour" not in bp.get_variables()


def test_stacker_variable_objects_are_accepted() -> None:
    bp = make()
    bp.resolve_variables([SimpleNamespace(name="QueueName", value="q")])
    assert bp.get_variables()["QueueName"] == "q"


def test_defaults_are_copied_so_mutation_does_not_leak_between_stacks() -> None:
    first = make()
    first.resolve_variables({"QueueName": "a"})
    first.render_template()
    assert first.get_variables()["Tags"] == {"touched": "yes"}
    assert Queue.VARIABLES["Tags"]["default"] == {}


def test_get_variables_before_resolving_is_a_clear_error() -> None:
    with pytest.raises(BlueprintError, match="not resolved yet") as info:
        make().get_variables()
    assert "resolve_variables" in (info.value.hint or "")


# -- validators and allowed values --------------------------------------------------------


def test_validator_may_transform_the_value() -> None:
    assert resolve_one({"type": int, "validator": int}, "8") == 8


def test_validator_runs_before_the_type_check() -> None:
    def upper(value: str) -> str:
        return value.upper()

    assert resolve_one({"type": str, "validator": upper, "allowed_values": ["A"]}, "a") == "A"


def test_validator_failure_is_a_variable_error_with_the_original_message() -> None:
    def must_be_even(value: int) -> int:
        if value % 2:
            raise ValueError("must be even")
        return value

    with pytest.raises(VariableError) as info:
        resolve_one({"type": int, "validator": must_be_even}, 3)
    assert "failed validator must_be_even: must be even" in info.value.message
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.hint == "got 3"


def test_allowed_values_for_python_types() -> None:
    definition = {"type": str, "allowed_values": ["small", "large"]}
    assert resolve_one(definition, "small") == "small"
    with pytest.raises(VariableError) as info:
        resolve_one(definition, "huge")
    assert "not allowed: 'huge'" in info.value.message
    assert info.value.hint == "expected one of ['small', 'large']"


def test_allowed_values_for_cfn_types_compare_submitted_strings() -> None:
    definition = {"type": CFNNumber, "allowed_values": [1, 2]}
    assert resolve_one(definition, 2).value == "2"
    with pytest.raises(VariableError, match="not allowed: '3'"):
        resolve_one(definition, 3)
    listed = {"type": CFNCommaDelimitedList, "allowed_values": ["a", "b"]}
    assert resolve_one(listed, ["a", "b"]).value == ["a", "b"]
    with pytest.raises(VariableError, match="not allowed"):
        resolve_one(listed, ["a", "c"])


def test_allowed_values_with_unhashable_value() -> None:
    with pytest.raises(VariableError, match="not allowed"):
        resolve_one({"type": dict, "allowed_values": frozenset({"a"})}, {"a": 1})


# -- Unknown values -----------------------------------------------------------------------


def _fail(value: Any) -> Any:
    raise AssertionError("validator must not run on an unknown value")


@pytest.mark.parametrize(
    "definition",
    [
        {"type": int},
        {"type": list, "validator": _fail},
        {"type": str, "allowed_values": ["a"]},
        {"type": TroposphereType(s3.Bucket)},
    ],
    ids=["python-type", "validator", "allowed-values", "troposphere-type"],
)
def test_unknown_passes_type_checks_validators_and_allowed_values(
    definition: dict[str, Any],
) -> None:
    unknown = Unknown("output vpc::VpcId")
    assert resolve_one(definition, unknown) is unknown


def test_unknown_inside_a_list_skips_the_validator_but_not_the_type() -> None:
    value = ["a", Unknown("x")]
    assert resolve_one({"type": list, "validator": _fail}, value) == value
    with pytest.raises(VariableError, match="wrong type"):
        resolve_one({"type": dict}, value)


def test_unknown_cfn_parameter_value() -> None:
    param = resolve_one({"type": CFNString, "allowed_values": ["a"]}, Unknown("ssm"))
    assert isinstance(param, CFNParameter)
    assert param.value == Unknown("ssm")


# -- CFN types and parameters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "submitted"),
    [("x", "x"), (5, "5"), (1.5, "1.5"), (True, "true"), (False, "false"), (["a"], ["a"])],
)
def test_cfn_parameter_values(value: Any, submitted: Any) -> None:
    param = CFNParameter("P", value)
    assert param.to_parameter_value() == submitted
    assert param.ref.to_dict() == {"Ref": "P"}
    assert repr(param) == f"CFNParameter(P: {submitted})"


def test_cfn_parameter_rejects_mappings_with_masked_secret() -> None:
    definition = {"type": CFNString, "no_echo": True}
    with pytest.raises(VariableError) as info:
        resolve_one(definition, {"password": "hunter2"})
    text = str(info.value)
    assert "cannot be submitted as a String parameter" in text
    assert "hunter2" not in text
    assert "****" in text


def test_no_echo_value_masked_when_not_allowed() -> None:
    definition = {"type": str, "no_echo": True, "allowed_values": ["a"]}
    with pytest.raises(VariableError) as info:
        resolve_one(definition, "hunter2")
    assert "hunter2" not in str(info.value)


class AllOptions(Blueprint):
    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "Password": {
            "type": CFNString,
            "description": "The password.",
            "no_echo": True,
            "allowed_pattern": "[a-z]+",
            "min_length": 8,
            "max_length": 32,
            "constraint_description": "lowercase letters",
        },
        "Size": {
            "type": CFNNumber,
            "default": 5,
            "min_value": 1,
            "max_value": 10,
            "allowed_values": [1, 5, 10],
        },
        "Subnets": {"type": EC2SubnetIdList, "default": ["subnet-1", "subnet-2"]},
        "Names": {"type": CFNCommaDelimitedList, "default": None},
        "Flag": {"type": CFNString, "default": True},
        "Count": {"type": CFNString, "default": 3},
        "Plain": {"type": str, "default": "not a parameter"},
    }

    def create_template(self) -> None:
        self.template.add_resource(s3.Bucket("Bucket"))


def test_parameter_definitions_and_required_ones() -> None:
    bp = make(AllOptions)
    defs = bp.get_parameter_definitions()
    assert set(defs) == {"Password", "Size", "Subnets", "Names", "Flag", "Count"}
    assert defs["Subnets"]["type"] == "List<AWS::EC2::Subnet::Id>"
    assert set(bp.get_required_parameter_definitions()) == {"Password", "Names"}


def test_cfn_parameters_rendered_with_every_option() -> None:
    bp = make(AllOptions)
    bp.resolve_variables({"Password": "secretpassword", "Names": ["a"]})
    params = json.loads(bp.rendered)["Parameters"]
    assert params == {
        "Password": {
            "Type": "String",
            "Description": "The password.",
            "NoEcho": True,
            "AllowedPattern": "[a-z]+",
            "MinLength": 8,
            "MaxLength": 32,
            "ConstraintDescription": "lowercase letters",
        },
        "Size": {
            "Type": "Number",
            "Default": 5,
            "MinValue": 1,
            "MaxValue": 10,
            "AllowedValues": [1, 5, 10],
        },
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-1,subnet-2"},
        "Names": {"Type": "CommaDelimitedList"},
        "Flag": {"Type": "String", "Default": "true"},
        "Count": {"Type": "String", "Default": "3"},
    }
    assert bp.get_template_parameters() == params
    assert bp.get_parameter_values() == {
        "Password": "secretpassword",
        "Size": "5",
        "Subnets": ["subnet-1", "subnet-2"],
        "Names": ["a"],
        "Flag": "true",
        "Count": "3",
    }
    assert bp.get_cfn_parameters() == bp.get_parameter_values()


def test_build_parameter_skips_a_none_default() -> None:
    param = build_parameter("P", {"type": "String", "default": None, "description": "d"})
    assert param.to_dict() == {"Type": "String", "Description": "d"}


def test_bad_parameter_option_names_the_variable(load: Any) -> None:
    bp = load("yardfixtures.broken.BadParameterOption")
    bp.resolve_variables({"Secret": "x"})
    with pytest.raises(VariableError) as info:
        bp.render_template()
    assert info.value.key == "Secret"
    assert "not a valid CloudFormation parameter" in info.value.message
    assert "NoEcho" in info.value.message


# -- rendering ------------------------------------------------------------------------------


def test_render_template_version_is_md5_prefix_of_rendered() -> None:
    bp = make()
    bp.resolve_variables({"QueueName": "jobs"})
    version, rendered = bp.render_template()
    assert version == hashlib.md5(rendered.encode()).hexdigest()[:8]
    assert (bp.version, bp.rendered) == (version, rendered)
    body = json.loads(rendered)
    assert body["Resources"]["Queue"]["Properties"]["QueueName"] == "acme-jobs"
    assert body["Outputs"] == {"QueueUrl": {"Value": {"Ref": "Queue"}}}
    assert bp.get_output_definitions() == body["Outputs"]
    assert rendered.startswith('{\n    "Outputs"')  # stacker's indent, sorted keys


def test_rendering_again_after_new_variables_starts_from_an_empty_template() -> None:
    bp = make()
    bp.resolve_variables({"QueueName": "one"})
    first = bp.rendered
    assert bp.rendered is first  # cached
    bp.resolve_variables({"QueueName": "two"})
    second = json.loads(bp.rendered)
    assert second["Resources"]["Queue"]["Properties"]["QueueName"] == "acme-two"


def test_two_instances_render_identical_bytes() -> None:
    renders = []
    for _ in range(2):
        bp = make(AllOptions)
        bp.resolve_variables({"Password": "secretpassword", "Names": ["a"]})
        renders.append(bp.rendered)
    assert renders[0] == renders[1]


def test_rendering_is_byte_stable_across_processes(tmp_path: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from stackyard.blueprints.loader import load_blueprint\n"
        "from stackyard.context import Context\n"
        "from pathlib import Path\n"
        "bp = load_blueprint(stack_name='b', class_path='yardfixtures.buckets.Buckets',"
        " template_path=None, context=Context(namespace='n'), description='d',"
        " mappings={'M': {'k': {'v': 1}}}, sys_path=['.'], base_dir=Path(sys.argv[1]))\n"
        "bp.resolve_variables({'Buckets': {'B': {}, 'A': {}}, 'SingleBucket': {'S': {}},"
        " 'Versioning': {'Status': 'Enabled'}, 'Topics': {'T': {}}})\n"
        "sys.stdout.write(bp.rendered)\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", script, str(FIXTURES)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert '"Mappings"' in outputs.pop()


def test_mappings_description_and_indent(context: Context) -> None:
    ctx = SimpleNamespace(get_fqn=context.get_fqn, template_indent=1)
    bp = Queue("jobs", ctx, mappings={"Sizes": {"dev": {"Retention": 60}}}, description="Jobs")
    bp.resolve_variables({"QueueName": "q"})
    body = json.loads(bp.rendered)
    assert body["Mappings"] == {"Sizes": {"dev": {"Retention": 60}}}
    assert body["Description"] == "Jobs"
    assert bp.rendered.startswith('{\n "Description"')


def test_to_json_fills_cfn_parameters_it_was_not_given() -> None:
    body = json.loads(make(AllOptions).to_json())
    assert "Password" in body["Parameters"]
    with pytest.raises(VariableError, match="QueueName"):
        make().to_json()
    assert '"acme-x"' in make().to_json({"QueueName": "x"})


class Transformed(Blueprint):
    def create_template(self) -> None:
        t = self.template
        t.add_version()
        t.add_description("old-style calls")
        t.add_metadata({"Owner": "ops"})
        t.add_transform("AWS::Serverless-2016-10-31")
        t.add_resource(s3.Bucket("Bucket"))


def test_troposphere_2_template_methods_and_requires_change_set() -> None:
    bp = make(Transformed)
    bp.resolve_variables({})
    assert isinstance(bp.template, StackerTemplate)
    assert bp.requires_change_set is True
    body = json.loads(bp.rendered)
    assert body["AWSTemplateFormatVersion"] == "2010-09-09"
    assert body["Description"] == "old-style calls"
    assert body["Metadata"] == {"Owner": "ops"}
    plain = make()
    plain.resolve_variables({"QueueName": "q"})
    assert plain.requires_change_set is False


def test_blueprint_raising_becomes_blueprint_error_with_its_file_and_line(load: Any) -> None:
    bp = load("yardfixtures.broken.RaisesInCreate")
    bp.resolve_variables({})
    with pytest.raises(BlueprintError) as info:
        bp.render_template()
    err = info.value
    assert "blueprint RaisesInCreate failed to render: KeyError: 'bucket'" in err.message
    assert err.file is not None and Path(err.file).name == "broken.py"
    source = Path(err.file).read_text().splitlines()
    assert 'settings["bucket"]' in source[(err.line or 0) - 1]
    assert isinstance(err.__cause__, KeyError)


def test_troposphere_validation_failure_names_the_blueprint(load: Any) -> None:
    bp = load("yardfixtures.broken.MissingRequiredProperty")
    bp.resolve_variables({})
    with pytest.raises(BlueprintError, match=r"MissingRequiredProperty failed to render.*required"):
        bp.render_template()


def test_missing_create_template(load: Any) -> None:
    bp = load("yardfixtures.broken.NoCreateTemplate")
    bp.resolve_variables({})
    with pytest.raises(BlueprintError, match="does not implement create_template"):
        bp.render_template()


def test_stacker_errors_raised_inside_create_template_pass_through() -> None:
    class Reads(Blueprint):
        def create_template(self) -> None:
            self.get_variables()

    with pytest.raises(BlueprintError, match="not resolved yet"):
        make(Reads).render_template()


def test_deprecated_parameters_attribute(load: Any) -> None:
    with pytest.raises(BlueprintError, match="PARAMETERS or LOCAL_PARAMETERS") as info:
        load("yardfixtures.broken.OldStyle")
    assert isinstance(info.value, StackyardError)


# -- user data ------------------------------------------------------------------------------


class WithUserData(Blueprint):
    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "Environment": {"type": str, "default": "prod"},
        "Port": {"type": int, "default": 8080},
        "InstanceType": {"type": str, "default": "t3.micro"},
        "ImageId": {"type": CFNString, "default": "ami-1"},
    }

    def create_template(self) -> None:
        pass


def test_read_user_data_from_a_file_relative_to_the_config(context: Context) -> None:
    bp = WithUserData("web", context)
    bp.resolve_variables({"ImageId": 7})
    text = bp.read_user_data("file://userdata.sh")
    assert "# rendered for prod, listening on 8080" in text
    assert "instance type t3.micro, image 7" in text
    assert "cost: $5" in text


def test_read_user_data_absolute_path_and_literal_text() -> None:
    bp = WithUserData("web", Context())
    bp.resolve_variables({})
    assert "listening on 8080" in bp.read_user_data(f"file://{FIXTURES / 'userdata.sh'}")
    assert bp.read_user_data("env=${Environment}") == "env=prod"


def test_read_user_data_without_config_path_uses_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ud.txt").write_text("port ${Port}")
    monkeypatch.chdir(tmp_path)
    bp = WithUserData("web", Context())
    bp.resolve_variables({})
    assert bp.read_user_data("file://ud.txt") == "port 8080"


def test_user_data_missing_file(context: Context) -> None:
    bp = WithUserData("web", context)
    bp.resolve_variables({})
    with pytest.raises(BlueprintError, match=r"cannot read file://nope\.sh") as info:
        bp.read_user_data("file://nope.sh")
    assert info.value.file is not None and info.value.file.endswith("nope.sh")


def test_user_data_placeholder_without_variable() -> None:
    with pytest.raises(VariableError) as info:
        parse_user_data({"A": 1}, "echo ${B}", "web")
    assert info.value.key == "B"
    assert "not a variable" in info.value.message
    assert "$${B}" in (info.value.hint or "")


def test_user_data_invalid_placeholder() -> None:
    with pytest.raises(BlueprintError, match="invalid placeholder"):
        parse_user_data({}, "echo ${100}", "web")


def test_read_value_from_path_plain_value() -> None:
    assert read_value_from_path("just text") == "just text"
