"""One registry of lookup types: built-ins (by entry point) and custom lookups (by import path).

Built-in lookups are declared as entry points in the ``stackyard.lookups``
group, the way a third-party package would add its own; a built-in that no
entry point provides (stackyard run from a source tree) comes from
:data:`BUILTINS`. The registry is an explicit object: nothing global changes
when a config registers its custom lookups.
"""

from __future__ import annotations

import difflib
import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from stackyard.errors import LookupError_
from stackyard.lookups.base import Lookup
from stackyard.lookups.custom import as_lookup, load_object

ENTRY_POINT_GROUP = "stackyard.lookups"

# name -> "module:Class"; the same text as the pyproject entry points.
BUILTINS: dict[str, str] = {
    "ami": "stackyard.lookups.ami:AmiLookup",
    "default": "stackyard.lookups.default:DefaultLookup",
    "dynamodb": "stackyard.lookups.dynamodb:DynamodbLookup",
    "envvar": "stackyard.lookups.envvar:EnvvarLookup",
    "file": "stackyard.lookups.file:FileLookup",
    "hook_data": "stackyard.lookups.hook_data:HookDataLookup",
    "kms": "stackyard.lookups.kms:KmsLookup",
    "output": "stackyard.lookups.output:OutputLookup",
    "rxref": "stackyard.lookups.rxref:RxrefLookup",
    "split": "stackyard.lookups.split:SplitLookup",
    "ssm": "stackyard.lookups.ssmstore:SsmLookup",
    "ssmstore": "stackyard.lookups.ssmstore:SsmstoreLookup",
    "xref": "stackyard.lookups.xref:XrefLookup",
}


class LookupRegistry:
    """Lookup types by name."""

    def __init__(self, lookups: Mapping[str, Lookup] | None = None) -> None:
        self._lookups: dict[str, Lookup] = dict(lookups or {})
        # Built-ins and plugins, imported when first used: a project reads a few lookup
        # types of a dozen, and importing them all costs every command's start ~10 ms.
        self._deferred: dict[str, Callable[[], Any]] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_builtins(cls) -> LookupRegistry:
        """A registry holding every lookup that ships with stackyard or a plugin package."""
        registry = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            registry._defer(
                ep.name, functools.partial(_load_entry_point, ep.name, ep.value, ep.load)
            )
        for name, path in BUILTINS.items():
            if name not in registry._deferred:
                registry._defer(name, functools.partial(load_object, path, lookup_name=name))
        return registry

    def _defer(self, name: str, load: Callable[[], Any]) -> None:
        _check_name(name)
        self._deferred[name] = load

    def register(self, name: str, handler: Any) -> None:
        """Register ``handler`` as ``name``: a Lookup, or a stacker-style handler class/function."""
        _check_name(name)
        with self._lock:
            self._lookups[name] = as_lookup(name, handler)
            self._deferred.pop(name, None)

    def register_path(self, name: str, path: str) -> None:
        """Register the object at import path ``path`` (``pkg.module.Handler``) as ``name``."""
        self.register(name, load_object(path, lookup_name=name))

    def register_custom(self, lookups: Mapping[str, str]) -> None:
        """Register a config's ``lookups:`` block: ``{name: import path}``."""
        for name, path in lookups.items():
            self.register_path(name, path)

    def get(self, name: str) -> Lookup:
        """The lookup called ``name``; ``LookupError_`` with a suggestion if there is none."""
        found = self._lookups.get(name)
        if found is not None:
            return found
        with self._lock:
            if name in self._lookups:  # loaded by another thread meanwhile
                return self._lookups[name]
            load = self._deferred.get(name)
            if load is None:
                raise unknown_lookup(name, self.names())
            lookup = as_lookup(name, load())
            self._lookups[name] = lookup
            del self._deferred[name]
            return lookup

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted({*self._lookups, *self._deferred})

    def __contains__(self, name: object) -> bool:
        return name in self._lookups or name in self._deferred


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch in "${}" for ch in name):
        raise LookupError_(f"{name!r} cannot be a lookup name", hint="use letters, digits, _")


def unknown_lookup(name: str, known: list[str]) -> LookupError_:
    """The error for a lookup type nobody registered, with the most helpful hint we can give."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif "::" in name:
        hint = (
            "to read a stack output write ${output STACK::OUTPUT}; "
            "the bare ${STACK::OUTPUT} form was removed in stacker 1.0"
        )
    else:
        hint = f"known lookups: {', '.join(known)}; custom ones go in the config's 'lookups:'"
    return LookupError_(f"unknown lookup type {name!r}", hint=hint)


def entry_points(group: str) -> Any:
    """The installed entry points of ``group`` (imported late: it is slow to import)."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def _load_entry_point(name: str, value: str, load: Any) -> Any:
    try:
        return load()
    except Exception as exc:  # a broken plugin is reported, not a crash
        raise LookupError_(
            f"lookup {name!r} from entry point {value!r} cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
