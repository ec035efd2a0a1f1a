"""A stack another tool deployed (as stacker 1.7 deploys one) is adopted without churn, and a
NoEcho parameter left out of the config keeps its value without an update."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from apply_helpers import Apply, phases

# As stacker sends a raw template: the file's own text, YAML with short tags.
TEMPLATE = """\
Parameters:
  Password:
    Type: String
    NoEcho: true
  Label:
    Type: String
    Default: first
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Ref Password
      Description: !Sub "copy of ${Label}"
Outputs:
  Name:
    Value: !Ref Copy
"""


def _config(apply: Apply, variables: str, extra: str = "") -> None:
    (apply.folder / "templates" / "adopted.yaml").write_text(TEMPLATE)
    (apply.folder / "adopted.yaml").write_text(
        textwrap.dedent(
            """\
            namespace: ${namespace}
            stacks:
              - name: db
                template_path: templates/adopted.yaml
                protected: true
            """
        )
        + extra
        + "    variables:\n"
        + textwrap.indent(textwrap.dedent(variables), "      ")
    )


def _create_as_stacker(apply: Apply, aws: Any, password: str) -> str:
    """The stack as stacker 1.7.2 creates it: the template text as written, every parameter
    sent, its default tag, no termination protection."""
    fqn = f"{apply.namespace}-db"
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName=fqn,
        TemplateBody=TEMPLATE,
        Parameters=[
            {"ParameterKey": "Password", "ParameterValue": password},
            {"ParameterKey": "Label", "ParameterValue": "first"},
        ],
        Tags=[{"Key": "stacker_namespace", "Value": apply.namespace}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=fqn, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return fqn


def _plan(apply: Apply, project: Any) -> Any:
    from stackyard.plan.planner import PlanOptions
    from stackyard.workflow import plan

    return plan(project, apply.gateway(), PlanOptions()).plan.stack("db")


def _info(apply: Apply, project: Any) -> Any:
    from stackyard.aws.session import Location
    from stackyard.engine.access import EngineAWSAccess
    from stackyard.plan.status import stack_info

    gateway = apply.gateway()
    access = EngineAWSAccess(gateway, default=Location("us-east-1"))
    return stack_info(project, gateway, access, ["db"], {"db": project.location("db")})[0]


def _value(aws: Any, fqn: str) -> str:
    outputs = aws("cloudformation").describe_stacks(StackName=fqn)["Stacks"][0]["Outputs"]
    name = {o["OutputKey"]: o["OutputValue"] for o in outputs}["Name"]
    return str(aws("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def test_a_stack_stacker_deployed_is_no_change_on_the_first_build(apply: Apply, aws) -> None:
    fqn = _create_as_stacker(apply, aws, "s3cret-value")
    _config(apply, "Password: ${password}\n")
    project = apply.project("adopted.yaml", password="s3cret-value")

    stack = _plan(apply, project)
    assert str(stack.action) == "no change", stack.reason
    assert stack.hint and "Password" in stack.hint and "cannot be compared" in stack.hint
    assert _info(apply, project).drift == "in sync"
    assert phases(apply.build(project)) == {"db": "no change"}

    deployed = aws("cloudformation").describe_stacks(StackName=fqn)["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in deployed["Tags"]} == {
        "stacker_namespace": apply.namespace
    }
    assert not deployed.get("EnableTerminationProtection")


def test_an_adopted_stack_updated_anyway_sends_its_no_echo_value(apply: Apply, aws) -> None:
    fqn = _create_as_stacker(apply, aws, "old-value")
    _config(apply, "Password: ${password}\nLabel: second\n")
    project = apply.project("adopted.yaml", password="new-value")

    stack = _plan(apply, project)
    assert {p.key for p in stack.parameters} == {"Label", "Password"}
    assert next(p for p in stack.parameters if p.key == "Password").after == "****"
    assert phases(apply.build(project)) == {"db": "complete"}
    assert _value(aws, fqn) == "new-value"

    # The update recorded the digest (and kept the other tool's tag): now it compares.
    again = apply.project("adopted.yaml", password="new-value")
    assert phases(apply.build(again)) == {"db": "no change"}
    tags = aws("cloudformation").describe_stacks(StackName=fqn)["Stacks"][0]["Tags"]
    assert {"Key": "stacker_namespace", "Value": apply.namespace} in tags
    rotated = apply.project("adopted.yaml", password="newer-value")
    assert _info(apply, rotated).drift == "changes pending"
    assert phases(apply.build(rotated)) == {"db": "complete"}
    assert _value(aws, fqn) == "newer-value"


def test_a_no_echo_parameter_left_out_keeps_its_value_with_no_update(apply: Apply, aws) -> None:
    _config(apply, "Password: ${password}\n")
    first = apply.project("adopted.yaml", password="kept-value")
    assert phases(apply.build(first)) == {"db": "complete"}
    fqn = f"{apply.namespace}-db"

    _config(apply, "Label: first\n")
    assert phases(apply.build(apply.project("adopted.yaml"))) == {"db": "no change"}
    assert phases(apply.build(apply.project("adopted.yaml"))) == {"db": "no change"}

    # Updated for another reason, it still keeps the value and the value's digest.
    _config(apply, "Label: second\n")
    assert phases(apply.build(apply.project("adopted.yaml"))) == {"db": "complete"}
    assert _value(aws, fqn) == "kept-value"
    body = aws("cloudformation").get_template(StackName=fqn)["TemplateBody"]
    body = body if isinstance(body, dict) else json.loads(body)
    assert "Password" in body["Metadata"]["StackyardParameterDigests"]

    _config(apply, "Password: ${password}\nLabel: second\n")
    same = apply.project("adopted.yaml", password="kept-value")
    assert phases(apply.build(same)) == {"db": "no change"}


def test_a_new_stack_needs_every_parameter_with_no_default(apply: Apply) -> None:
    import pytest

    from stackyard.errors import ConfigError

    _config(apply, "Label: first\n")
    project = apply.project("adopted.yaml")
    # Rendering alone (no AWS) cannot tell: it warns.
    project.render("db", project.resolve_context())
    assert any("Password has no value and no Default" in w for w in project.warnings)
    with pytest.raises(ConfigError) as caught:
        _plan(apply, project)
    assert "parameter 'Password' has no value and no Default" in caught.value.message
    assert caught.value.line == 3
