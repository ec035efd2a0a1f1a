"""Which stack variables a blueprint or template actually takes.

stacker ignored a variable the blueprint does not define, so a misspelt
``CidrBlok`` silently fell back to the blueprint's default. stackyard refuses it:
:func:`unknown_variables` names each variable nobody declared, with the names it
may have meant.

- A Python blueprint takes the names in ``defined_variables()``.
- A raw template takes the names in its ``Parameters``.
- A Jinja2 template also takes every ``variables.NAME`` (or ``variables["NAME"]``)
  its text mentions; a template that reaches ``variables`` any other way (a loop
  over ``variables.items()``, ``variables[key]``) takes every name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Blueprint

__all__ = ["UnknownVariable", "accepted_variables", "unknown_variables"]

_MENTION = re.compile(r"\bvariables\b")
_NAMED_USE = re.compile(
    r"""\s*(?:\.(?!(?:items|keys|values|get)\b)(?P<attr>[A-Za-z_]\w*)"""
    r"""|\[\s*(?P<q>['"])(?P<item>[^'"]+)(?P=q)\s*\]"""
    r"""|\.get\(\s*(?P<gq>['"])(?P<got>[^'"]+)(?P=gq))"""
)


@dataclass(frozen=True)
class UnknownVariable:
    """A variable given in the config that the blueprint does not take."""

    name: str
    suggestion: str | None
    accepted: tuple[str, ...]

    @property
    def hint(self) -> str:
        """A did-you-mean, or what the blueprint does take."""
        if self.suggestion:
            return f"did you mean {self.suggestion!r}?"
        if self.accepted:
            return f"it takes: {', '.join(self.accepted)}"
        return "it takes no variables"


def accepted_variables(blueprint: Blueprint) -> frozenset[str] | None:
    """The variable names ``blueprint`` takes; None when it takes any name."""
    from .raw import RawTemplateBlueprint

    if not isinstance(blueprint, RawTemplateBlueprint):
        return frozenset(blueprint.defined_variables())
    names = set(blueprint.get_parameter_definitions())
    if blueprint.is_jinja:
        mentioned = jinja_mentions(blueprint.raw_template_path.read_text(encoding="utf-8"))
        if mentioned is None:
            return None
        names |= mentioned
    return frozenset(names)


def jinja_mentions(text: str) -> frozenset[str] | None:
    """Names a Jinja2 template reads from ``variables``; None if it reads them dynamically."""
    names: set[str] = set()
    for match in _MENTION.finditer(text):
        use = _NAMED_USE.match(text, match.end())
        if use is None:
            return None
        names.add(use.group("attr") or use.group("item") or use.group("got"))
    return frozenset(names)


def unknown_variables(blueprint: Blueprint, given: Iterable[str]) -> list[UnknownVariable]:
    """Each name in ``given`` that ``blueprint`` does not take, in the order given."""
    accepted = accepted_variables(blueprint)
    if accepted is None:
        return []
    ordered = tuple(sorted(accepted))
    found = []
    for name in given:
        if name in accepted:
            continue
        by_lower = {a.lower(): a for a in ordered}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
        found.append(UnknownVariable(name, by_lower[close[0]] if close else None, ordered))
    return found
