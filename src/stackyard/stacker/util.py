"""What blueprints use of ``stacker.util``: ``cf_safe_name``, ``load_object_from_string``,
``merge_map``, ``camel_to_snake``."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["camel_to_snake", "cf_safe_name", "load_object_from_string", "merge_map"]


def cf_safe_name(name: str) -> str:
    """A name CloudFormation accepts as a logical id: each alphanumeric run, capitalised."""
    parts = re.split(r"[^0-9A-Za-z]+", name)
    return "".join(part[:1].upper() + part[1:] for part in parts if part)


def load_object_from_string(fqcn: str) -> Any:
    """The object ``package.module.name`` names."""
    module_name, _, attr = fqcn.rpartition(".")
    module = importlib.import_module(module_name or "builtins")
    return getattr(module, attr)


def merge_map(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """``b`` merged into ``a``, mappings recursively, ``b`` winning otherwise."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(out.get(key), Mapping) and isinstance(value, Mapping):
            out[key] = merge_map(out[key], value)
        else:
            out[key] = value
    return out


def camel_to_snake(name: str) -> str:
    """``MyClassName`` -> ``my_class_name``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
