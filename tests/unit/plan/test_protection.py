"""Protection verdicts: protected stacks, annotations, project defaults, creates and deletes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.plan.diff import diff_stack
from stackyard.plan.model import ChangeAction, Replacement, ResourceChange, Risk, RiskKind
from stackyard.plan.protection import ProjectProtection, assess, matches, parse_rule

DB = {
    "Type": "AWS::RDS::DBInstance",
    "Properties": {"DBInstanceIdentifier": "db1", "AllocatedStorage": "20"},
}
ZONE = {"Type": "AWS::Route53::RecordSet", "Properties": {"Name": "a.example.com", "TTL": "60"}}
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "t"}}
NONE = ProjectProtection(rules=(), deletion=False)


def stack(resources: dict[str, Any], protected: bool | tuple[str, ...] = False) -> DesiredStack:
    return DesiredStack(
        name="app",
        fqn="dev-app",
        region=None,
        profile=None,
        template_body=json.dumps({"Resources": resources}),
        parameters={},
        declared_parameters=frozenset(),
        no_echo=frozenset(),
        tags={},
        protected=protected,
    )


def live(resources: dict[str, Any], **kw: Any) -> DeployedStack:
    return DeployedStack(
        name="dev-app",
        stack_id="dev-app",
        status="UPDATE_COMPLETE",
        template={"Resources": resources},
        **kw,
    )


def edited(resource: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {**resource, "Properties": {**resource["Properties"], **props}}


OLD = {"Database": DB, "Record": ZONE, "Topic": TOPIC}


def subjects(plan: Any) -> list[str]:
    return [i.subject for i in plan.protection.items]


def test_unprotected_stack_needs_no_approval() -> None:
    new = {**OLD, "Topic": edited(TOPIC, DisplayName="u")}
    plan = diff_stack(stack(new), live(OLD), project_protection=NONE)

    assert not plan.needs_approval


def test_protected_true_covers_every_change() -> None:
    new = {**OLD, "Topic": edited(TOPIC, DisplayName="u")}
    plan = diff_stack(stack(new, True), live(OLD), project_protection=NONE)

    assert plan.needs_approval
    assert subjects(plan) == ["Topic"]
    assert plan.protection.items[0].rule == "protected: true"


def test_protected_true_covers_creation() -> None:
    plan = diff_stack(stack(OLD, True), None, project_protection=NONE)
    assert [(i.subject, i.reason) for i in plan.protection.items] == [("stack", "create stack")]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (("Database",), ["Database"]),
        (("AWS::Route53::*",), ["Record"]),
        (("replace",), ["Database"]),
        (("security",), []),
        (("Data*",), ["Database"]),
    ],
)
def test_annotations(rules: tuple[str, ...], expected: list[str]) -> None:
    new = {
        "Database": edited(DB, DBInstanceIdentifier="db2"),  # create-only: replacement
        "Record": edited(ZONE, TTL="300"),
        "Topic": edited(TOPIC, DisplayName="u"),
    }
    plan = diff_stack(stack(new, rules), live(OLD), project_protection=NONE)

    assert subjects(plan) == expected


def test_creates_count_for_annotations() -> None:
    new = {**OLD, "Record2": ZONE}
    plan = diff_stack(stack(new, ("AWS::Route53::*",)), live(OLD), project_protection=NONE)

    assert subjects(plan) == ["Record2"]
    assert plan.protection.items[0].reason.startswith("creates Record2")


def test_project_default_protects_destructive_changes_to_stateful_types() -> None:
    new = {"Record": ZONE, "Topic": TOPIC}  # Database removed
    plan = diff_stack(stack(new), live(OLD))  # the default project protection

    assert subjects(plan) == ["Database"]
    assert plan.protection.items[0].rule == "project: destructive & stateful"
    # removing a stateless resource needs no approval
    assert not diff_stack(stack({"Database": DB, "Record": ZONE}), live(OLD)).needs_approval


def test_deleting_a_protected_or_terminate_protected_stack() -> None:
    rules = [
        i.rule
        for i in diff_stack(
            None, live(OLD), protected=("Database",), project_protection=NONE
        ).protection.items
    ]
    assert rules[0] == "protected: Database"
    tp = diff_stack(None, live(OLD, termination_protection=True))
    assert "termination protection" in [i.rule for i in tp.protection.items]


def test_locked_stack_is_assessed_but_does_not_need_approval_to_skip() -> None:
    new = {**OLD, "Topic": edited(TOPIC, DisplayName="u")}
    desired = stack(new, True)
    desired = DesiredStack(**{**desired.__dict__, "locked": True})
    plan = diff_stack(desired, live(OLD), project_protection=NONE)

    assert plan.protection.needs_approval and not plan.needs_approval


def test_unknown_term_is_warned_about() -> None:
    plan = diff_stack(stack(OLD, ("Databse",)), live(OLD), project_protection=NONE)
    assert plan.protection.warnings == (
        "protected: 'Databse' is no keyword and matches no resource",
    )


def test_rule_parsing_and_matching() -> None:
    change = ResourceChange(
        "Db",
        "AWS::RDS::DBInstance",
        ChangeAction.MODIFY,
        replacement=Replacement.CONDITIONAL,
        risks=(Risk(RiskKind.DESTRUCTIVE, "may be replaced", True),),
    )
    assert parse_rule(" destructive &stateful ") == ("destructive", "stateful")
    assert matches("destructive & stateful", change)
    assert matches("replace & AWS::RDS::*", change)
    assert not matches("security", change)
    assert not matches("create & Db", change)
    assert not matches("", change)


def test_assess_directly() -> None:
    plan = diff_stack(stack(OLD), None, project_protection=NONE)
    verdict = assess(plan, ("create",), project=None)
    assert verdict.items[0].reason == "create stack"
