"""The live table of a run: a header with the count of stacks done, one row per stack.

Each row shows the stack's status, elapsed time, resources done out of the total the plan
expects (or out of those seen so far), and the resource in progress. When there are more
stacks than lines, the active and failed stacks keep their rows and the rest are
summarised (``+12 complete, +3 waiting``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stackyard.engine.status import Phase, StackState

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["ResourceTally", "render_table"]

_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "DELETE_SKIPPED")
# Lines the table needs besides its rows: the header, the column titles, the summary.
_CHROME = 3


@dataclass
class ResourceTally:
    """What the events of one stack said about its resources, latest status per resource."""

    statuses: dict[str, str] = field(default_factory=dict)
    in_progress: str = ""

    def record(self, logical_id: str, status: str) -> None:
        """Keep the latest status of ``logical_id``."""
        self.statuses[logical_id] = status
        if status.endswith("IN_PROGRESS"):
            self.in_progress = logical_id
        elif self.in_progress == logical_id:
            self.in_progress = next(
                (r for r, s in self.statuses.items() if s.endswith("IN_PROGRESS")), ""
            )

    @property
    def done(self) -> int:
        """Resources whose latest status is a completion."""
        return sum(1 for s in self.statuses.values() if s in _DONE)


def _count(tally: ResourceTally | None, expected: int | None) -> str:
    done = tally.done if tally else 0
    total = expected if expected is not None else (len(tally.statuses) if tally else 0)
    return f"{done}/{max(total, done)}" if total or done else ""


def render_table(
    states: Sequence[StackState],
    tallies: Mapping[str, ResourceTally],
    expected: Mapping[str, int],
    *,
    now: float,
    height: int,
    styles: Mapping[Phase, str],
    elapsed: Callable[[float | None], str],
) -> RenderableType:
    """The header and table for ``states``, fitted to ``height`` lines."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    finished = [s for s in states if s.phase.terminal]
    failed = sum(1 for s in states if s.phase is Phase.FAILED)
    header = Text(f"{len(finished)}/{len(states)} stacks done", style="bold")
    if failed:
        header.append(f", {failed} failed", style="bold red")
    shown, hidden = _fit(states, max(height - _CHROME, 1))
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("stack", no_wrap=True)
    table.add_column("status")
    table.add_column("elapsed", justify="right", no_wrap=True)
    table.add_column("resources", justify="right", no_wrap=True)
    table.add_column("in progress", overflow="ellipsis", no_wrap=True, max_width=60)
    for state in shown:
        tally = tallies.get(state.name)
        active = "" if state.phase.terminal or tally is None else tally.in_progress
        table.add_row(
            state.name,
            Text(state.label, style=styles.get(state.phase, "")),
            elapsed(state.elapsed(now)),
            _count(tally, expected.get(state.name)),
            active,
        )
    parts: list[RenderableType] = [header, table]
    if hidden:
        counts = Counter(str(s.phase) for s in hidden)
        parts.append(Text(", ".join(f"+{n} {phase}" for phase, n in counts.most_common())))
    return Group(*parts)


def _fit(states: Sequence[StackState], rows: int) -> tuple[list[StackState], list[StackState]]:
    """The rows to show (failed and active first, in order) and those to summarise."""
    if len(states) <= rows:
        return list(states), []
    keep = {id(s) for s in sorted(states, key=_rank)[:rows]}
    return [s for s in states if id(s) in keep], [s for s in states if id(s) not in keep]


def _rank(state: StackState) -> int:
    if state.phase is Phase.FAILED:
        return 0
    if state.phase in (Phase.PENDING, Phase.WAITING):
        return 2
    return 3 if state.phase.terminal else 1
