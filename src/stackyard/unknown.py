"""Values that are not known until AWS is asked, or until an upstream stack is applied.

An ``Unknown`` is a ``str`` so that it flows through blueprints and templates
(troposphere accepts it wherever it accepts a string) and shows up in rendered
output as ``(known after apply: <why>)``. Code that must not act on a guess
checks ``is_unknown(value)``.
"""

from __future__ import annotations

from typing import Any


class Unknown(str):
    """A placeholder for a value known only after a lookup is resolved against AWS."""

    __slots__ = ("reason",)
    reason: str

    def __new__(cls, reason: str) -> Unknown:
        self = super().__new__(cls, f"(known after apply: {reason})")
        self.reason = reason
        return self

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Unknown, (self.reason,))


def is_unknown(value: Any) -> bool:
    """True if ``value`` is, or contains anywhere inside it, an ``Unknown``."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False
