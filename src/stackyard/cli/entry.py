"""The ``stackyard`` console script: Ctrl-C while the CLI is still loading, or in the moment
between a command's end and the exit, exits quietly.

``stackyard.cli.main`` imports click and the command table; a Ctrl-C pressed in that
moment would otherwise end in Python's KeyboardInterrupt traceback, before ``main``
could turn it into "interrupted" and exit code 130 (and likewise once ``main`` has handled
the command's outcome but not yet exited).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Load the CLI and run it; an interrupt outside the command (loading, exiting) is exit
    code 130, as one during it is."""
    from stackyard.process_env import apply_cli_settings, defer_collection

    defer_collection()
    apply_cli_settings()
    try:
        from stackyard.cli.main import main as run

        # main() turns a Ctrl-C during the command into exit 130 itself; this catches one
        # that lands in the moment before (loading) or after it (between its end and exit).
        run()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
