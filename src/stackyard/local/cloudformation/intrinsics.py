"""Evaluating CloudFormation's intrinsic functions and conditions.

A :class:`Resolver` turns template values into concrete values given parameters, mappings,
conditions and a way to read resources' ``Ref`` and ``Fn::GetAtt`` values. ``AWS::NoValue``
removes the key or list item that holds it.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from stackyard.local.cloudformation.errors import ResourceFailure, ValidationError

__all__ = ["NO_VALUE", "Resolver"]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

# Every `${...}` of a Fn::Sub string, literals (`${!X}`) included: evaluation turns those
# into `${X}`.
_SUB_ANY = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions against one stack's parameters, conditions and resources."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        mappings: Mapping[str, Any],
        condition_defs: Mapping[str, Any],
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
        import_value: Callable[[str], Any],
    ) -> None:
        self.parameters = parameters
        self.pseudo = pseudo
        self.mappings = mappings
        self.condition_defs = condition_defs
        self._ref = ref
        self._get_att = get_att
        self._import_value = import_value
        self._conditions: dict[str, bool] = {}
        self.imported: set[str] = set()

    # conditions -------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        """The value of the named condition."""
        if name not in self._conditions:
            if name not in self.condition_defs:
                raise ValidationError(
                    f"Template format error: Unresolved dependencies [{name}]. Cannot reference "
                    "resources in the Conditions block of the template"
                )
            self._conditions[name] = bool(self._evaluate_condition(self.condition_defs[name]))
        return self._conditions[name]

    def _evaluate_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Condition":
                return self.condition(value)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return (
                    str(left) == str(right)
                    if isinstance(left, (str, int, float, bool))
                    and (isinstance(right, (str, int, float, bool)))
                    else left == right
                )
            if key == "Fn::Not":
                return not self._evaluate_condition(value[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(v) for v in value)
            if key == "Fn::Or":
                return any(self._evaluate_condition(v) for v in value)
        return self.resolve(node)

    # values -----------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """The concrete value of ``node``; NO_VALUE when it evaluates to ``AWS::NoValue``."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, value)
        out: dict[str, Any] = {}
        for key, value in node.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def ref(self, name: str) -> Any:
        """The value of ``Ref: name``."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._ref(name)

    def _fn_ref(self, value: Any) -> Any:
        return self.ref(self.resolve(value))

    def _fn_get_att(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(".", 1)
        logical_id, attribute = value[0], self.resolve(value[1])
        return self._get_att(logical_id, str(attribute))

    def _fn_join(self, value: Any) -> Any:
        delimiter, items = value
        resolved = self.resolve(items)
        return str(delimiter).join(_text(item) for item in resolved)

    def _fn_sub(self, value: Any) -> Any:
        if isinstance(value, list):
            text, variables = value[0], {k: self.resolve(v) for k, v in value[1].items()}
        else:
            text, variables = value, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                logical_id, attribute = name.split(".", 1)
                return _text(self._get_att(logical_id, attribute))
            return _text(self.ref(name))

        return _SUB_ANY.sub(replace, text)

    def _fn_select(self, value: Any) -> Any:
        index, items = self.resolve(value[0]), self.resolve(value[1])
        try:
            return items[int(index)]
        except (IndexError, ValueError, TypeError) as exc:
            raise ResourceFailure(
                "Template error: Fn::Select cannot select nonexistent value"
            ) from exc

    def _fn_split(self, value: Any) -> Any:
        delimiter, text = value[0], self.resolve(value[1])
        return str(text).split(delimiter)

    def _fn_if(self, value: Any) -> Any:
        name, when_true, when_false = value
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_find_in_map(self, value: Any) -> Any:
        name, top, second = (self.resolve(v) for v in value[:3])
        try:
            return self.mappings[name][top][second]
        except (KeyError, TypeError) as exc:
            if len(value) > 3 and isinstance(value[3], dict) and "DefaultValue" in value[3]:
                return self.resolve(value[3]["DefaultValue"])
            raise ResourceFailure(
                f"Template error: Unable to get mapping for {name}::{top}::{second}"
            ) from exc

    def _fn_import_value(self, value: Any) -> Any:
        name = self.resolve(value)
        self.imported.add(name)
        return self._import_value(name)

    def _fn_get_azs(self, value: Any) -> Any:
        region = self.resolve(value) or self.pseudo["AWS::Region"]
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_base64(self, value: Any) -> Any:
        return base64.b64encode(_text(self.resolve(value)).encode()).decode()

    def _fn_cidr(self, value: Any) -> Any:
        block, count, bits = (self.resolve(v) for v in value)
        network = ipaddress.ip_network(block, strict=False)
        prefix = network.max_prefixlen - int(bits)
        subnets = network.subnets(new_prefix=prefix)
        return [str(next(subnets)) for _ in range(int(count))]

    def _fn_to_json_string(self, value: Any) -> Any:
        return json.dumps(self.resolve(value), separators=(",", ":"))

    def _fn_length(self, value: Any) -> Any:
        return len(self.resolve(value))

    def _fn_condition(self, value: Any) -> Any:
        return self.condition(value)

    def _fn_equals(self, value: Any) -> Any:
        return self._evaluate_condition({"Fn::Equals": value})

    def _fn_not(self, value: Any) -> Any:
        return self._evaluate_condition({"Fn::Not": value})

    def _fn_and(self, value: Any) -> Any:
        return self._evaluate_condition({"Fn::And": value})

    def _fn_or(self, value: Any) -> Any:
        return self._evaluate_condition({"Fn::Or": value})

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Join": _fn_join,
        "Fn::Sub": _fn_sub,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::ImportValue": _fn_import_value,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::Base64": _fn_base64,
        "Fn::Cidr": _fn_cidr,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::Length": _fn_length,
        "Condition": _fn_condition,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
