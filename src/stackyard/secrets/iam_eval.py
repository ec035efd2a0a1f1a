"""Evaluate IAM identity policies with AWS's semantics, for the secrets audit.

moto has no policy simulator, so stackyard decides here whether a set of
identity policies allows one request (an action on a resource, with a request
context of condition keys). The rules, as AWS documents them:

- default deny: nothing is allowed unless a statement allows it;
- an applicable ``Deny`` statement wins over any number of ``Allow`` statements;
- a statement applies when its action part (``Action`` or ``NotAction``), its
  resource part (``Resource`` or ``NotResource``) and its ``Condition`` all match;
- actions match case-insensitively, resources case-sensitively; both take the
  ``*`` (any run of characters) and ``?`` (one character) wildcards; an ARN is
  compared component by component (six colon-separated parts);
- ``Condition``: every operator must match, every key under an operator must
  match, and any one of a key's listed values is enough (negated operators need
  none of them to match); condition key names are case-insensitive;
- a key missing from the request fails the operator, except for the negated
  operators and ``...IfExists`` (both then match), ``Null`` (which tests
  exactly that) and ``ForAllValues:`` (vacuously true).

Operators stackyard does not evaluate (numeric, date, IP address, binary) make
their statement not apply, and the evaluation says so in ``unknown``; callers
report them rather than hiding them. Policy variables (``${aws:username}``) are
replaced from the request context when present there.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

__all__ = [
    "Decision",
    "Evaluation",
    "PolicyParseError",
    "Request",
    "Statement",
    "arn_matches",
    "evaluate",
    "load_document",
    "parse_policy",
    "statement_applies",
    "wildcard_match",
]

ContextValue = str | bool | Sequence[str]


class PolicyParseError(ValueError):
    """A policy document is not JSON or not shaped like an IAM policy."""


class Decision(Enum):
    """The outcome of evaluating a request."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Statement:
    """One normalized policy statement; ``source`` names the policy it came from."""

    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    sid: str = ""
    source: str = ""

    @property
    def label(self) -> str:
        """``policy:sid`` (or just the policy) for reports."""
        return f"{self.source}:{self.sid}" if self.sid else self.source


@dataclass(frozen=True)
class Request:
    """What is asked: an action on a resource, with the request context's condition keys."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def value(self, key: str) -> tuple[str, ...] | None:
        """The values of condition key ``key`` (case-insensitive), or None if absent."""
        wanted = key.lower()
        for name, raw in self.context.items():
            if name.lower() == wanted:
                if isinstance(raw, bool):
                    return ("true" if raw else "false",)
                if isinstance(raw, str):
                    return (raw,)
                return tuple(str(v) for v in raw)
        return None


@dataclass(frozen=True)
class Evaluation:
    """The decision, the statements that made it, and operators that could not be evaluated."""

    decision: Decision
    allowed_by: tuple[Statement, ...] = ()
    denied_by: tuple[Statement, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        """True if the request is allowed."""
        return self.decision is Decision.ALLOW


# -- parsing ----------------------------------------------------------------------------


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyParseError(f"{what} must be a string or a list of strings")


def _condition_values(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, bool):
            result.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            result.append(str(item))
        else:
            raise PolicyParseError("condition values must be strings, numbers or booleans")
    return tuple(result)


def _statement(raw: Any, source: str) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyParseError("a statement must be an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyParseError(f"Effect must be Allow or Deny, not {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyParseError("a statement needs exactly one of Action and NotAction")
    if ("Resource" in raw) == ("NotResource" in raw):
        raise PolicyParseError("a statement needs exactly one of Resource and NotResource")
    conditions: dict[str, dict[str, tuple[str, ...]]] = {}
    raw_conditions = raw.get("Condition", {})
    if not isinstance(raw_conditions, dict):
        raise PolicyParseError("Condition must be an object")
    for operator, entries in raw_conditions.items():
        if not isinstance(entries, dict):
            raise PolicyParseError(f"Condition {operator} must map keys to values")
        conditions[str(operator)] = {
            str(key): _condition_values(value) for key, value in entries.items()
        }
    sid = raw.get("Sid", "")
    return Statement(
        effect=effect,
        actions=_strings(raw["Action"], "Action") if "Action" in raw else (),
        not_actions=_strings(raw["NotAction"], "NotAction") if "NotAction" in raw else None,
        resources=_strings(raw["Resource"], "Resource") if "Resource" in raw else (),
        not_resources=(
            _strings(raw["NotResource"], "NotResource") if "NotResource" in raw else None
        ),
        conditions=conditions,
        sid=sid if isinstance(sid, str) else "",
        source=source,
    )


def load_document(document: Mapping[str, Any] | str, source: str = "") -> Mapping[str, Any]:
    """A policy document as a mapping: from a dict, JSON text, or URL-encoded JSON as IAM
    returns it. Raises :class:`PolicyParseError`."""
    if isinstance(document, str):
        text = document.strip()
        if not text.startswith("{"):
            text = urllib.parse.unquote(text)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyParseError(f"policy {source or ''} is not JSON: {exc}") from exc
    if not isinstance(document, Mapping):
        raise PolicyParseError("a policy document must be an object")
    return document


def parse_policy(document: Mapping[str, Any] | str, source: str = "") -> list[Statement]:
    """The statements of a policy document (see :func:`load_document` for the forms taken).
    ``Statement`` may be one object or a list. Raises :class:`PolicyParseError`."""
    document = load_document(document, source)
    raw = document.get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return [_statement(item, source) for item in items]


# -- matching ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """True if ``value`` matches ``pattern`` in full, with ``*`` and ``?`` wildcards."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's ARN comparison: ``*`` matches anything; otherwise each of the six
    colon-separated components is matched on its own (the last takes the rest)."""
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    arn_parts = arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return wildcard_match(pattern, arn)
    return all(wildcard_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, request: Request) -> str:
    if "${" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _LITERALS:
            return _LITERALS[name]
        values = request.value(name)
        return values[0] if values and len(values) == 1 else match.group(0)

    return _VARIABLE.sub(replace, text)


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(wildcard_match(p, action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str, request: Request) -> bool:
    return any(arn_matches(_substitute(p, request), resource) for p in patterns)


# -- conditions -------------------------------------------------------------------------

_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
}


def _compare(base: str, policy_value: str, request_value: str) -> bool | None:
    """One comparison of a base operator; None if the operator is not supported."""
    if base in ("StringEquals", "StringNotEquals"):
        return policy_value == request_value
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return policy_value.lower() == request_value.lower()
    if base in ("StringLike", "StringNotLike"):
        return wildcard_match(policy_value, request_value)
    if base in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return arn_matches(policy_value, request_value)
    if base == "Bool":
        return policy_value.lower() == request_value.lower()
    return None


def _operator_matches(
    operator: str, entries: Mapping[str, tuple[str, ...]], request: Request
) -> bool | None:
    """Whether one condition operator matches; None if stackyard cannot evaluate it."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    if base == "Null":
        if qualifier:
            return None
        return all(
            (request.value(key) is None) == (values[0].lower() == "true" if values else True)
            for key, values in entries.items()
        )
    negated = base in _NEGATED
    if _compare(base, "", "") is None:
        return None
    for key, policy_values in entries.items():
        values = [_substitute(v, request) for v in policy_values]
        present = request.value(key)
        if present is None or (qualifier and not present):
            if qualifier == "ForAllValues":
                continue
            if qualifier == "ForAnyValue":
                return False
            if if_exists or negated:
                continue
            return False

        def one(request_value: str, values: list[str] = values) -> bool:
            hit = any(_compare(base, v, request_value) for v in values)
            return not hit if negated else hit

        if qualifier == "ForAllValues":
            ok = all(one(rv) for rv in present)
        elif qualifier == "ForAnyValue":
            ok = any(one(rv) for rv in present)
        else:
            # A single-valued key: its (first) value decides.
            ok = one(present[0]) if len(present) == 1 else any(one(rv) for rv in present)
        if not ok:
            return False
    return True


def _conditions_match(statement: Statement, request: Request, unknown: list[str]) -> bool:
    for operator, entries in statement.conditions.items():
        result = _operator_matches(operator, entries, request)
        if result is None:
            unknown.append(
                f"{statement.label}: condition operator {operator} is unknown "
                "→ treated as not matching"
            )
            return False
        if not result:
            return False
    return True


def statement_applies(statement: Statement, request: Request, unknown: list[str]) -> bool:
    """True if ``statement``'s action, resource and conditions all match ``request``."""
    if statement.not_actions is not None:
        if _action_matches(statement.not_actions, request.action):
            return False
    elif not _action_matches(statement.actions, request.action):
        return False
    if statement.not_resources is not None:
        if _resource_matches(statement.not_resources, request.resource, request):
            return False
    elif not _resource_matches(statement.resources, request.resource, request):
        return False
    return _conditions_match(statement, request, unknown)


def evaluate(statements: Iterable[Statement], request: Request) -> Evaluation:
    """Evaluate identity-policy ``statements`` for ``request``: explicit deny wins,
    then any allow, else the default (implicit) deny."""
    allowed: list[Statement] = []
    denied: list[Statement] = []
    unknown: list[str] = []
    for statement in statements:
        if statement_applies(statement, request, unknown):
            (denied if statement.effect == "Deny" else allowed).append(statement)
    if denied:
        decision = Decision.EXPLICIT_DENY
    elif allowed:
        decision = Decision.ALLOW
    else:
        decision = Decision.IMPLICIT_DENY
    return Evaluation(decision, tuple(allowed), tuple(denied), tuple(dict.fromkeys(unknown)))
