"""``stackyard drift``: each stack's verdict, then every drifted resource's differences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stackyard.aws.drift import PropertyDrift, StackDrift
from stackyard.ui.diff import format_value

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["difference_text", "render_drift"]

_STYLES = {"IN_SYNC": "green", "DRIFTED": "bold red", "UNKNOWN": "magenta"}


def difference_text(difference: PropertyDrift) -> str:
    """``/Value: "a" → "b"``; a rule added or removed outside the stack shows one side."""
    if difference.kind == "ADD":
        return f"+ {difference.path}: {format_value(difference.actual)} (added outside the stack)"
    if difference.kind == "REMOVE":
        return (
            f"- {difference.path}: {format_value(difference.expected)} (removed outside the stack)"
        )
    return (
        f"~ {difference.path}: {format_value(difference.expected)} → "
        f"{format_value(difference.actual)}"
    )


def render_drift(console: Console, drifts: Sequence[StackDrift]) -> None:
    """A table of stacks and verdicts, then the differences (expected → actual)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("stack", "stack name", "drift", "resources drifted"):
        table.add_column(column)
    for drift in drifts:
        verdict = Text(drift.status, style=_STYLES.get(drift.status, "dim"))
        if drift.reason:
            verdict.append(f" ({drift.reason})", style="dim")
        count = str(len(drift.resources)) if drift.drifted else ""
        table.add_row(drift.name, drift.fqn, verdict, count)
    console.print(table)
    for drift in drifts:
        if not drift.resources:
            continue
        console.print()
        console.print(f"[bold]{drift.name}[/] ({drift.fqn}): drifted", highlight=False)
        for resource in drift.resources:
            console.print(
                f"  {resource.logical_id} ({resource.resource_type}) {resource.physical_id}: "
                f"{resource.status}",
                highlight=False,
                markup=False,
            )
            for difference in resource.differences:
                console.print(f"    {difference_text(difference)}", highlight=False, markup=False)
    drifted = sum(1 for d in drifts if d.drifted)
    console.print()
    console.print(
        f"{drifted} of {len(drifts)} stack(s) drifted" if drifted else "no drift", highlight=False
    )
