"""stackyard's own folder on this machine: ``$STACKYARD_HOME``, or ``~/.stackyard``.

It holds the apps database, the local endpoint's pid file and log, and caches that are
only ever a shortcut (deleting ``cache/`` loses nothing but time).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "state_home"]


def state_home() -> Path:
    """``$STACKYARD_HOME`` (``~`` expanded), or ``~/.stackyard``."""
    home = os.environ.get("STACKYARD_HOME")
    return Path(home).expanduser() if home else Path.home() / ".stackyard"


def cache_dir(name: str) -> Path:
    """The cache called ``name``: ``<state home>/cache/<name>``."""
    return state_home() / "cache" / name
