"""``info --orphans``: the stacks ``--prune`` would delete, as a table or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stackyard.plan.orphans import Orphan
from stackyard.submission import PROTECTION_TAG, protection_from_tag

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["orphans_json", "protection_words", "render_orphans"]


def protection_words(orphan: Orphan) -> str:
    """Why deleting ``orphan`` needs approval, in words; ``""`` when it does not."""
    words = []
    if protection_from_tag(orphan.stack.tags.get(PROTECTION_TAG)):
        words.append("protected")
    if orphan.stack.termination_protection:
        words.append("termination protection")
    return ", ".join(words)


def orphans_json(orphans: Sequence[Orphan]) -> dict[str, Any]:
    """The orphans as JSON-ready data."""
    return {
        "orphans": [
            {
                "name": o.name,
                "stack_name": o.fqn,
                "region": o.location.region,
                "status": o.stack.status,
                "protected": bool(protection_from_tag(o.stack.tags.get(PROTECTION_TAG))),
                "termination_protection": o.stack.termination_protection,
            }
            for o in orphans
        ]
    }


def render_orphans(console: Console, orphans: Sequence[Orphan]) -> None:
    """One row per orphan; a line saying there are none otherwise."""
    from rich.table import Table

    if not orphans:
        console.print("no orphans: every stack of this namespace is in the config")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("stack", "stack name", "region", "status", "needs approval"):
        table.add_column(column)
    for orphan in orphans:
        table.add_row(
            orphan.name,
            orphan.fqn,
            orphan.location.region or "",
            orphan.stack.status,
            protection_words(orphan),
        )
    console.print(table)
    console.print(
        f"{len(orphans)} stack(s) no longer in the config; `build --prune` or "
        "`plan --prune -o PLANFILE` deletes them"
    )
