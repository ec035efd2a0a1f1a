"""``report PLANFILE`` (and ``plan --report``): a saved plan as HTML or Markdown for review.

The HTML page is self-contained (it works offline); the Markdown fits one GitHub
pull-request comment. Both render the saved plan only, which is masked already.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from stackyard.plan.model import Plan

__all__ = ["FORMATS", "beside", "render_report", "report"]

FORMATS = ("html", "markdown")
_SUFFIXES = {"html": ".html", "markdown": ".md"}


def render_report(plan: Plan, fmt: str) -> str:
    """``plan`` rendered as ``fmt`` (``html`` or ``markdown``)."""
    if fmt == "html":
        from stackyard.ui.report_html import render_html

        return render_html(plan)
    from stackyard.ui.report_markdown import render_markdown

    return render_markdown(plan)


def beside(planfile: str, fmt: str) -> Path:
    """Where a report of ``planfile`` goes by default: next to it (``stage.plan.html``)."""
    path = Path(planfile)
    return path.with_name(path.name + _SUFFIXES[fmt])


@click.command()
@click.argument("planfile", metavar="PLANFILE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="html",
    show_default=True,
    help="A self-contained HTML page, or Markdown for a pull-request comment.",
)
@click.option(
    "-o",
    "--out",
    metavar="FILE",
    help="Where to write it (`-` for standard output); default: beside PLANFILE "
    "(PLANFILE.html or PLANFILE.md).",
)
def report(planfile: str, fmt: str, out: str | None) -> None:
    """Render a saved plan for review: HTML (offline) or GitHub Markdown."""
    from stackyard.cli.plan import read_plan

    text = render_report(read_plan(planfile), fmt)
    if out == "-":
        click.echo(text, nl=False)
        return
    target = Path(out) if out else beside(planfile, fmt)
    target.write_text(text, encoding="utf-8")
    click.echo(f"{fmt} report written to {target}", err=True)
