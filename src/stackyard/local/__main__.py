"""``python -m stackyard.local serve|up|down|status``, without the main CLI."""

from __future__ import annotations

from stackyard.local.cli import local

if __name__ == "__main__":
    local(prog_name="stackyard local")
