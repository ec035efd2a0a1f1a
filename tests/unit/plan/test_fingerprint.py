"""Saved-plan fingerprints: stable, secret-safe, and naming what moved."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.lookups.secret import Secret
from stackyard.plan.fingerprint import (
    deployed_fingerprint,
    desired_fingerprint,
    moved,
    moved_in_plan,
    stack_fingerprint,
)
from stackyard.plan.model import Plan

TEMPLATE = {
    "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
    "Parameters": {"Pw": {"Type": "String"}},
}
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def desired(body: dict[str, object] = TEMPLATE, **params: object) -> DesiredStack:
    return DesiredStack(
        name="app",
        fqn="dev-app",
        region=None,
        profile=None,
        template_body=json.dumps(body),
        parameters=dict(params),
        declared_parameters=frozenset({"Pw"}),
        no_echo=frozenset({"Pw"}),
        tags={},
    )


def deployed(**kw: object) -> DeployedStack:
    base: dict[str, object] = {
        "name": "dev-app",
        "stack_id": "dev-app",
        "status": "UPDATE_COMPLETE",
        "template": TEMPLATE,
        "parameters": {"Pw": "****"},
        "updated": WHEN,
    }
    base.update(kw)
    return DeployedStack(**base)  # type: ignore[arg-type]


def test_same_input_same_fingerprint() -> None:
    assert stack_fingerprint(desired(Pw="a"), deployed()) == stack_fingerprint(
        desired(Pw="a"), deployed()
    )
    assert (
        moved(
            "app",
            stack_fingerprint(desired(), deployed()),
            stack_fingerprint(desired(), deployed()),
        )
        == ()
    )


def test_secret_values_never_appear_but_still_count() -> None:
    secret = "correct-horse-battery"
    fp = desired_fingerprint(desired(Pw=Secret(secret)))
    plan = Plan.create(
        [], now=WHEN, fingerprints={"app": stack_fingerprint(desired(Pw=secret), None)}
    )

    assert secret not in plan.to_json()
    assert fp != desired_fingerprint(desired(Pw=Secret("another-secret")))


def test_names_what_moved() -> None:
    saved = stack_fingerprint(desired(Pw="a"), deployed())
    changed_body = {**TEMPLATE, "Outputs": {"X": {"Value": "1"}}}
    current = stack_fingerprint(
        desired(changed_body, Pw="b"),
        deployed(status="UPDATE_IN_PROGRESS", updated=datetime(2026, 2, 1, tzinfo=UTC)),
    )

    found = [str(m) for m in moved("app", saved, current)]

    assert found == [
        "app: desired template changed since the plan was made",
        "app: desired parameters changed since the plan was made",
        "app: deployed status moved (UPDATE_COMPLETE → UPDATE_IN_PROGRESS)",
        "app: deployed last update moved (2026-01-01T00:00:00+00:00 → 2026-02-01T00:00:00+00:00)",
    ]


def test_deployed_template_or_parameters_changed() -> None:
    saved = deployed_fingerprint(deployed())
    other = deployed_fingerprint(deployed(parameters={"Pw": "****", "X": "1"}, template={}))
    assert dataclasses.replace(saved, status="x") != saved
    assert other.template != saved.template and other.parameters != saved.parameters


def test_stack_created_or_deleted_meanwhile() -> None:
    saved = stack_fingerprint(desired(), None)
    current = stack_fingerprint(desired(), deployed())
    assert [str(m) for m in moved("app", saved, current)] == [
        "app: deployed stack moved (does not exist → exists)"
    ]


def test_moved_in_plan_covers_selection() -> None:
    fp = stack_fingerprint(desired(), deployed())
    plan = Plan.create([], now=WHEN, fingerprints={"app": fp, "gone": fp})
    restored = Plan.from_json(plan.to_json())

    found = moved_in_plan(restored, {"app": fp, "extra": fp})

    assert [(m.stack, m.what) for m in found] == [
        ("extra", "stack selection"),
        ("gone", "stack selection"),
    ]
