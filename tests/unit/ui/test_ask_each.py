"""``build -i``'s question: one stack at a time, answers from a pipe, end of input is no."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from stackyard.plan.model import (
    ChangeAction,
    ParameterChange,
    Replacement,
    ResourceChange,
    StackAction,
    StackPlan,
)
from stackyard.ui.approval import ask_each

STACK = StackPlan(
    "app",
    "dev-app",
    StackAction.UPDATE,
    parameters=(ParameterChange("Size", ChangeAction.MODIFY, "1", "2"),),
    resources=(
        ResourceChange("Kept", "AWS::SNS::Topic", ChangeAction.MODIFY),
        ResourceChange(
            "Gone", "AWS::SQS::Queue", ChangeAction.REPLACE, replacement=Replacement.TRUE
        ),
    ),
)


def _ask(monkeypatch: pytest.MonkeyPatch, answers: str, **options: bool) -> tuple[bool, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(answers))
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    return ask_each(console, **options)(STACK), out.getvalue()


def test_yes_after_viewing_the_full_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    approved, shown = _ask(monkeypatch, "v\nmaybe\ny\n")
    assert approved
    prompt = "Apply the changes to app? [y]es / [n]o / [v]iew full diff: "
    assert shown.count(prompt) == 3
    assert prompt + "v" in shown and prompt + "y" in shown  # a pipe's answers are echoed
    assert "please answer y, n or v" in shown
    assert shown.count("Kept") == 2  # the short form, then the full diff


def test_no_and_end_of_input_decline(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _ask(monkeypatch, "n\n")[0] is False
    approved, shown = _ask(monkeypatch, "")
    assert approved is False and "(no more input: no)" in shown


def test_replacements_only_shows_only_what_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    _, shown = _ask(monkeypatch, "n\n", replacements_only=True)
    assert "Gone" in shown and "Kept" not in shown and "Size" not in shown
