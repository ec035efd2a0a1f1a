"""Rendering of plans: snapshot tests (fixture in, expected text out) and masking.

Each ``fixtures/<case>.json`` describes a deployed and a desired stack; the rendered plan
must equal ``snapshots/<case>.txt``. Regenerate the snapshots after a deliberate change:

    STACKYARD_UPDATE_SNAPSHOTS=1 pytest tests/unit/ui/test_diff_render.py

and review the diff of the ``.txt`` files before committing them.
"""

from __future__ import annotations

import io
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from stackyard.aws.cloudformation import DeployedStack
from stackyard.desired import DesiredStack
from stackyard.lookups.secret import Secret
from stackyard.plan.diff import diff_stack
from stackyard.plan.model import Plan, StackPlan
from stackyard.ui.diff import format_value, render_approval, render_plan, summary_line
from stackyard.unknown import Unknown

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
UPDATE = os.environ.get("STACKYARD_UPDATE_SNAPSHOTS") == "1"
NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))


def build(case: str) -> StackPlan:
    spec: dict[str, Any] = json.loads((FIXTURES / f"{case}.json").read_text())
    desired = None
    if "after" in spec:
        params: dict[str, Any] = dict(spec.get("params_after", {}))
        params.update({k: Unknown(v) for k, v in spec.get("unknown", {}).items()})
        desired = DesiredStack(
            name=case,
            fqn=f"dev-{case}",
            region=None,
            profile=None,
            template_body=json.dumps(spec["after"]),
            parameters=params,
            declared_parameters=frozenset(spec["after"].get("Parameters", {})),
            no_echo=frozenset(spec.get("no_echo", ())),
            tags=spec.get("tags_after", {}),
            locked=spec.get("locked", False),
            protected=spec.get("protected", False),
        )
    deployed = None
    if "before" in spec:
        deployed = DeployedStack(
            name=f"dev-{case}",
            stack_id=f"dev-{case}",
            status="UPDATE_COMPLETE",
            template=spec["before"],
            parameters=spec.get("params_before", {}),
            tags=spec.get("tags_before", {}),
            outputs=spec.get("outputs_before", {}),
            termination_protection=spec.get("termination_protection", False),
            updated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    return diff_stack(desired, deployed, protected=spec.get("protected"))


def plain(width: int = 120) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=width, force_terminal=False, color_system=None), out


@pytest.mark.parametrize("case", CASES)
def test_snapshot(case: str) -> None:
    console, out = plain()
    render_plan(Plan.create([build(case)], now=NOW), console)
    text = "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
    snapshot = SNAPSHOTS / f"{case}.txt"
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot for {case}; run with STACKYARD_UPDATE_SNAPSHOTS=1"
    assert text == snapshot.read_text(encoding="utf-8")


def test_cases_exist() -> None:
    assert {"mixed", "new_stack", "deleted", "unchanged", "locked"} <= set(CASES)


def test_mixed_plan_shows_what_matters() -> None:
    console, out = plain()
    render_plan(Plan.create([build("mixed")], now=NOW), console)
    text = out.getvalue()

    assert "DESTRUCTIVE CHANGES" in text
    assert "± Queue" in text and "forced by Properties.QueueName" in text
    assert 'Properties.KeySchema[0].AttributeName: "id" → "pk"' in text
    assert "(may force replacement)" in text
    assert 'Properties.DisplayName: "dev" → "prod"' in text  # through Ref
    assert "parameter Env changed" in text
    assert "IAM statement changes" in text and "s3:PutObject" in text
    assert "Security group changes" in text and "open to the world" in text
    assert re.search(r"^-\s+Old\s+AWS::Logs::LogGroup\s+remove", text, re.M)
    assert re.search(r"^\+\s+New\s+AWS::SNS::Topic\s+add", text, re.M)
    assert re.search(r"^±\s+Queue\s+AWS::SQS::Queue\s+replace\s+True", text, re.M)
    assert "tag team: a → b" in text


def test_plain_when_not_a_terminal_and_coloured_on_one() -> None:
    plan = Plan.create([build("mixed")], now=NOW)
    console, out = plain()
    render_plan(plan, console)
    assert "\x1b[" not in out.getvalue()

    coloured = io.StringIO()
    render_plan(
        plan, Console(file=coloured, width=120, force_terminal=True, color_system="standard")
    )
    assert "\x1b[1;31m" in coloured.getvalue()  # bold red: replacements and removals


SECRETS = ("s3cr3t-Passw0rd", "ssm-secure-value-123", "kms-plaintext-456")


def secret_plan() -> Plan:
    body = {
        "Parameters": {
            "Password": {"Type": "String", "NoEcho": True},
            "Token": {"Type": "String"},
        },
        "Resources": {
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"MasterUserPassword": {"Ref": "Password"}},
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Environment": {"Variables": {"TOKEN": {"Ref": "Token"}, "KEY": SECRETS[2]}}
                },
            },
        },
        "Outputs": {"Key": {"Value": f"prefix-{SECRETS[2]}"}},
    }
    before = json.loads(json.dumps(body).replace(SECRETS[2], "old-kms-plaintext"))
    desired = DesiredStack(
        name="app",
        fqn="dev-app",
        region=None,
        profile=None,
        template_body=json.dumps(body),
        parameters={"Password": SECRETS[0], "Token": Secret(SECRETS[1])},
        declared_parameters=frozenset({"Password", "Token"}),
        no_echo=frozenset({"Password"}),
        tags={"owner": Secret(SECRETS[1])},
    )
    deployed = DeployedStack(
        name="dev-app",
        stack_id="dev-app",
        status="UPDATE_COMPLETE",
        template=before,
        parameters={"Password": "****", "Token": "old-token-value"},
    )
    created = diff_stack(desired, None, secrets=[Secret(SECRETS[2])])
    updated = diff_stack(desired, deployed, secrets=[Secret(SECRETS[2])])
    return Plan.create([created, updated], now=NOW)


def test_secrets_are_masked_in_every_form() -> None:
    plan = secret_plan()
    console, out = plain()
    render_plan(plan, console)
    for stack in plan.stacks:
        render_approval(stack, console)
        console.print(summary_line(stack))
    forms = {"rendered": out.getvalue(), "json": plan.to_json(), "repr": repr(plan)}

    for form, text in forms.items():
        for secret in (*SECRETS, "old-token-value"):
            assert secret not in text, f"{secret!r} leaked in {form}"
        assert "****" in text, form


def test_format_value() -> None:
    assert format_value(None) == "(absent)"
    assert format_value("****") == "****"
    assert format_value(Secret("x-secret")) == "****"
    assert format_value({"b": 1, "a": [1]}) == '{"a": [1], "b": 1}'
    assert format_value("x" * 500, limit=10).endswith("…")


def test_approval_view_shows_only_protected_changes() -> None:
    stack = build("mixed")
    console, out = plain()
    render_approval(stack, console)
    text = out.getvalue()

    assert "needs approval" in text
    assert "Table" in text  # destructive & stateful, by the project default
    assert "Web" not in text.split("needs approval", 1)[1]


def test_a_no_change_stack_says_what_it_could_not_compare() -> None:
    from dataclasses import replace

    from stackyard.plan.model import StackAction

    same = StackPlan("db", "dev-db", StackAction.NO_CHANGE, "no changes")
    hinted = replace(same, name="adopted", fqn="dev-adopted", hint="Password cannot be compared")
    console, out = plain()
    render_plan(Plan.create([same, hinted], now=NOW), console)
    text = out.getvalue()
    assert "hint: Password cannot be compared" in text
    assert text.index("adopted") < text.index("hint: Password") and text.count("hint:") == 1
