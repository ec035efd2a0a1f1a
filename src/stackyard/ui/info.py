"""The ``info`` table: one row per stack, outputs underneath."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from stackyard.plan.status import StackInfo

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_info"]

_DRIFT_STYLES = {
    "in sync": "green",
    "changes pending": "yellow",
    "missing": "red",
    "unknown": "magenta",
}

_DRIFT_CHECK_STYLES = {"IN_SYNC": "green", "DRIFTED": "bold red"}


def render_info(console: Console, infos: Sequence[StackInfo], *, verbose: int = 0) -> None:
    """Print a table of stacks, then each stack's outputs."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("stack", "stack name", "status", "drift", "last change", "last drift check"):
        table.add_column(column, no_wrap=column != "drift")
    for info in infos:
        drift = Text(info.drift, style=_DRIFT_STYLES.get(info.drift, ""))
        if info.detail and (verbose or info.drift == "unknown" or info.locked_delta):
            drift.append(f" ({info.detail})", style="dim")
        changed = info.last_change.strftime("%Y-%m-%d %H:%M") if info.last_change else ""
        checked = ""
        if info.last_drift_checked is not None:
            checked = info.last_drift_checked.strftime("%Y-%m-%d %H:%M")
        last = Text(info.last_drift, style=_DRIFT_CHECK_STYLES.get(info.last_drift, "dim"))
        if checked:
            last.append(f" {checked}", style="dim")
        table.add_row(info.name, info.fqn, info.status, drift, changed, last)
    console.print(table)
    for info in infos:
        if info.outputs:
            console.print(f"[bold]{info.name}[/] outputs:", highlight=False)
            for key, value in sorted(info.outputs.items()):
                console.print(f"  {key} = {value}", highlight=False, soft_wrap=True)
