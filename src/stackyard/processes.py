"""Whether a process is still alive, for the local endpoint's pid file and the change-set
journal (a note of a dead run is acted on, a live run's is left alone)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["pid_alive"]


def pid_alive(pid: int) -> bool:
    """True while ``pid`` runs: not gone, and not a zombie waiting to be reaped."""
    with contextlib.suppress(ChildProcessError, OSError):
        # Reap it if it is our own child that exited (a zombie still answers kill 0).
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited process whose parent has not reaped it yet is a zombie; it is gone for us.
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True
