"""Secrets from lookups never reach a template in clear."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stackyard.errors import BlueprintError
from stackyard.lookups.secret import Secret
from stackyard.project import Project
from stackyard.template_secrets import keep_secrets_out

REF = "{{resolve:ssm-secure:/ns/db/password:3}}"


def test_value_becomes_its_dynamic_reference() -> None:
    body = json.dumps({"Resources": {"Db": {"Properties": {"Password": "hunter2-long"}}}})
    out = keep_secrets_out(body, [Secret("hunter2-long", REF)], [], stack="db")
    assert "hunter2" not in out
    assert json.loads(out)["Resources"]["Db"]["Properties"]["Password"] == REF


def test_value_inside_a_longer_string_is_replaced_too() -> None:
    body = json.dumps({"Resources": {"A": {"Properties": {"Url": "postgres://u:hunter2-long@h"}}}})
    out = keep_secrets_out(body, [Secret("hunter2-long", REF)], [], stack="a")
    assert json.loads(out)["Resources"]["A"]["Properties"]["Url"] == f"postgres://u:{REF}@h"


def test_secret_without_reference_in_template_is_an_error() -> None:
    body = json.dumps({"Resources": {"A": {"Properties": {"Token": "kms-plaintext"}}}})
    with pytest.raises(BlueprintError, match="in clear") as caught:
        keep_secrets_out(body, [Secret("kms-plaintext")], [], stack="a")
    assert "kms-plaintext" not in str(caught.value)
    assert caught.value.stack == "a"


def test_secret_parameter_is_made_no_echo() -> None:
    body = json.dumps({"Parameters": {"Token": {"Type": "String"}}, "Resources": {}})
    out = json.loads(keep_secrets_out(body, [], ["Token"], stack="a"))
    assert out["Parameters"]["Token"]["NoEcho"] is True


def test_short_secret_only_matches_whole_values() -> None:
    body = json.dumps({"Resources": {"A": {"Properties": {"Name": "abc-def", "Pin": "abc"}}}})
    out = json.loads(keep_secrets_out(body, [Secret("abc", REF)], [], stack="a"))
    assert out["Resources"]["A"]["Properties"] == {"Name": "abc-def", "Pin": REF}


def test_untouched_template_keeps_its_bytes() -> None:
    body = '{\n    "Resources": {}\n}'
    assert keep_secrets_out(body, [Secret("zzzzzzzz", REF)], [], stack="a") is body


BLUEPRINT = """
from troposphere import ssm

from stackyard.blueprints.base import Blueprint
from stackyard.blueprints.variables.types import CFNString


class App(Blueprint):
    VARIABLES = {
        "Password": {"type": str},
        "Token": {"type": CFNString},
    }

    def create_template(self):
        self.template.add_resource(ssm.Parameter(
            "Copy", Type="String", Value=self.get_variables()["Password"]))
"""


class SecretAWS:
    def ssm_parameter(self, name: str, region: str | None = None) -> tuple[str, str]:
        return Secret("s3cr3t-value", f"{{{{resolve:ssm-secure:{name}:7}}}}"), "SecureString"


def test_project_render_keeps_ssm_secrets_out_of_the_template(tmp_path: Path) -> None:
    (tmp_path / "secretbp.py").write_text(BLUEPRINT)
    (tmp_path / "c.yaml").write_text(
        textwrap.dedent("""\
        namespace: ns
        sys_path: .
        stacks:
          - name: app
            class_path: secretbp.App
            variables:
              Password: ${ssm /ns/app/password}
              Token: ${ssm /ns/app/token}
        """)
    )
    project = Project.load(str(tmp_path / "c.yaml"))
    desired = project.render("app", project.resolve_context(aws=SecretAWS()))  # type: ignore[arg-type]
    assert "s3cr3t-value" not in desired.template_body
    template = json.loads(desired.template_body)
    assert (
        template["Resources"]["Copy"]["Properties"]["Value"]
        == "{{resolve:ssm-secure:/ns/app/password:7}}"
    )
    assert template["Parameters"]["Token"]["NoEcho"] is True
    assert desired.no_echo == frozenset({"Token"})
    assert isinstance(desired.parameters["Token"], Secret)


def test_no_echo_values_get_a_salted_digest_in_metadata() -> None:
    from stackyard.template_secrets import add_parameter_digests, recorded_digest
    from stackyard.unknown import Unknown

    body = json.dumps({"Parameters": {"Pw": {"Type": "String", "NoEcho": True}}, "Resources": {}})
    one = json.loads(add_parameter_digests(body, {"Pw": "hunter2"}, ["Pw"], stack="ns-db"))
    two = json.loads(add_parameter_digests(body, {"Pw": "hunter3"}, ["Pw"], stack="ns-db"))
    other_stack = json.loads(add_parameter_digests(body, {"Pw": "hunter2"}, ["Pw"], stack="ns-x"))
    digest = recorded_digest(one, "Pw")
    assert digest is not None and digest.startswith("pbkdf2-sha256:")
    assert "hunter2" not in json.dumps(one)
    assert digest != recorded_digest(two, "Pw")
    assert digest != recorded_digest(other_stack, "Pw")  # salted per stack
    assert digest == recorded_digest(
        json.loads(add_parameter_digests(body, {"Pw": "hunter2"}, ["Pw"], stack="ns-db")), "Pw"
    )
    # Unknown values and stacks without NoEcho parameters keep their template as it is.
    assert add_parameter_digests(body, {"Pw": Unknown("output x::y")}, ["Pw"], stack="s") == body
    assert add_parameter_digests(body, {"Pw": "x"}, [], stack="s") == body


def test_changed_no_echo_value_is_a_planned_change() -> None:
    from stackyard.aws.cloudformation import DeployedStack
    from stackyard.desired import DesiredStack
    from stackyard.plan.diff import diff_stack
    from stackyard.template_secrets import add_parameter_digests

    base = json.dumps(
        {
            "Parameters": {"Pw": {"Type": "String", "NoEcho": True}},
            "Resources": {
                "P": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Type": "String", "Value": {"Ref": "Pw"}},
                }
            },
        }
    )

    def desired(value: str) -> DesiredStack:
        body = add_parameter_digests(base, {"Pw": value}, ["Pw"], stack="ns-db")
        return DesiredStack(
            name="db",
            fqn="ns-db",
            region=None,
            profile=None,
            template_body=body,
            parameters={"Pw": value},
            declared_parameters=frozenset({"Pw"}),
            no_echo=frozenset({"Pw"}),
            tags={},
        )

    deployed_template = json.loads(desired("old-secret").template_body)
    deployed = DeployedStack(
        name="ns-db",
        stack_id="ns-db",
        status="CREATE_COMPLETE",
        template=deployed_template,
        parameters={"Pw": "****"},
        tags={},
        outputs={},
    )
    same = diff_stack(desired("old-secret"), deployed)
    changed = diff_stack(desired("new-secret"), deployed)
    assert not same.has_changes
    assert changed.has_changes
    assert [p.key for p in changed.parameters] == ["Pw"]
    assert changed.parameters[0].masked
    assert "new-secret" not in repr(changed) and "old-secret" not in repr(changed)
