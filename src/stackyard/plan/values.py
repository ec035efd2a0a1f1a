"""Values inside plans: "known after apply", intrinsics, masking secrets, substitution.

Shared by the differ's modules; nothing here knows about stacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.desired import parameter_text
from stackyard.lookups.secret import MASK, Secret
from stackyard.template_refs import SUB_VARIABLE
from stackyard.unknown import Unknown

__all__ = [
    "KNOWN_AFTER_APPLY",
    "MIN_SECRET_IN_TEXT",
    "UNKNOWN_MARK",
    "Masker",
    "is_intrinsic",
    "plain",
    "substitute",
    "unknown_in",
]

KNOWN_AFTER_APPLY = "(known after apply)"
UNKNOWN_MARK = "(known after apply:"
# Shorter secrets are masked only where a whole value equals them, not inside text.
MIN_SECRET_IN_TEXT = 4


def unknown_in(value: Any) -> bool:
    """True when ``value`` holds a value known only after apply, anywhere inside it."""
    if isinstance(value, str):
        return isinstance(value, Unknown) or UNKNOWN_MARK in value
    if isinstance(value, Mapping):
        return any(unknown_in(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(unknown_in(v) for v in value)
    return False


def is_intrinsic(node: Any) -> bool:
    """True for ``{"Ref": ...}``, ``{"Condition": ...}`` and ``{"Fn::...": ...}``."""
    if not isinstance(node, Mapping) or len(node) != 1:
        return False
    (key,) = node
    return key == "Ref" or key == "Condition" or str(key).startswith("Fn::")


@dataclass(frozen=True)
class Masker:
    """Replaces secrets inside any value by ``****``."""

    exact: frozenset[str]
    inside: tuple[str, ...]

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Masker:
        plain = {str.__str__(s) for s in secrets if s and s != MASK}
        return cls(
            exact=frozenset(plain),
            inside=tuple(sorted((s for s in plain if len(s) >= MIN_SECRET_IN_TEXT), key=len)),
        )

    def __call__(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, Secret):
            return MASK, True
        if isinstance(value, str):
            plain = str.__str__(value)
            if plain in self.exact:
                return MASK, True
            masked = plain
            for secret in reversed(self.inside):
                masked = masked.replace(secret, MASK)
            return (masked, True) if masked != plain else (value, False)
        if isinstance(value, Mapping):
            items = {k: self(v) for k, v in value.items()}
            return {k: v for k, (v, _) in items.items()}, any(m for _, m in items.values())
        if isinstance(value, list | tuple):
            parts = [self(v) for v in value]
            return [v for v, _ in parts], any(m for _, m in parts)
        return value, False


def plain(value: Any) -> Any:
    """JSON-ready data: Unknowns as the marker text, tuples as lists."""
    if isinstance(value, Unknown):
        return KNOWN_AFTER_APPLY
    if isinstance(value, str):
        return KNOWN_AFTER_APPLY if UNKNOWN_MARK in value else value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def substitute(node: Any, values: Mapping[str, Any]) -> Any:
    """``node`` with ``Ref`` to and ``${}`` of the names in ``values`` replaced by them."""
    if isinstance(node, list):
        return [substitute(item, values) for item in node]
    if not isinstance(node, Mapping):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str) and value in values:
            return values[value]
        if key == "Fn::Sub":
            text, local = (value[0], value[1]) if isinstance(value, list) else (value, {})
            if isinstance(text, str):
                local_names = set(local) if isinstance(local, Mapping) else set()
                text = SUB_VARIABLE.sub(
                    lambda m: (
                        parameter_text(values[m.group(1)])
                        if m.group(1) in values and m.group(1) not in local_names
                        else m.group(0)
                    ),
                    text,
                )
                if not local and not SUB_VARIABLE.search(text):
                    return text
            return {"Fn::Sub": [text, substitute(local, values)] if local else text}
    return {key: substitute(value, values) for key, value in node.items()}
