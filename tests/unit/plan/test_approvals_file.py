"""Signed approvals: what verifies, and every way a stale or forged approval is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from stackyard.engine.approval import ApprovalPolicy, By, Decision, settle
from stackyard.errors import StackyardError
from stackyard.plan.approvals_file import (
    ApprovalRefused,
    approvable_items,
    dump_approvals,
    load_approvals,
    plan_digest,
    sign,
    verified_items,
)
from stackyard.plan.model import (
    ApprovalItem,
    Plan,
    ProtectionVerdict,
    StackAction,
    StackPlan,
)

KEY = b"k" * 32
NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def plan(value: str = "a") -> Plan:
    items = (
        ApprovalItem("Queue", "protected: true", "replaces Queue", "protected", f"q|Queue|{value}"),
        ApprovalItem("Table", "protected: true", "modifies Table", "protected", "q|Table"),
    )
    stack = StackPlan("q", "ns-q", StackAction.UPDATE, protection=ProtectionVerdict(items))
    return Plan.create([stack, StackPlan("r", "ns-r", StackAction.NO_CHANGE)], now=NOW)


def test_a_valid_approval_verifies_and_approves_its_items() -> None:
    saved = plan()
    approval = sign(saved, approvable_items(saved), by="ana", key=KEY, now=NOW)
    loaded = load_approvals(dump_approvals([approval]))
    assert verified_items(saved, loaded, key=KEY) == {"q|Queue|a", "q|Table"}
    decided = settle(saved, ApprovalPolicy(signed_items=frozenset({"q|Queue|a", "q|Table"})))
    assert decided.outcomes["q"].decision is Decision.APPROVED
    assert decided.outcomes["q"].by is By.SIGNED


def test_signed_approvals_replace_the_plan_file_as_approval() -> None:
    saved = plan()
    # Only part approved: the stack is held, though the reviewed plan shows every item.
    partial = ApprovalPolicy(reviewed=saved, signed_items=frozenset({"q|Table"}))
    assert settle(saved, partial).outcomes["q"].decision is Decision.HELD
    none = ApprovalPolicy(reviewed=saved, signed_items=frozenset())
    assert settle(saved, none).outcomes["q"].decision is Decision.HELD


@pytest.mark.parametrize("field", ["items", "by", "at", "plan_digest", "signature"])
def test_a_tampered_approval_is_refused(field: str) -> None:
    saved = plan()
    approval = sign(saved, ["q|Table"], by="ana", key=KEY, now=NOW)
    data = json.loads(dump_approvals([approval]))
    edits = {
        "items": ["q|Queue|a", "q|Table"],
        "by": "eve",
        "at": "2030-01-01T00:00:00+00:00",
        "plan_digest": plan_digest(plan("b")),
        "signature": "0" * 64,
    }
    data["approvals"][0][field] = edits[field]
    with pytest.raises(ApprovalRefused, match="signature does not verify"):
        verified_items(saved, load_approvals(json.dumps(data)), key=KEY)


def test_a_tampered_plan_and_another_plans_approval_are_refused() -> None:
    saved = plan()
    approval = sign(saved, approvable_items(saved), by="ana", key=KEY, now=NOW)
    edited = replace(saved, created_at="2026-05-06T07:08:10+00:00")
    with pytest.raises(ApprovalRefused, match="approves another plan"):
        verified_items(edited, [approval], key=KEY)
    other = plan("b")
    with pytest.raises(ApprovalRefused, match="approves another plan"):
        verified_items(other, [approval], key=KEY)


def test_a_key_that_is_not_the_signers_is_refused() -> None:
    saved = plan()
    approval = sign(saved, ["q|Table"], by="ana", key=KEY, now=NOW)
    with pytest.raises(ApprovalRefused, match="signature does not verify"):
        verified_items(saved, [approval], key=b"x" * 32)


def test_only_items_of_the_plan_can_be_approved_and_files_must_be_ours() -> None:
    with pytest.raises(StackyardError, match="not an approval item of this plan: nope"):
        sign(plan(), ["nope"], by="ana", key=KEY, now=NOW)
    with pytest.raises(ApprovalRefused, match="malformed approvals file"):
        load_approvals('{"format": "stackyard-plan"}')
