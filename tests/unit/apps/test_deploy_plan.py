"""An app deploy's saved plan: its JSON round trip, what a signature covers, and how a
release that moved is named (keys and processes, never config values)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from stackyard.apps.deploy_plan import DeployPlan, PlannedRelease, release_moved
from stackyard.errors import StackyardError
from stackyard.plan.approvals_file import approvable_items, plan_digest, sign, verified_items
from stackyard.plan.model import ApprovalItem, Plan, ProtectionVerdict, StackAction, StackPlan

NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
KEY = b"k" * 32


def release(**changes: object) -> PlannedRelease:
    base = PlannedRelease(
        app="shop",
        environment="prod",
        version=4,
        replaces=3,
        requested_image="repo:v4",
        image="repo@sha256:" + "a" * 64,
        manifest={"processes": {"web": {"command": "bin/web"}}},
        config={"MODE": "live", "DB_URL": "secret:/shop/db-url"},
        formation={"web": {"count": 2, "cpu": None, "memory": None}},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def deploy_plan(**changes: object) -> DeployPlan:
    item = ApprovalItem("stack", "protected: true", "updates", "protected", "app-shop-prod|x")
    stack = StackPlan(
        "app-shop-prod",
        "ns-app-shop-prod",
        StackAction.UPDATE,
        protection=ProtectionVerdict((item,)),
    )
    return DeployPlan(release(**changes), Plan.create([stack], now=NOW), NOW.isoformat(), "eu-1")


def test_the_json_form_reads_back_the_same() -> None:
    saved = deploy_plan()
    again = DeployPlan.from_json(saved.to_json())
    assert again == saved
    assert json.loads(saved.to_json())["format"] == "stackyard-apps-plan"
    assert "secret:/shop/db-url" in saved.to_json()  # a reference, as releases store it


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "not a stackyard apps plan (not JSON"),
        ("[]", "not a stackyard apps plan"),
        ('{"format": "stackyard-plan", "version": 2}', "not a stackyard apps plan"),
        ('{"format": "stackyard-apps-plan", "version": 9}', "version 9 is not supported"),
        ('{"format": "stackyard-apps-plan", "version": 1}', "malformed apps plan"),
    ],
)
def test_anything_else_is_refused(text: str, expected: str) -> None:
    with pytest.raises(StackyardError, match=re.escape(expected)) as caught:
        DeployPlan.from_json(text)
    assert caught.value.exit_code == 2


def test_a_signature_covers_the_release_as_well_as_the_stack_plan() -> None:
    saved = deploy_plan()
    assert approvable_items(saved) == ("app-shop-prod|x",)
    approval = sign(saved, approvable_items(saved), by="ana", key=KEY, now=NOW)
    assert verified_items(saved, [approval], key=KEY) == {"app-shop-prod|x"}
    other = deploy_plan(image="repo@sha256:" + "b" * 64)
    assert plan_digest(other) != plan_digest(saved)
    with pytest.raises(StackyardError, match="approves another plan"):
        verified_items(other, [approval], key=KEY)


def test_the_same_release_has_not_moved() -> None:
    assert release_moved(release(), release()) == []


def test_each_change_of_a_release_is_named_without_its_value() -> None:
    now = release(
        version=6,
        replaces=5,
        image="repo@sha256:" + "c" * 64,
        manifest={"processes": {"web": {"command": "bin/web2"}}},
        config={"MODE": "test", "NEW": "x", "DB_URL": "secret:/shop/db-url"},
        formation={"web": {"count": 3, "cpu": None, "memory": None}},
    )
    moved = release_moved(release(), now)
    assert moved == [
        "the current release moved: planned to replace v3, now v5 runs",
        "another release was made since the plan: planned v4, the next is now v6",
        f"image: repo:v4 was planned as repo@sha256:{'a' * 64}, is now repo@sha256:{'c' * 64}",
        "the app's manifest changed (processes web)",
        "config MODE: changed since the plan",
        "config NEW: set since the plan",
        "formation web: planned count 2, now count 3",
    ]
    assert not any("live" in line or "test" in line for line in moved[3:])


def test_an_unset_key_and_a_first_release_are_named() -> None:
    saved = release(replaces=None, config={"OLD": "1"})
    moved = release_moved(saved, release(replaces=2, config={}))
    assert moved[0] == "the current release moved: planned to replace none, now v2 runs"
    assert "config OLD: unset since the plan" in moved
