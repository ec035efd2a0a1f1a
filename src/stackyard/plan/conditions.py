"""Evaluate a template's ``Conditions`` so the planner sees what a template really declares.

CloudFormation decides each condition from the stack's parameter values (and a
few pseudo parameters) and then leaves out every resource and output whose
``Condition`` is false, and picks one branch of every ``Fn::If``. This module
does the same, offline, with the values the planner has resolved.

Logic is three-valued: a condition is ``True``, ``False`` or ``None`` when it
cannot be decided yet, because it depends on a parameter whose value is not
known (``None`` or a ``stackyard.unknown.Unknown``), on a pseudo parameter
nobody supplied, or on an intrinsic function that needs AWS. ``None`` is
always treated conservatively: an entry guarded by an undecided condition is
kept, and an undecided ``Fn::If`` is left as it is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from stackyard.unknown import Unknown

__all__ = ["active_template", "evaluate_conditions"]

# The value of an expression inside a condition: CloudFormation text, a list
# of texts, or None when it cannot be known offline.
_Value = str | list[str] | None

_NO_VALUE = "AWS::NoValue"
_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class _Remove:
    """Marker for an ``Fn::If`` branch that is ``{"Ref": "AWS::NoValue"}``."""


_REMOVE = _Remove()


def evaluate_conditions(
    template: Mapping[str, Any],
    parameters: Mapping[str, str | None],
    pseudo: Mapping[str, str] | None = None,
) -> dict[str, bool | None]:
    """Decide every condition in ``template["Conditions"]``.

    ``parameters`` maps parameter names to their CloudFormation text (list
    parameters comma-joined). A value of ``None`` or an ``Unknown`` means "not
    known yet"; a parameter missing from ``parameters`` takes its ``Default``
    from the template, if it has one. ``pseudo`` supplies pseudo parameters
    such as ``AWS::Region`` or ``AWS::AccountId``; ``AWS::Partition`` and
    ``AWS::URLSuffix`` are derived from ``AWS::Region`` when not given.

    Returns each condition name mapped to ``True``, ``False``, or ``None``
    when it cannot be decided (unknown values, unsupported intrinsics, a
    reference to a missing condition, or a cycle of condition references).
    """
    return _Evaluator(template, parameters, pseudo).evaluate_all()


def active_template(
    template: Mapping[str, Any],
    parameters: Mapping[str, str | None],
    pseudo: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return a copy of ``template`` as CloudFormation would see it for these values.

    Entries of ``Resources`` and ``Outputs`` whose ``Condition`` evaluates to
    ``False`` are left out; those whose condition is ``True`` or undecided stay.
    Inside the kept entries, every ``Fn::If`` whose condition is decided is
    replaced by the chosen branch; a chosen ``{"Ref": "AWS::NoValue"}`` removes
    the enclosing key of a mapping or element of a list. Undecided ``Fn::If``
    stays as it is. ``template`` itself is never modified.
    """
    conditions = evaluate_conditions(template, parameters, pseudo)
    result: dict[str, Any] = copy.deepcopy(dict(template))
    for section in ("Resources", "Outputs"):
        entries = result.get(section)
        if not isinstance(entries, Mapping):
            continue
        kept: dict[str, Any] = {}
        for name, entry in entries.items():
            if isinstance(entry, Mapping):
                condition = entry.get("Condition")
                if isinstance(condition, str) and conditions.get(condition) is False:
                    continue
            resolved = _resolve_ifs(entry, conditions)
            if resolved is not _REMOVE:
                kept[name] = resolved
        result[section] = kept
    return result


def _is_no_value(node: Any) -> bool:
    return isinstance(node, Mapping) and len(node) == 1 and node.get("Ref") == _NO_VALUE


def _resolve_ifs(node: Any, conditions: Mapping[str, bool | None]) -> Any:
    """Replace decided ``Fn::If`` in ``node``; ``_REMOVE`` if ``node`` itself vanishes."""
    if isinstance(node, Mapping):
        if len(node) == 1 and "Fn::If" in node:
            args = node["Fn::If"]
            if isinstance(args, list) and len(args) == 3 and isinstance(args[0], str):
                decided = conditions.get(args[0])
                if decided is not None:
                    branch = args[1] if decided else args[2]
                    if _is_no_value(branch):
                        return _REMOVE
                    return _resolve_ifs(branch, conditions)
                # Undecided: keep the Fn::If, but settle decided ones inside it.
                branches = []
                for branch in args[1:]:
                    resolved = _resolve_ifs(branch, conditions)
                    branches.append({"Ref": _NO_VALUE} if resolved is _REMOVE else resolved)
                return {"Fn::If": [args[0], *branches]}
        out: dict[Any, Any] = {}
        for key, value in node.items():
            resolved = _resolve_ifs(value, conditions)
            if resolved is not _REMOVE:
                out[key] = resolved
        return out
    if isinstance(node, list):
        items = []
        for item in node:
            resolved = _resolve_ifs(item, conditions)
            if resolved is not _REMOVE:
                items.append(resolved)
        return items
    return node


def _partition_for(region: str) -> tuple[str, str]:
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def _is_list_type(declared: Any) -> bool:
    if not isinstance(declared, Mapping):
        return False
    kind = declared.get("Type")
    return isinstance(kind, str) and ("List<" in kind or kind == "CommaDelimitedList")


def _literal_text(value: Any) -> str | None:
    """CloudFormation text of a scalar template literal, or None."""
    if isinstance(value, Unknown):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _condition_refs(node: Any) -> set[str]:
    """Names of conditions referenced with ``{"Condition": name}`` anywhere in ``node``."""
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "Condition" and isinstance(value, str):
                found.add(value)
            else:
                found |= _condition_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _condition_refs(item)
    return found


class _Evaluator:
    """One evaluation of one template's conditions, with memoised results."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str | None],
        pseudo: Mapping[str, str] | None,
    ) -> None:
        conditions = template.get("Conditions")
        mappings = template.get("Mappings")
        declared = template.get("Parameters")
        self._conditions: Mapping[str, Any] = conditions if isinstance(conditions, Mapping) else {}
        self._mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        self._declared: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        self._parameters = parameters
        self._pseudo: dict[str, str] = dict(pseudo or {})
        region = self._pseudo.get("AWS::Region")
        if isinstance(region, str) and not isinstance(region, Unknown):
            partition, suffix = _partition_for(region)
            self._pseudo.setdefault("AWS::Partition", partition)
            self._pseudo.setdefault("AWS::URLSuffix", suffix)
        self._results: dict[str, bool | None] = {}
        self._in_progress: set[str] = set()
        self._cyclic = self._find_cycles()

    def evaluate_all(self) -> dict[str, bool | None]:
        return {name: self._named(name) for name in self._conditions if isinstance(name, str)}

    # -- conditions -----------------------------------------------------

    def _find_cycles(self) -> set[str]:
        """Conditions that (transitively) reference themselves."""
        edges = {name: _condition_refs(expr) for name, expr in self._conditions.items()}
        cyclic: set[str] = set()
        for start in edges:
            seen: set[str] = set()
            stack = list(edges[start])
            while stack:
                current = stack.pop()
                if current == start:
                    cyclic.add(start)
                    break
                if current in seen:
                    continue
                seen.add(current)
                stack.extend(edges.get(current, ()))
        return cyclic

    def _named(self, name: str) -> bool | None:
        if name in self._results:
            return self._results[name]
        if name in self._cyclic or name in self._in_progress or name not in self._conditions:
            return None
        self._in_progress.add(name)
        try:
            result = self._condition(self._conditions[name])
        finally:
            self._in_progress.discard(name)
        self._results[name] = result
        return result

    def _condition(self, expr: Any) -> bool | None:
        if isinstance(expr, bool):
            return expr
        if not isinstance(expr, Mapping) or len(expr) != 1:
            return None
        ((function, args),) = expr.items()
        if function == "Condition":
            return self._named(args) if isinstance(args, str) else None
        if function == "Fn::Equals":
            return self._equals(args)
        if not isinstance(args, list) or not args:
            return None
        if function == "Fn::Not":
            if len(args) != 1:
                return None
            operand = self._condition(args[0])
            return None if operand is None else not operand
        if function == "Fn::And":
            operands = [self._condition(arg) for arg in args]
            if False in operands:
                return False
            return None if None in operands else True
        if function == "Fn::Or":
            operands = [self._condition(arg) for arg in args]
            if True in operands:
                return True
            return None if None in operands else False
        return None

    def _equals(self, args: Any) -> bool | None:
        if not isinstance(args, list) or len(args) != 2:
            return None
        left, right = self._value(args[0]), self._value(args[1])
        if left is None or right is None:
            return None
        if isinstance(left, list) and isinstance(right, list):
            return left == right
        as_text = [",".join(side) if isinstance(side, list) else side for side in (left, right)]
        return as_text[0] == as_text[1]

    # -- values -----------------------------------------------------------

    def _value(self, expr: Any) -> _Value:
        if isinstance(expr, list):
            return self._text_list(expr)
        if not isinstance(expr, Mapping):
            return _literal_text(expr)
        if len(expr) != 1:
            return None
        ((function, args),) = expr.items()
        if function == "Ref":
            return self._ref(args) if isinstance(args, str) else None
        if not isinstance(args, list | str):
            return None
        if function == "Fn::Sub":
            return self._sub(args)
        if not isinstance(args, list):
            return None
        if function == "Fn::FindInMap":
            return self._find_in_map(args)
        if function == "Fn::Join":
            return self._join(args)
        if function == "Fn::Select":
            return self._select(args)
        if function == "Fn::Split":
            return self._split(args)
        return None

    def _text(self, expr: Any) -> str | None:
        value = self._value(expr)
        return value if isinstance(value, str) else None

    def _text_list(self, items: list[Any]) -> list[str] | None:
        texts = [self._text(item) for item in items]
        if any(text is None for text in texts):
            return None
        return [text for text in texts if text is not None]

    def _ref(self, name: str) -> _Value:
        if name == _NO_VALUE:
            return None
        if name.startswith("AWS::"):
            return _literal_text(self._pseudo.get(name))
        declared = self._declared.get(name)
        if name in self._parameters:
            text = _literal_text(self._parameters[name])
        elif isinstance(declared, Mapping) and "Default" in declared:
            default = declared["Default"]
            if isinstance(default, list):
                items = [_literal_text(item) for item in default]
                text = None if None in items else ",".join(i for i in items if i is not None)
            else:
                text = _literal_text(default)
        else:
            return None
        if text is None:
            return None
        if _is_list_type(declared):
            return [item.strip() for item in text.split(",")]
        return text

    def _find_in_map(self, args: list[Any]) -> _Value:
        if len(args) != 3:
            return None
        keys = [self._text(arg) for arg in args]
        if keys[0] is None or keys[1] is None or keys[2] is None:
            return None
        level: Any = self._mappings
        for key in keys:
            if not isinstance(level, Mapping) or key not in level:
                return None
            level = level[key]
        if isinstance(level, list):
            texts = [_literal_text(item) for item in level]
            return None if None in texts else [t for t in texts if t is not None]
        return _literal_text(level)

    def _join(self, args: list[Any]) -> _Value:
        if len(args) != 2:
            return None
        delimiter, items = self._text(args[0]), self._value(args[1])
        if delimiter is None or not isinstance(items, list):
            return None
        return delimiter.join(items)

    def _select(self, args: list[Any]) -> _Value:
        if len(args) != 2:
            return None
        index, items = self._text(args[0]), self._value(args[1])
        if index is None or not isinstance(items, list):
            return None
        try:
            position = int(index)
        except ValueError:
            return None
        return items[position] if 0 <= position < len(items) else None

    def _split(self, args: list[Any]) -> _Value:
        if len(args) != 2:
            return None
        delimiter, source = self._text(args[0]), self._text(args[1])
        if not delimiter or source is None:
            return None
        return source.split(delimiter)

    def _sub(self, args: list[Any] | str) -> _Value:
        variables: Mapping[str, Any]
        if isinstance(args, str):
            template, variables = args, {}
        elif len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], Mapping):
            template, variables = args[0], args[1]
        else:
            return None
        if isinstance(template, Unknown):
            return None
        unresolved = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            value = self._value(variables[name]) if name in variables else self._ref(name)
            if not isinstance(value, str):
                unresolved = True
                return ""
            return value

        text = _SUB_PLACEHOLDER.sub(replace, template)
        return None if unresolved else text
