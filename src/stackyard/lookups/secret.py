"""A marker for values that must never be shown: SSM SecureStrings and KMS plaintexts.

``Secret`` is a ``str`` so it flows into templates and parameters unchanged,
but its ``repr`` is masked, and every layer that displays values (plans, logs,
errors, JSON output) calls :func:`mask_secrets` first.
"""

from __future__ import annotations

from typing import Any

from stackyard.unknown import Unknown

MASK = "****"


class Secret(str):
    """A string whose value is secret; ``repr`` never shows it.

    ``reference`` is the CloudFormation dynamic reference that stands for the
    value (``{{resolve:ssm-secure:NAME:VERSION}}``) where there is one: a
    template gets the reference, never the value.
    """

    __slots__ = ("reference",)
    reference: str | None

    def __new__(cls, value: str, reference: str | None = None) -> Secret:
        self = super().__new__(cls, value)
        self.reference = reference
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (str.__str__(self), self.reference))

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def mask(self) -> str:
        """The text to show in place of this value."""
        return MASK

    def reveal(self) -> str:
        """The value as a plain ``str`` (no longer marked secret)."""
        return str.__str__(self)


def is_secret(value: Any) -> bool:
    """True if ``value`` is, or contains anywhere inside it, a ``Secret``."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(is_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_secret(v) for v in value)
    return False


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` with every ``Secret`` inside it replaced by the mask."""
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_secrets(v) for v in value)
    return value


def taint(value: Any) -> Any:
    """Mark every string inside ``value`` secret: it was derived from a secret."""
    if isinstance(value, str):
        return value if isinstance(value, Secret | Unknown) else Secret(value)
    if isinstance(value, dict):
        return {k: taint(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(taint(v) for v in value)
    return value
