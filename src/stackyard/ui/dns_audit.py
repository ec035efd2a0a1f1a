"""``audit dns``: the zones audited, then each finding with its risk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackyard.audit.dns import DnsAudit

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_dns_audit"]


def render_dns_audit(console: Console, audit: DnsAudit) -> None:
    """A table of findings (or a line saying there are none), then any notes."""
    from rich.table import Table

    zones = ", ".join(f"{name} ({zone_id})" for zone_id, name in audit.zones) or "none"
    console.print(f"zones audited: {zones}", highlight=False, markup=False)
    if audit.findings:
        table = Table(box=None, pad_edge=False)
        for column in ("finding", "record", "type", "target", "stack", "risk"):
            table.add_column(column, overflow="fold")
        for f in audit.findings:
            style = "bold red" if f.kind == "dangling" else "yellow"
            table.add_row(f"[{style}]{f.kind}[/]", f.name, f.type, f.target, f.stack, f.risk)
        console.print(table)
        console.print(f"{len(audit.findings)} finding(s)", highlight=False)
    else:
        console.print("no unmanaged or dangling records")
    for note in audit.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
