"""The live view: a header with n/N done and failures, resources done/total per stack, and
the rows that do not fit summarised."""

from __future__ import annotations

import io
from datetime import datetime

from rich.console import Console

from stackyard.aws.cloudformation import StackEvent
from stackyard.engine.status import Failure, Phase, StackState
from stackyard.ui.progress import ProgressView


def event(stack: str, logical_id: str, status: str) -> StackEvent:
    return StackEvent("id", stack, logical_id, "AWS::SNS::Topic", status, "", datetime(2026, 1, 1))


def shown(view: ProgressView) -> str:
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(view.table())
    return out.getvalue()


def view(height: int = 40) -> ProgressView:
    console = Console(file=io.StringIO(), width=160, height=height, color_system=None)
    return ProgressView(console, clock=lambda: 10.0, live=False)


def test_header_counts_done_and_failed_stacks() -> None:
    v = view()
    v.stack_changed(StackState("a", "t-a", Phase.COMPLETE, started=1.0, finished=2.0))
    v.stack_changed(
        StackState("b", "t-b", Phase.FAILED, failure=Failure("boom"), started=1.0, finished=3.0)
    )
    v.stack_changed(StackState("c", "t-c", Phase.CREATING, started=1.0))
    assert "2/3 stacks done, 1 failed" in shown(v)


def test_resources_done_out_of_the_planned_total_and_the_one_in_progress() -> None:
    v = view()
    v.expect({"a": 3})
    creating = StackState("a", "t-a", Phase.CREATING, started=1.0)
    for logical_id, status in (
        ("Q", "CREATE_IN_PROGRESS"),
        ("Q", "CREATE_COMPLETE"),
        ("T", "CREATE_IN_PROGRESS"),
    ):
        v.stack_changed(
            creating.moved(Phase.CREATING, latest_event=event("t-a", logical_id, status))
        )
    row = next(line for line in shown(v).splitlines() if line.startswith("a "))
    assert "1/3" in row and row.rstrip().endswith("T")


def test_rows_that_do_not_fit_are_summarised() -> None:
    v = view(height=20)
    for index in range(30):
        v.stack_changed(
            StackState(f"s{index}", f"t-s{index}", Phase.COMPLETE, started=0.0, finished=1.0)
        )
    v.stack_changed(StackState("busy", "t-busy", Phase.UPDATING, started=1.0))
    text = shown(v)
    assert "30/31 stacks done" in text
    assert "busy" in text  # the active stack keeps its row
    assert "+14 complete" in text
    assert len(text.splitlines()) <= 20
