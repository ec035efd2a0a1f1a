"""CloudFormation's parameter rules, checked on the values a stack will submit.

CloudFormation refuses a stack whose parameter has no value and no ``Default``, or whose
value breaks ``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength`` or
``MinValue``/``MaxValue``, or is not a number for a ``Number`` parameter. These are
checked before AWS sees them. Values known only after apply are checked when known;
the values of ``NoEcho`` parameters and secrets are never shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ParameterProblem", "check_parameters"]


@dataclass(frozen=True)
class ParameterProblem:
    """A parameter value CloudFormation would refuse."""

    parameter: str
    message: str
    hint: str | None = None


def check_parameters(
    definitions: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    hidden: frozenset[str] = frozenset(),
) -> list[ParameterProblem]:
    """Each problem of ``values`` against the template's ``Parameters`` ``definitions``."""
    from stackyard.lookups.secret import is_secret
    from stackyard.unknown import is_unknown

    problems = []
    for name, definition in definitions.items():
        if not isinstance(definition, Mapping):
            continue
        if name not in values:
            if "Default" not in definition:
                problems.append(
                    ParameterProblem(
                        name,
                        f"parameter {name!r} has no value and no Default",
                        f"set {name} under `variables:` of the stack",
                    )
                )
            continue
        value = values[name]
        if is_unknown(value) or isinstance(value, list):
            continue
        secret = name in hidden or is_secret(value)
        text = str(value.reveal() if secret and hasattr(value, "reveal") else value)
        problem = _problem(str(definition.get("Type", "String")), definition, text)
        if problem:
            shown = "****" if secret else repr(text)
            described = definition.get("ConstraintDescription")
            problems.append(
                ParameterProblem(
                    name,
                    f"parameter {name!r} value {shown} {problem}",
                    str(described) if described else None,
                )
            )
    return problems


def _problem(kind: str, definition: Mapping[str, Any], text: str) -> str | None:
    allowed = definition.get("AllowedValues")
    if isinstance(allowed, list) and text not in [_text(a) for a in allowed]:
        return f"is not one of {[_text(a) for a in allowed]}"
    if kind == "Number":
        return _number_problem(definition, text)
    if kind != "String":
        return None
    pattern = definition.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            if not re.fullmatch(pattern, text):
                return f"does not match AllowedPattern {pattern!r}"
        except re.error:
            return None
    low, high = _int(definition.get("MinLength")), _int(definition.get("MaxLength"))
    if low is not None and len(text) < low:
        return f"is shorter than MinLength {low}"
    if high is not None and len(text) > high:
        return f"is longer than MaxLength {high}"
    return None


def _number_problem(definition: Mapping[str, Any], text: str) -> str | None:
    try:
        number = float(text)
    except ValueError:
        return "is not a number (the parameter's Type is Number)"
    low, high = _float(definition.get("MinValue")), _float(definition.get("MaxValue"))
    if low is not None and number < low:
        return f"is below MinValue {definition['MinValue']}"
    if high is not None and number > high:
        return f"is above MaxValue {definition['MaxValue']}"
    return None


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
