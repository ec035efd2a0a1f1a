"""Plan reports: Markdown snapshots (one per kind of change, and all kinds in one plan),
the comment limit, masking and escaping, and the HTML page in headless Chromium.

Regenerate the Markdown snapshots and the screenshot under docs/ after a deliberate change:

    STACKYARD_UPDATE_SNAPSHOTS=1 pytest tests/unit/ui/test_report.py
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from browser import chromium, run_headless
from test_diff_render import CASES, NOW, SECRETS, build, secret_plan

from stackyard.plan.model import Plan, StackAction, StackPlan
from stackyard.ui.report_html import render_html
from stackyard.ui.report_markdown import GITHUB_COMMENT_LIMIT, render_markdown

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"
DOCS = HERE.parents[2] / "docs"
UPDATE = os.environ.get("STACKYARD_UPDATE_SNAPSHOTS") == "1"


def every_kind() -> Plan:
    """One plan with a stack of every case: create, update (with replacements, IAM and
    security group changes, approvals), delete, no change, locked."""
    return Plan.create([build(c) for c in CASES], now=NOW)


def _check_snapshot(name: str, text: str) -> None:
    snapshot = SNAPSHOTS / name
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {name}; run with STACKYARD_UPDATE_SNAPSHOTS=1"
    assert text == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_markdown_snapshot(case: str) -> None:
    _check_snapshot(f"{case}.md", render_markdown(Plan.create([build(case)], now=NOW)))


def test_markdown_snapshot_of_every_kind_of_change() -> None:
    text = render_markdown(every_kind())
    _check_snapshot("every_kind.md", text)
    assert "| ± | mixed |" not in text  # the stack is updated; its resources are replaced
    assert "| ~ | mixed | update | +1 ~4 -1 ±1 | 3 |" in text
    assert "### Needs approval" in text and "### IAM and security changes" in text
    assert "forced by Properties.QueueName" in text
    assert "<details><summary><b>dev-deleted: delete" in text
    assert "Truncated" not in text


def test_markdown_stays_under_the_comment_limit_and_says_what_it_left_out() -> None:
    big = build("mixed")
    stacks = [
        StackPlan(**{**big.__dict__, "name": f"s{i:03}", "fqn": f"dev-s{i:03}"}) for i in range(120)
    ]
    text = render_markdown(Plan.create(stacks, now=NOW))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    note = re.search(r"> \*\*Truncated:\*\* .*the details of (\d+) stack\(s\)", text)
    assert note is not None
    shown = text.count("<details>")
    assert shown + int(note.group(1)) == 120 and shown > 10
    assert "| s119 |" in text  # every stack stays in the summary table
    assert "row(s) of what needs approval" in text


def test_reports_mask_secrets_and_escape_markup() -> None:
    plan = secret_plan()
    for text in (render_markdown(plan), render_html(plan)):
        for secret in (*SECRETS, "old-token-value"):
            assert secret not in text
        assert "****" in text
    hostile = StackPlan("x", "dev-x", StackAction.CREATE, reason="<script>alert(1)</script>|")
    plan = Plan.create([hostile], now=NOW)
    for text in (render_markdown(plan), render_html(plan)):
        assert "<script>" not in text and "&lt;script&gt;" in text


def test_html_report_in_headless_chromium(tmp_path: Path) -> None:
    binary = chromium()
    text = render_html(every_kind())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing to fetch
    page = tmp_path / "plan.html"
    page.write_text(text, encoding="utf-8")

    dom = run_headless(binary, page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    shown = re.sub(r"<[^>]+>", "", dom.stdout)
    assert "replaced by a new physical resource" in shown
    assert "forced by Properties.QueueName" in shown
    assert "IAM and security changes" in shown and "s3:PutObject" in shown
    assert "Needs approval" in shown and "destructive &amp; stateful" in shown
    assert re.search(r'<details id="stack-mixed" open="">', dom.stdout)

    shot = tmp_path / "plan.png"
    taken = run_headless(
        binary, page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2200"
    )
    assert taken.returncode == 0 and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    if UPDATE:
        shutil.copy(shot, DOCS / "images" / "plan-report.png")
