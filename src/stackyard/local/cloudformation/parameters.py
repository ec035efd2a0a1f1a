"""Template parameters: merging given values with defaults and previous values, validating."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stackyard.local.cloudformation.errors import ValidationError

__all__ = ["MASK", "masked", "resolve_parameters", "typed_parameters"]

MASK = "****"


def resolve_parameters(
    declared: Mapping[str, Any],
    given: Sequence[Mapping[str, Any]],
    previous: Mapping[str, str] | None,
) -> dict[str, str]:
    """Each declared parameter's string value: given, previous (UsePreviousValue) or default."""
    unknown = [p["ParameterKey"] for p in given if p.get("ParameterKey") not in declared]
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, str] = {}
    for item in given:
        key = item["ParameterKey"]
        if item.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise ValidationError(
                    f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as "
                    "true for a parameter key not in the previous template"
                )
            values[key] = previous[key]
        elif "ParameterValue" in item:
            values[key] = str(item["ParameterValue"])
    missing: list[str] = []
    for key, spec in declared.items():
        if key in values:
            continue
        if "Default" in spec:
            default = spec["Default"]
            values[key] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        else:
            missing.append(key)
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    for key, spec in declared.items():
        _validate(key, spec, values[key])
    return {key: values[key] for key in declared}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _validate(key: str, spec: Mapping[str, Any], value: str) -> None:
    kind = str(spec.get("Type", "String"))
    description = spec.get("ConstraintDescription")
    items = value.split(",") if kind in ("CommaDelimitedList", "List<Number>") else [value]
    allowed = [str(v) for v in spec.get("AllowedValues", [])]
    for item in items:
        if allowed and item not in allowed:
            raise ValidationError(description or f"Parameter '{key}' must be one of AllowedValues")
        if kind in ("Number", "List<Number>") and _number(item) is None:
            raise ValidationError(f"Parameter '{key}' must be a number.")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), item):
            raise ValidationError(description or f"Parameter '{key}' must match pattern {pattern}")
        if "MinLength" in spec and len(item) < int(spec["MinLength"]):
            raise ValidationError(
                description
                or f"Parameter '{key}' must contain at least {spec['MinLength']} characters"
            )
        if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
            raise ValidationError(
                description
                or f"Parameter '{key}' must contain at most {spec['MaxLength']} characters"
            )
        number = _number(item)
        if number is not None and "MinValue" in spec and number < float(spec["MinValue"]):
            raise ValidationError(
                description
                or f"Parameter '{key}' must be a number not less than {spec['MinValue']}"
            )
        if number is not None and "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ValidationError(
                description
                or f"Parameter '{key}' must be a number not greater than {spec['MaxValue']}"
            )


def typed_parameters(
    declared: Mapping[str, Any],
    values: Mapping[str, str],
    ssm_value: Callable[[str], str],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parameter values as templates see them (lists split, SSM names resolved).

    Returns the typed values and, for ``AWS::SSM::Parameter::Value<...>`` parameters, the
    resolved string values DescribeStacks reports as ``ResolvedValue``.
    """
    typed: dict[str, Any] = {}
    resolved: dict[str, str] = {}
    for key, raw in values.items():
        kind = str(declared.get(key, {}).get("Type", "String"))
        value: Any = raw
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            value = resolved[key] = ssm_value(raw)
        if (
            kind == "CommaDelimitedList"
            or kind.startswith("List<")
            or (
                kind.startswith("AWS::SSM::Parameter::Value<List<")
                or kind == "AWS::SSM::Parameter::Value<CommaDelimitedList>"
            )
        ):
            value = value.split(",") if value else []
        typed[key] = value
    return typed, resolved


def masked(declared: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """The values with NoEcho parameters replaced by ``****``."""
    return {
        key: MASK if str(declared.get(key, {}).get("NoEcho", "false")).lower() == "true" else value
        for key, value in values.items()
    }
