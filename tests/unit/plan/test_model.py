"""The plan as data: immutable, JSON round trip, versioned, secrets masked."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from stackyard.errors import StackyardError
from stackyard.lookups.secret import Secret
from stackyard.plan.model import (
    FORMAT,
    VERSION,
    ApprovalItem,
    ChangeAction,
    DeployedFingerprint,
    DesiredFingerprint,
    Disagreement,
    LockedDelta,
    OutputChange,
    ParameterChange,
    Plan,
    PropertyDiff,
    ProtectionVerdict,
    Replacement,
    ResourceChange,
    Risk,
    RiskKind,
    SecurityChange,
    SettingChange,
    StackAction,
    StackFingerprint,
    StackPlan,
    TagChange,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def full_plan() -> Plan:
    stack = StackPlan(
        name="app",
        fqn="dev-app",
        action=StackAction.UPDATE,
        reason="changed",
        parameters=(ParameterChange("Pw", ChangeAction.MODIFY, "****", "****", masked=True),),
        tags=(TagChange("team", ChangeAction.ADD, None, "a"),),
        settings=(SettingChange("notification ARNs", [], ["arn:x"]),),
        resources=(
            ResourceChange(
                "Q",
                "AWS::SQS::Queue",
                ChangeAction.REPLACE,
                replacement=Replacement.TRUE,
                diffs=(
                    PropertyDiff(
                        "Properties.QueueName",
                        ChangeAction.MODIFY,
                        "a",
                        {"k": [1, 2]},
                        replacement=Replacement.TRUE,
                    ),
                ),
                risks=(Risk(RiskKind.DESTRUCTIVE, "replaced", True),),
                replaced_by=("Properties.QueueName",),
                security=(
                    SecurityChange("statement", "+", "Q", actions=("s3:*",), broadening=True),
                ),
                reasons=("parameter X changed",),
            ),
        ),
        outputs=(OutputChange("Url", ChangeAction.MODIFY, "u1", "(known after apply)", True),),
        protection=ProtectionVerdict(
            items=(ApprovalItem("Q", "replace", "replaces Q"),), rules=("replace",)
        ),
        locked_delta=LockedDelta(3, (("destructive", 1), ("routine", 2)), "2026-01-01"),
        disagreements=(Disagreement("Q", "replacement", "False", "True"),),
        hint="a hint",
    )
    fingerprints = {
        "app": StackFingerprint(
            "dev-app",
            DesiredFingerprint("t1", "p1"),
            DeployedFingerprint("UPDATE_COMPLETE", "2026-01-01T00:00:00", "t0", "p0"),
        ),
        "new": StackFingerprint("dev-new", DesiredFingerprint("t2", "p2"), None),
    }
    return Plan.create([stack], now=NOW, fingerprints=fingerprints)


def test_json_round_trip_is_exact() -> None:
    plan = full_plan()
    text = plan.to_json()

    assert Plan.from_json(text) == plan
    assert Plan.from_json(text).to_json() == text


def test_json_is_versioned_and_stable() -> None:
    data = json.loads(full_plan().to_json())

    assert data["format"] == FORMAT and data["version"] == VERSION
    assert data["created_at"] == NOW.isoformat()
    assert list(data) == sorted(data)
    assert data["stacks"][0]["resources"][0]["replacement"] == "True"
    assert data["stacks"][0]["action"] == "update"


def test_plan_is_immutable() -> None:
    plan = full_plan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.stacks[0].action = StackAction.DELETE  # type: ignore[misc]


def test_secrets_are_masked_in_json_even_if_one_slipped_in() -> None:
    stack = StackPlan(
        "app",
        "dev-app",
        StackAction.UPDATE,
        tags=(TagChange("k", ChangeAction.ADD, None, Secret("s3cr3t-value")),),
    )
    text = Plan.create([stack], now=NOW).to_json()

    assert "s3cr3t-value" not in text
    assert "****" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "not a stackyard plan"),
        ('{"format": "other"}', "not a stackyard plan"),
        ('{"format": "stackyard-plan", "version": 99}', "version 99"),
        ('{"format": "stackyard-plan", "version": 2}', "malformed"),
    ],
)
def test_bad_plan_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(StackyardError, match=message) as info:
        Plan.from_json(text)
    assert info.value.exit_code == 2


def test_has_changes_and_approval() -> None:
    plan = full_plan()
    assert plan.has_changes
    assert plan.stacks[0].needs_approval
    assert plan.stack("app") is plan.stacks[0]
    assert plan.fingerprint("new") is not None
    quiet = StackPlan("b", "dev-b", StackAction.NO_CHANGE)
    assert not Plan.create([quiet], now=NOW).has_changes
    assert Plan.create([StackPlan("c", "dev-c", StackAction.CREATE)], now=NOW).has_changes
    locked = StackPlan(
        "d", "dev-d", StackAction.SKIP_LOCKED, tags=(TagChange("t", ChangeAction.ADD, None, "v"),)
    )
    assert locked.has_changes and not locked.will_change
    assert not Plan.create([locked, quiet], now=NOW).has_changes
