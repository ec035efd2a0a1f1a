"""The per-stack decision: status alone, then a comparison that costs at most one call."""

from __future__ import annotations

import json

import pytest

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.plan.actions import classify, compare
from stackyard.plan.model import StackAction as ActionKind
from stackyard.submission import OWNER_TAG, STACK_TAG, submitted_parameters, submitted_tags

TEMPLATE = {
    "Parameters": {"A": {"Type": "String"}, "S": {"Type": "String", "NoEcho": True}},
    "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
}


def desired(**changes) -> DesiredStack:
    base = dict(
        name="q",
        fqn="ns-q",
        region=None,
        profile=None,
        template_body=json.dumps(TEMPLATE),
        parameters={"A": "1", "S": "secret"},
        declared_parameters=frozenset({"A", "S", "Omitted"}),
        no_echo=frozenset({"S"}),
        tags={"team": "x"},
    )
    base.update(changes)
    return DesiredStack(**base)


def deployed(status="UPDATE_COMPLETE", **changes) -> DeployedStack:
    base = dict(
        name="ns-q",
        stack_id="arn:q",
        status=status,
        parameters={"A": "1", "S": "****", "Omitted": "kept"},
        tags={"team": "x", OWNER_TAG: "ns"},
    )
    base.update(changes)
    return DeployedStack(**base)


def no_fetch():
    raise AssertionError("the template should not be fetched")


@pytest.mark.parametrize(
    ("status", "kwargs", "kind"),
    [
        (None, {}, ActionKind.CREATE),
        ("CREATE_COMPLETE", {}, None),
        ("UPDATE_ROLLBACK_COMPLETE", {}, None),
        ("CREATE_COMPLETE", {"locked": True}, ActionKind.SKIP_LOCKED),
        ("CREATE_COMPLETE", {"locked": True, "forced": True}, None),
        ("UPDATE_IN_PROGRESS", {}, ActionKind.BLOCKED),
        ("UPDATE_IN_PROGRESS", {"wait_in_progress": True}, ActionKind.WAIT),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", {"wait_in_progress": True}, ActionKind.WAIT),
        ("ROLLBACK_COMPLETE", {}, ActionKind.BLOCKED),
        ("ROLLBACK_COMPLETE", {"recreate_failed": True}, ActionKind.RECREATE),
        ("CREATE_FAILED", {"recreate_failed": True}, ActionKind.RECREATE),
        ("UPDATE_ROLLBACK_FAILED", {"recreate_failed": True}, ActionKind.BLOCKED),
        ("DELETE_FAILED", {}, ActionKind.BLOCKED),
    ],
)
def test_classify_by_status(status, kwargs, kind) -> None:
    stack = None if status is None else deployed(status)
    action = classify(stack, **kwargs)
    assert (action.kind if action else None) == kind


def test_recreate_needs_stackyards_tag() -> None:
    stranger = deployed("ROLLBACK_COMPLETE", tags={})
    action = classify(stranger, recreate_failed=True)
    assert action is not None and action.kind is ActionKind.BLOCKED
    assert "did not create" in (action.hint or "")


def test_unchanged_stack_is_no_change_after_one_template_read() -> None:
    calls = []

    def fetch():
        calls.append(1)
        return dict(TEMPLATE)  # botocore decodes JSON bodies to dicts

    action = compare(desired(), deployed(), fetch_template=fetch)
    assert action.kind is ActionKind.NO_CHANGE
    assert calls == [1]


def test_template_text_is_compared_as_data() -> None:
    spaced = json.dumps(TEMPLATE, indent=4)
    action = compare(desired(), deployed(), fetch_template=lambda: spaced)
    assert action.kind is ActionKind.NO_CHANGE
    changed = json.dumps({**TEMPLATE, "Description": "new"})
    action = compare(desired(), deployed(), fetch_template=lambda: changed)
    assert action.kind is ActionKind.UPDATE and action.changes == ("template",)


@pytest.mark.parametrize(
    ("desired_changes", "deployed_changes", "change"),
    [
        ({"parameters": {"A": "2", "S": "x"}}, {}, "parameters: A"),
        ({"tags": {"team": "y"}}, {}, "tags"),
        ({"notification_arns": ("arn:sns",)}, {}, "notification ARNs"),
        ({"service_role": "arn:role"}, {}, "service role"),
        (
            {},
            {"parameters": {"A": "1", "S": "****", "Omitted": "k", "Gone": "x"}},
            "parameters: Gone",
        ),
    ],
)
def test_differences_are_found_without_fetching_the_template(
    desired_changes, deployed_changes, change
) -> None:
    action = compare(
        desired(**desired_changes), deployed(**deployed_changes), fetch_template=no_fetch
    )
    assert action.kind is ActionKind.UPDATE
    assert action.changes == (change,)
    assert action.needs_change_set


def test_noecho_values_are_not_compared_and_stackyard_tags_are_ignored() -> None:
    action = compare(
        desired(parameters={"A": "1", "S": "other"}), deployed(), fetch_template=lambda: TEMPLATE
    )
    assert action.kind is ActionKind.NO_CHANGE


def test_termination_protection_and_policy_need_no_change_set() -> None:
    action = compare(
        desired(termination_protection=True), deployed(), fetch_template=lambda: TEMPLATE
    )
    assert action.kind is ActionKind.UPDATE
    assert action.set_termination_protection is True
    assert not action.needs_change_set
    policy = '{"Statement": [{"Effect": "Allow"}]}'
    same = compare(
        desired(stack_policy=policy),
        deployed(),
        fetch_template=lambda: TEMPLATE,
        fetch_stack_policy=lambda: json.dumps(json.loads(policy), indent=2),
    )
    assert same.kind is ActionKind.NO_CHANGE
    other = compare(
        desired(stack_policy=policy),
        deployed(),
        fetch_template=lambda: TEMPLATE,
        fetch_stack_policy=lambda: None,
    )
    assert other.changes == ("stack policy",) and other.set_stack_policy


def test_omitted_parameters_use_previous_values() -> None:
    assert submitted_parameters(desired(), deployed()) == (
        ("A", "1"),
        ("Omitted", None),
        ("S", "secret"),
    )
    assert submitted_parameters(desired(), None) == (("A", "1"), ("S", "secret"))
    assert submitted_parameters(desired(parameters={"A": ["x", "y"], "S": True}), None) == (
        ("A", "x,y"),
        ("S", "true"),
    )


def test_owner_tag_added_on_create_and_kept_on_update() -> None:
    assert submitted_tags(desired(), None, "ns") == {
        "team": "x",
        OWNER_TAG: "ns",
        STACK_TAG: "q",
    }
    assert submitted_tags(desired(tags={}), deployed(), "ns") == {OWNER_TAG: "ns"}
    assert submitted_tags(desired(), deployed(tags={}), "ns") == {"team": "x"}
