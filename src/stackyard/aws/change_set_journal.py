"""A note of every change set created and not yet executed or deleted, so a run that was
killed (SIGKILL, a lost machine) leaves no change set behind: the next run on this machine
deletes what a dead run left.

One small file per change set under ``$STACKYARD_HOME/cache/change-sets``, written before
CreateChangeSet and removed once the change set is executed or deleted. Like every cache
here it can be deleted at any time: it only costs the cleanup.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from stackyard.aws.session import Location
from stackyard.home import cache_dir
from stackyard.processes import pid_alive

__all__ = ["ChangeSetJournal", "Entry", "default_journal_dir"]


def default_journal_dir() -> Path:
    """``$STACKYARD_HOME/cache/change-sets``, or ``~/.stackyard/cache/change-sets``."""
    return cache_dir("change-sets")


@dataclass(frozen=True)
class Entry:
    """One change set a run created: where, on which stack, by which process."""

    path: Path
    name: str
    fqn: str
    location: Location
    pid: int


class ChangeSetJournal:
    """Change sets in flight, for one endpoint (None: AWS itself)."""

    def __init__(self, folder: Path, endpoint: str | None) -> None:
        self.folder = folder
        self.endpoint = endpoint or ""

    def begin(self, name: str, fqn: str, location: Location) -> Path | None:
        """Note a change set about to be created (best effort)."""
        entry = {
            "endpoint": self.endpoint,
            "region": location.region,
            "profile": location.profile,
            "fqn": fqn,
            "name": name,
            "pid": os.getpid(),
        }
        path = self.folder / f"{uuid.uuid4().hex}.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(entry), encoding="utf-8")
        except OSError:
            return None
        return path

    def end(self, path: Path | None) -> None:
        """The change set was executed or deleted."""
        if path is not None:
            path.unlink(missing_ok=True)

    def leftovers(self) -> list[Entry]:
        """Change sets of runs against this endpoint whose process is gone."""
        out: list[Entry] = []
        try:
            paths = sorted(self.folder.glob("*.json"))
        except OSError:
            return out
        for path in paths:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                entry = Entry(
                    path,
                    str(data["name"]),
                    str(data["fqn"]),
                    Location(data.get("region"), data.get("profile")),
                    int(data["pid"]),
                )
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # unreadable: nothing to act on
                continue
            if data.get("endpoint", "") == self.endpoint and not pid_alive(entry.pid):
                out.append(entry)
        return out
