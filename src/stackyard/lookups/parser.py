"""Parse stacker's lookup syntax into a small immutable tree.

A string may hold any number of lookups, ``${TYPE ARGUMENT}``, between
literal text, and an argument may itself hold lookups::

    "arn:${output vpc::Arn}/x"             -> ("arn:", Call(output, "vpc::Arn"), "/x")
    "${output ${default src::vpc}::Id}"    -> (Call(output, (Call(default, ...), "::Id")),)

The rules are stacker 1.7's: the type runs from ``${`` to the first
whitespace, one run of whitespace separates it from the argument, and the
argument runs to the matching ``}``; whitespace inside the argument is kept.
A ``}`` outside any lookup is plain text (JSON and policies are full of
them). Unlike stacker, an unclosed ``${`` or an empty type is an error rather
than text passed through. ``${VAR}`` environment substitution is not ours: it
happens earlier, when the config file is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from stackyard.errors import LookupError_

OPEN = "${"
CLOSE = "}"

SYNTAX_HINT = "a lookup is written ${TYPE ARGUMENT}, e.g. ${output vpc::VpcId}"


@dataclass(frozen=True, slots=True)
class Template:
    """Literal text and lookup calls, in order; ``source`` is the text they came from."""

    parts: tuple[str | Call, ...]
    source: str

    @property
    def is_literal(self) -> bool:
        """True if there is no lookup in this text."""
        return all(isinstance(part, str) for part in self.parts)

    @property
    def single_call(self) -> Call | None:
        """The call, if the whole text is exactly one lookup."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Call):
            return self.parts[0]
        return None

    def literal_prefix(self) -> str:
        """The literal text before the first lookup."""
        prefix: list[str] = []
        for part in self.parts:
            if not isinstance(part, str):
                break
            prefix.append(part)
        return "".join(prefix)

    def calls(self) -> Iterator[Call]:
        """Every call in this text, outer calls before the calls nested in their arguments."""
        for part in self.parts:
            if isinstance(part, Call):
                yield part
                yield from part.arg.calls()


@dataclass(frozen=True, slots=True)
class Call:
    """One lookup: its type name and its argument (which may hold lookups)."""

    type: str
    arg: Template
    source: str


def has_lookups(text: str) -> bool:
    """True if ``text`` contains the start of a lookup (cheap; does not parse)."""
    return OPEN in text


@lru_cache(maxsize=4096)
def parse(text: str) -> Template:
    """Parse ``text`` into a :class:`Template`; raise ``LookupError_`` if it is malformed."""
    if OPEN not in text:
        return Template((text,), text) if text else Template((), text)
    parts, end = _parse_parts(text, 0, inside=False)
    assert end == len(text)
    return Template(parts, text)


def _parse_parts(text: str, pos: int, *, inside: bool) -> tuple[tuple[str | Call, ...], int]:
    """Parse from ``pos`` to the end, or (``inside`` a call) to its closing brace."""
    parts: list[str | Call] = []
    literal_start = pos
    while pos < len(text):
        if text.startswith(OPEN, pos):
            if pos > literal_start:
                parts.append(text[literal_start:pos])
            call, pos = _parse_call(text, pos)
            parts.append(call)
            literal_start = pos
        elif inside and text[pos] == CLOSE:
            break
        else:
            pos += 1
    else:
        if inside:
            # The caller reports the unclosed brace: it knows where the call began.
            return (), -1
    if pos > literal_start:
        parts.append(text[literal_start:pos])
    return tuple(parts), pos


def _parse_call(text: str, start: int) -> tuple[Call, int]:
    """Parse the call that begins with ``${`` at ``start``; return it and the index after it."""
    pos = start + len(OPEN)
    type_start = pos
    while pos < len(text) and not text[pos].isspace() and text[pos] != CLOSE:
        if text.startswith(OPEN, pos):
            raise _malformed(text, start, "a lookup type cannot itself be a lookup")
        pos += 1
    lookup_type = text[type_start:pos]
    if not lookup_type:
        if pos < len(text) and text[pos] == CLOSE:
            raise _malformed(text, start, "empty lookup '${}'")
        raise _malformed(text, start, "no lookup type after '${'")
    while pos < len(text) and text[pos].isspace():
        pos += 1
    arg_start = pos
    arg_parts, end = _parse_parts(text, pos, inside=True)
    if end < 0:
        raise _malformed(text, start, "'${' is never closed by '}'")
    arg = Template(arg_parts, text[arg_start:end])
    return Call(lookup_type, arg, text[start : end + 1]), end + 1


def _malformed(text: str, at: int, problem: str) -> LookupError_:
    return LookupError_(
        f"malformed lookup at column {at + 1} of {text!r}: {problem}", hint=SYNTAX_HINT
    )
