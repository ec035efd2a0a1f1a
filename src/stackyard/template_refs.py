"""Which names a piece of a CloudFormation template refers to.

Shared by the planner (which resources a changed parameter reaches) and the local
CloudFormation (dependency order, change-set details), so it imports nothing else
from stackyard.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SUB_VARIABLE", "attribute_references", "references", "sub_references"]

# `${Name}` or `${Name.Attribute}` in a Fn::Sub string; `${!Literal}` is not a reference.
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def sub_references(text: str) -> list[str]:
    """The names a ``Fn::Sub`` string refers to (``${X}`` and ``${X.Attr}``), without literals."""
    return [m.group(1).strip() for m in SUB_VARIABLE.finditer(text)]


def references(node: Any) -> set[str]:
    """Every name ``node`` refers to by Ref, Fn::GetAtt or Fn::Sub (logical ids, parameters)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Ref" and isinstance(item, str):
                    found.add(item)
                elif key == "Fn::GetAtt":
                    target = item[0] if isinstance(item, list) and item else item
                    if isinstance(target, str):
                        found.add(target.split(".", 1)[0])
                elif key == "Fn::Sub":
                    text, mapping = (item[0], item[1]) if isinstance(item, list) else (item, {})
                    local = mapping if isinstance(mapping, dict) else {}
                    if isinstance(text, str):
                        for name in sub_references(text):
                            if name not in local:
                                found.add(name.split(".", 1)[0])
                    walk(mapping)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return found


def attribute_references(node: Any) -> set[tuple[str, str]]:
    """Every ``(logical id, attribute)`` ``node`` reads by Fn::GetAtt or ``${X.Attr}``."""
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Fn::GetAtt":
                    if isinstance(item, list) and len(item) == 2 and isinstance(item[1], str):
                        found.add((str(item[0]), item[1]))
                    elif isinstance(item, str) and "." in item:
                        target, attribute = item.split(".", 1)
                        found.add((target, attribute))
                elif key == "Fn::Sub":
                    text = item[0] if isinstance(item, list) and item else item
                    if isinstance(text, str):
                        for name in sub_references(text):
                            if "." in name:
                                target, attribute = name.split(".", 1)
                                found.add((target, attribute))
                    walk(item[1] if isinstance(item, list) and len(item) > 1 else None)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return found
