"""Custom lookups from a config's ``lookups:`` block, in every form stacker 1.7 accepted.

- a :class:`~stackyard.lookups.base.Lookup` subclass (stackyard's own interface);
- a stacker-style handler class with a ``handle(value, context, provider, **kw)``
  classmethod, optionally ``dependencies(lookup_data)`` -- subclass
  :class:`LookupHandler` in place of ``stacker.lookups.handlers.LookupHandler``;
- an old-style function ``handler(value, **kwargs)``.

Custom lookups are treated as needing AWS (they are ``Unknown`` in ``render``)
unless the class or function sets ``needs_aws = False``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

from stackyard.errors import LookupError_
from stackyard.lookups.base import Lookup
from stackyard.lookups.context import ResolveContext


class LookupHandler:
    """stacker's base class for new-style lookups; subclass it and override ``handle``."""

    @classmethod
    def handle(cls, value: str, context: Any, provider: Any, **kwargs: Any) -> Any:
        """Perform the lookup of ``value``."""
        raise NotImplementedError

    @classmethod
    def dependencies(cls, lookup_data: Any) -> set[str]:
        """Config stack names this lookup needs deployed first."""
        return set()


class _LiteralData:
    """Enough of stacker's parsed lookup data for a handler's ``dependencies``."""

    def __init__(self, text: str) -> None:
        self._text = text

    def resolved(self) -> bool:
        return True

    def value(self) -> str:
        return self._text

    def __iter__(self) -> Iterator[_LiteralData]:
        yield self


class ProviderShim:
    """What stacker handlers used of their ``provider`` argument: region and outputs."""

    def __init__(self, ctx: ResolveContext) -> None:
        self._ctx = ctx
        self.region = ctx.region

    def get_outputs(self, stack_name: str) -> dict[str, str]:
        """All outputs of the stack named ``stack_name`` on AWS."""
        if self._ctx.aws is None:
            raise LookupError_(f"outputs of {stack_name} need AWS")
        return self._ctx.aws.stack_outputs(stack_name, self._ctx.region)

    def get_output(self, stack_name: str, output: str) -> str:
        """One output of the stack named ``stack_name`` on AWS."""
        return self.get_outputs(stack_name)[output]


class StackerHandlerLookup(Lookup):
    """Runs a stacker-style handler class or function under a config-given name."""

    def __init__(self, name: str, handler: Any) -> None:
        self.name = name
        self.handler = handler
        self.needs_aws = bool(getattr(handler, "needs_aws", True))
        doc = inspect.getdoc(handler) or ""
        self.description = doc.splitlines()[0] if doc else f"custom lookup {name}"
        self._is_class = inspect.isclass(handler)

    def dependencies(self, arg: str) -> set[str]:
        deps = getattr(self.handler, "dependencies", None) if self._is_class else None
        if deps is None:
            return set()
        return {str(stack) for stack in deps(_LiteralData(arg))}

    def resolve(self, arg: str, ctx: ResolveContext) -> Any:
        call = self.handler.handle if self._is_class else self.handler
        return call(value=arg, context=ctx.context, provider=ProviderShim(ctx))


def load_object(path: str, *, lookup_name: str) -> Any:
    """Import ``package.module.attribute`` (or ``package.module:attribute``)."""
    module_name, sep, attribute = path.replace(":", ".").rpartition(".")
    hint = "custom lookups are given as 'package.module.Name', importable from sys_path"
    if not sep or not module_name or not attribute:
        raise LookupError_(
            f"custom lookup {lookup_name!r}: {path!r} is not an import path", hint=hint
        )
    from stackyard.stacker_imports import install

    install()  # lookups written for stacker import `stacker.*` unchanged
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is reported, not raised
        raise LookupError_(
            f"custom lookup {lookup_name!r}: cannot import {module_name}: "
            f"{type(exc).__name__}: {exc}",
            hint=hint,
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise LookupError_(
            f"custom lookup {lookup_name!r}: module {module_name} has no {attribute!r}", hint=hint
        ) from None


def as_lookup(name: str, handler: Any) -> Lookup:
    """``handler`` (any supported form) as a :class:`Lookup` registered under ``name``."""
    if isinstance(handler, Lookup):
        lookup = handler
    elif inspect.isclass(handler) and issubclass(handler, Lookup):
        lookup = handler()
    elif _is_stacker_handler(handler):
        return StackerHandlerLookup(name, handler)
    else:
        raise LookupError_(
            f"custom lookup {name!r}: {handler!r} is not a lookup",
            hint="give a Lookup subclass, a class with a handle() classmethod, or a function",
        )
    if lookup.name != name:
        # The config's name wins; do not rename a shared instance.
        lookup = _Renamed(name, lookup)
    return lookup


def _is_stacker_handler(handler: Any) -> bool:
    if inspect.isclass(handler):
        return callable(getattr(handler, "handle", None))
    return callable(handler)


class _Renamed(Lookup):
    """A lookup registered under a different name than its own."""

    def __init__(self, name: str, inner: Lookup) -> None:
        self.name = name
        self.inner = inner
        self.needs_aws = inner.needs_aws
        self.description = inner.description

    def validate(self, arg: str) -> None:
        self.inner.validate(arg)

    def dependencies(self, arg: str) -> set[str]:
        return self.inner.dependencies(arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> Any:
        return self.inner.resolve(arg, ctx)
