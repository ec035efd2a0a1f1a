"""``apps env diff prod prod/canary``: two environments' effective settings, key by key.

Each side is a view of one environment as its next release would take it: bindings and
defaults from ``apps.yaml`` (a sub-environment's with what it inherits), config vars and
formation from the apps database (effective: a sub-environment's own over its parent's), and
the release it runs. Every value says where it comes from (``own``, ``inherited``).

Secrets stay out: a config var that is a secret is only ever a reference (``secret:/path``),
shown as such; a plain value whose key names a credential (``PASSWORD``, ``TOKEN``,
``SECRET``, ``API_KEY``...) and the password of a URL (``postgres://user:****@host``) are
masked, and whether the two sides are the same is still told.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackyard.apps.manifest import Placement
from stackyard.lookups.secret import MASK

__all__ = ["DiffRow", "EnvView", "diff", "mask", "placement_text"]

SENSITIVE = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH|SIGNING)",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"^(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<password>[^@\s]+)(?=@)")


def mask(key: str, value: str) -> str:
    """``value`` as ``env diff`` may show it (see the module's docstring)."""
    if value.startswith("secret:"):
        return value
    if SENSITIVE.search(key):
        return MASK
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, value)


def placement_text(placement: Placement) -> tuple[str, str]:
    """(constraints, strategy) as one line each: ``memberOf(attribute:profile == web)``."""
    constraints = ", ".join(
        f"{c.type}({c.expression})" if c.expression else c.type for c in placement.constraints
    )
    strategy = ", ".join(f"{s.type}({s.field})" if s.field else s.type for s in placement.strategy)
    return constraints or "-", strategy or "-"


Entry = tuple[str, str]  # (value as text, origin)


@dataclass(frozen=True)
class EnvView:
    """One environment's effective settings by section, each key's value with its origin."""

    name: str
    sections: dict[str, dict[str, Entry]] = field(default_factory=dict)


@dataclass(frozen=True)
class DiffRow:
    """One key of one section on both sides (None: the side does not have it); ``same``
    compares the real values, masked or not."""

    section: str
    key: str
    left: str | None
    right: str | None
    left_origin: str
    right_origin: str
    same: bool


SECTIONS = ("release", "bindings", "defaults", "config", "formation")


def diff(left: EnvView, right: EnvView, *, only_changes: bool = False) -> list[DiffRow]:
    """Every key of every section of the two views, in section order then key order."""
    rows: list[DiffRow] = []
    for section in SECTIONS:
        a, b = left.sections.get(section, {}), right.sections.get(section, {})
        for key in sorted(set(a) | set(b)):
            (lv, lo), (rv, ro) = a.get(key, (None, "")), b.get(key, (None, ""))
            same = lv == rv
            if only_changes and same:
                continue
            shown = mask if section == "config" else (lambda _k, v: v)
            rows.append(
                DiffRow(
                    section,
                    key,
                    None if lv is None else shown(key, lv),
                    None if rv is None else shown(key, rv),
                    lo,
                    ro,
                    same,
                )
            )
    return rows


def entries(values: Mapping[str, Any], origin: str = "own") -> dict[str, Entry]:
    """Plain values as entries of one origin (``None`` left out)."""
    return {k: (str(v), origin) for k, v in values.items() if v is not None}


def layered_entries(layers: Mapping[str, tuple[Any, str]]) -> dict[str, Entry]:
    """:func:`~stackyard.apps.inheritance.layered` output as entries."""
    return {k: (str(v), origin) for k, (v, origin) in layers.items()}


def formation_entries(
    own: Mapping[str, Mapping[str, int | None]],
    parent: Mapping[str, Mapping[str, int | None]] | None = None,
) -> dict[str, Entry]:
    """``web.count: 3`` and so on: the environment's own values, then (a sub-environment's)
    its parent's for the keys it leaves unset."""
    out: dict[str, Entry] = {}
    for origin, formation in (("inherited", parent or {}), ("own", own)):
        for process, values in formation.items():
            for key, value in values.items():
                if value is not None:
                    out[f"{process}.{key}"] = (str(value), origin)
    return dict(sorted(out.items()))
