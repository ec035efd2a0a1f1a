"""The console every command prints through, and how wide it is.

On a terminal, rich uses the terminal's width. Without one (CI logs, pipes, files), nothing
is hard-wrapped or cut: tables are as wide as their content and sentences stay on one line,
so a 120-character IAM action or an AMI id survives ``| grep``. ``COLUMNS`` still sets a
width when given. Colour follows rich: off without a terminal, and off wherever
``NO_COLOR`` is set (``--no-color`` sets it for the run).
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = ["UNBOUNDED", "heading", "make_console", "unbounded_width"]

#: The width used without a terminal: wider than any line stackyard prints.
UNBOUNDED = 10_000


def unbounded_width(file: IO[str] | None = None) -> int | None:
    """The width to force, or None to let rich use the terminal (or ``COLUMNS``)."""
    stream = file if file is not None else sys.stdout
    if os.environ.get("COLUMNS"):
        return None
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else UNBOUNDED


def make_console(file: IO[str] | None = None) -> Console:
    """A console on ``file`` (stdout) that never wraps or truncates without a terminal."""
    from rich.console import Console

    return Console(file=file, highlight=False, width=unbounded_width(file))


def heading(console: Console, title: Text) -> None:
    """A titled rule across the terminal; without one, the title and a short rule."""
    if console.width >= UNBOUNDED:
        line = title.copy()
        line.append(" " + "─" * 40)
        console.print(line)
    else:
        console.rule(title, align="left")
