"""Formation: how many tasks of each process, and their size (``web=3:256:512``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackyard.errors import UsageError

_SPEC = re.compile(r"^([a-z][a-z0-9]{0,19})=(\d+)(?::(\d+))?(?::(\d+)(mb|gb)?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Scale:
    """One process's count, and optionally its CPU units and memory (MiB)."""

    process: str
    count: int
    cpu: int | None = None
    memory: int | None = None


def parse_scale(spec: str) -> Scale:
    """``web=3``, ``worker=2:512``, ``web=10:256:2gb`` (memory in MiB unless ``gb``)."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise UsageError(
            f"{spec!r} is not PROCESS=COUNT[:CPU[:MEMORY]]",
            hint="e.g. web=3, worker=2:512:1024, web=10:256:2gb",
        )
    name, count, cpu, memory, unit = match.groups()
    mib = None
    if memory is not None:
        mib = int(memory) * (1024 if (unit or "").lower() == "gb" else 1)
    return Scale(name, int(count), int(cpu) if cpu else None, mib)
