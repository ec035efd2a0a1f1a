"""A local cache of deployed templates, so an unchanged stack costs no GetTemplate.

A stack's template changes only through an operation on the stack, and every
operation moves its ``LastUpdatedTime``. So a template read (or submitted) for a
stack id at one last-change time is still the template while the listing shows
that same stack id and time; anything else is a miss and is read again. The key
is the stack id (an ARN with a random part), so stacks of different accounts,
regions or endpoints never share an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from stackyard.home import cache_dir

__all__ = ["TemplateCache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$STACKYARD_HOME/cache/templates``, or ``~/.stackyard/cache/templates``."""
    return cache_dir("templates")


class TemplateCache:
    """Templates by (stack id, last change), one small JSON file per stack."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def get(self, stack_id: str, last_change: datetime | None) -> Any | None:
        """The template recorded for this stack at this last change, or None."""
        if not stack_id or last_change is None:
            return None
        try:
            entry = json.loads(self._path(stack_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if entry.get("stack_id") != stack_id or entry.get("last_change") != _stamp(last_change):
            self.misses += 1
            return None
        self.hits += 1
        return entry.get("template")

    def put(self, stack_id: str, last_change: datetime | None, template: Any) -> None:
        """Record the template a stack has at ``last_change`` (best effort, atomic)."""
        if not stack_id or last_change is None:
            return
        if isinstance(template, bytes):
            template = template.decode()
        entry = {"stack_id": stack_id, "last_change": _stamp(last_change), "template": template}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out, default=str)
            os.replace(tmp, self._path(stack_id))
        except OSError:
            return  # a cache that cannot be written only costs a GetTemplate next time

    def _path(self, stack_id: str) -> Path:
        return self.folder / f"{hashlib.sha256(stack_id.encode()).hexdigest()[:32]}.json"


def _stamp(moment: datetime) -> str:
    return moment.isoformat()
