"""Adopting a stack another tool deployed: stackyard's own bookkeeping never makes a change.

The NoEcho digests a template records are compared as values, never as template text; a
template that differs only by them is the same template. stacker's default stack tag is
kept and not compared. YAML with short tags, as stacker sends raw templates, is read as the
template it is.
"""

from __future__ import annotations

import json
from typing import Any

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.plan.actions import compare, normalise_template, same_template
from stackyard.plan.diff import diff_stack
from stackyard.plan.model import StackAction
from stackyard.submission import OWNER_TAG, compared_tags, submitted_tags
from stackyard.template_secrets import (
    DIGESTS_KEY,
    add_parameter_digests,
    carry_digests,
    digests_of,
    without_digests,
)

TEMPLATE = {
    "Parameters": {"Password": {"Type": "String", "NoEcho": True}, "Size": {"Type": "String"}},
    "Resources": {
        "Copy": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Password"}},
        }
    },
}

YAML_TEXT = """\
Parameters:
  Password: {Type: String, NoEcho: true}
  Size: {Type: String}
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Ref Password
"""


def body(password: str | None = "secret") -> str:
    values = {"Password": password} if password is not None else {}
    return add_parameter_digests(json.dumps(TEMPLATE), values, {"Password"}, stack="ns-db")


def desired(password: str | None = "secret", **changes: Any) -> DesiredStack:
    parameters: dict[str, Any] = {"Size": "1"}
    if password is not None:
        parameters["Password"] = password
    base: dict[str, Any] = dict(
        name="db",
        fqn="ns-db",
        region=None,
        profile=None,
        template_body=body(password),
        parameters=parameters,
        declared_parameters=frozenset({"Password", "Size"}),
        no_echo=frozenset({"Password"}),
        tags={},
    )
    base.update(changes)
    return DesiredStack(**base)


def deployed(template: Any, **changes: Any) -> DeployedStack:
    base: dict[str, Any] = dict(
        name="ns-db",
        stack_id="arn:db",
        status="CREATE_COMPLETE",
        parameters={"Password": "****", "Size": "1"},
        tags={"stacker_namespace": "ns"},
    )
    base.update(changes)
    stack = DeployedStack(**base)
    return stack.with_template(normalise_template(template), None)


def test_the_digest_block_alone_is_not_a_different_template() -> None:
    assert DIGESTS_KEY in json.loads(body())["Metadata"]
    assert same_template(TEMPLATE, body())
    assert same_template(YAML_TEXT, body())
    assert not same_template({**TEMPLATE, "Description": "x"}, body())
    # Other metadata stays part of the template.
    with_metadata = {**TEMPLATE, "Metadata": {"Owner": "ops"}}
    assert without_digests(with_metadata) == with_metadata
    assert not same_template(with_metadata, body())


def test_yaml_with_short_tags_is_read_as_its_long_forms() -> None:
    parsed = normalise_template(YAML_TEXT)
    assert parsed["Resources"]["Copy"]["Properties"]["Value"] == {"Ref": "Password"}


def test_a_stack_deployed_by_stacker_is_in_sync() -> None:
    stacker_made = deployed(YAML_TEXT)
    plan = diff_stack(desired(), stacker_made)
    assert plan.action is StackAction.NO_CHANGE, plan.reason
    assert plan.hint and "Password" in plan.hint and "cannot be compared" in plan.hint
    action = compare(desired(), stacker_made, fetch_template=lambda: YAML_TEXT)
    assert action.kind is StackAction.NO_CHANGE, action.reason


def test_recorded_digests_still_show_a_changed_secret() -> None:
    recorded = deployed(body("old"), tags={OWNER_TAG: "ns"})
    plan = diff_stack(desired("new"), recorded)
    assert plan.action is StackAction.UPDATE
    assert [p.key for p in plan.parameters] == ["Password"]
    assert plan.parameters[0].before == plan.parameters[0].after == "****"
    action = compare(desired("new"), recorded, fetch_template=lambda: body("old"))
    assert action.kind is StackAction.UPDATE and action.changes == ("parameters: Password",)
    assert diff_stack(desired("old"), recorded).action is StackAction.NO_CHANGE


def test_an_uncompared_secret_is_sent_when_the_stack_changes_anyway() -> None:
    stacker_made = deployed(YAML_TEXT)
    plan = diff_stack(desired(parameters={"Password": "secret", "Size": "2"}), stacker_made)
    assert plan.action is StackAction.UPDATE
    assert {p.key for p in plan.parameters} == {"Password", "Size"}
    # The resource that reads it may change: that is shown too.
    assert [r.logical_id for r in plan.resources] == ["Copy"]


def test_a_left_out_no_echo_parameter_keeps_its_value_and_its_digest() -> None:
    recorded = deployed(body("kept"), tags={OWNER_TAG: "ns"})
    left_out = desired(None)
    assert DIGESTS_KEY not in json.loads(left_out.template_body).get("Metadata", {})
    plan = diff_stack(left_out, recorded)
    assert plan.action is StackAction.NO_CHANGE, plan.reason
    # An update for another reason keeps the deployed digest in the new template.
    carried = carry_digests(left_out.template_body, recorded.template, ["Password"])
    assert digests_of(json.loads(carried)) == digests_of(json.loads(body("kept")))
    assert carry_digests(body("other"), recorded.template, []) == body("other")


def test_stackers_default_tag_is_kept_and_not_compared() -> None:
    stacker_made = deployed(YAML_TEXT)
    assert compared_tags(stacker_made.tags, {}) == {}
    assert compared_tags(stacker_made.tags, {"stacker_namespace": "other"}) == {
        "stacker_namespace": "ns"
    }
    assert submitted_tags(desired(), stacker_made, "ns") == {"stacker_namespace": "ns"}
    assert submitted_tags(desired(tags={"team": "a"}), stacker_made, "ns") == {
        "team": "a",
        "stacker_namespace": "ns",
    }
    assert diff_stack(desired(), stacker_made).tags == ()


def test_a_number_in_mappings_is_the_same_as_its_text() -> None:
    as_text = {**TEMPLATE, "Mappings": {"Sizes": {"us-east-1": {"Count": "2"}}}}
    as_number = {**TEMPLATE, "Mappings": {"Sizes": {"us-east-1": {"Count": 2}}}}
    assert same_template(as_number, json.dumps(as_text))
    assert not same_template(as_number, {**as_text, "Mappings": {"Sizes": {"x": {"Count": "3"}}}})
