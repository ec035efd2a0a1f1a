"""Lookups inside values: resolve them, list the stacks they depend on, validate them.

The same three functions serve stack ``variables`` and hook ``args``. Errors
carry ``key``, the path inside the value (``Subnets[0]``, ``Tags.Name``), so the
config layer can add the file and line.

A string that is exactly one lookup takes the lookup's value, whatever its type
(a list from ``split``, a troposphere object from ``file``). Otherwise each
lookup's value is put into the text, and must then be a string. Nested lookups
resolve inside out. Anything unknown makes the whole string ``Unknown``;
anything secret makes it ``Secret``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from stackyard.errors import LookupError_, StackyardError
from stackyard.lookups.context import ResolveContext
from stackyard.lookups.parser import Call, Template, parse
from stackyard.lookups.registry import LookupRegistry
from stackyard.lookups.secret import Secret, taint
from stackyard.unknown import Unknown


def resolve_value(
    value: Any, registry: LookupRegistry, ctx: ResolveContext, *, key: str | None = None
) -> Any:
    """``value`` with every lookup inside it (in nested dicts and lists) resolved.

    ``key`` names ``value`` in errors (e.g. the variable's name).
    """
    return _walk(value, key or "", lambda text: _resolve_template(parse(text), registry, ctx))


def dependencies_of(
    value: Any, registry: LookupRegistry, ctx: ResolveContext | None = None
) -> set[str]:
    """Config stack names the lookups inside ``value`` need deployed first (``output`` ones).

    With ``ctx``, nested lookups that need no AWS (``default``, ``envvar``...)
    are resolved first, so ``${output ${default src::vpc}::Id}`` names its
    stack; without it, only the text before a nested lookup is used.
    """
    found: set[str] = set()
    safe_ctx = replace(ctx, aws=None) if ctx is not None else None

    def visit(text: str) -> str:
        for call in parse(text).calls():
            lookup = registry.get(call.type)
            arg = call.arg.literal_prefix()
            if not call.arg.is_literal and safe_ctx is not None:
                try:
                    resolved = _resolve_args(call.arg, registry, safe_ctx)
                except StackyardError:
                    resolved = None
                if isinstance(resolved, str) and not isinstance(resolved, Unknown):
                    arg = resolved
            found.update(lookup.dependencies(arg))
        return text

    _walk(value, "", visit)
    return found


def validate_value(value: Any, registry: LookupRegistry, *, key: str | None = None) -> None:
    """Check every lookup inside ``value``: syntax, known types, and each literal argument."""

    def visit(text: str) -> str:
        for call in parse(text).calls():
            lookup = registry.get(call.type)
            if call.arg.is_literal:
                lookup.validate(call.arg.source)
        return text

    _walk(value, key or "", visit)


def lookups_in(value: Any) -> Iterator[Call]:
    """Every lookup call inside ``value``, nested ones included (syntax errors raise)."""
    if isinstance(value, str):
        yield from parse(value).calls()
    elif isinstance(value, dict):
        for item in value.values():
            yield from lookups_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from lookups_in(item)


def _walk(value: Any, path: str, on_text: Callable[[str], Any]) -> Any:
    """Apply ``on_text`` to every string inside ``value``; add ``path`` to lookup errors."""
    if isinstance(value, str):
        try:
            return on_text(value)
        except LookupError_ as error:
            if error.key is None and path:
                error.key = path
            raise
    if isinstance(value, dict):
        return {k: _walk(v, f"{path}.{k}" if path else str(k), on_text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, f"{path}[{i}]", on_text) for i, v in enumerate(value)]
    return value


def _resolve_template(template: Template, registry: LookupRegistry, ctx: ResolveContext) -> Any:
    call = template.single_call
    if call is not None:
        return _resolve_call(call, registry, ctx)
    if template.is_literal:
        return template.source
    return _join(template, [_part(p, registry, ctx) for p in template.parts])


def _resolve_args(template: Template, registry: LookupRegistry, ctx: ResolveContext) -> str:
    """A call's argument as text, its nested lookups resolved."""
    if template.is_literal:
        return template.source
    return _join(template, [_part(p, registry, ctx) for p in template.parts])


def _part(part: str | Call, registry: LookupRegistry, ctx: ResolveContext) -> Any:
    return part if isinstance(part, str) else _resolve_call(part, registry, ctx)


def _join(template: Template, values: list[Any]) -> str:
    for part, value in zip(template.parts, values, strict=True):
        if not isinstance(value, str):
            assert isinstance(part, Call)
            raise LookupError_(
                f"{part.source} gives a {type(value).__name__}, which cannot be joined into text "
                f"{template.source!r}",
                hint="a lookup that gives a list, dict or object must be the whole value",
            )
    if any(isinstance(v, Unknown) for v in values):
        return Unknown(template.source)
    text = "".join(values)
    return Secret(text) if any(isinstance(v, Secret) for v in values) else text


def _resolve_call(call: Call, registry: LookupRegistry, ctx: ResolveContext) -> Any:
    lookup = registry.get(call.type)
    arg = _resolve_args(call.arg, registry, ctx)
    if isinstance(arg, Unknown):
        return Unknown(call.source[2:-1])
    if lookup.needs_aws and ctx.aws is None:
        if call.arg.is_literal:
            lookup.validate(arg)
        return Unknown(call.source[2:-1] if isinstance(arg, Secret) else f"{call.type} {arg}")
    secret_arg = isinstance(arg, Secret)
    try:
        lookup.validate(arg)
        result = lookup.resolve(arg, ctx)
    except StackyardError as error:
        if secret_arg:
            raise _withheld(call) from None
        raise error
    except Exception as exc:  # a failing lookup (often user code) is reported, not a crash
        if secret_arg:
            raise _withheld(call) from None
        raise LookupError_(
            f"lookup {call.source} failed: {type(exc).__name__}: {exc}",
            hint=f"the {call.type!r} lookup raised an error while resolving",
        ) from exc
    return taint(result) if secret_arg else result


def _withheld(call: Call) -> LookupError_:
    return LookupError_(
        f"lookup {call.source} failed (details withheld: its argument holds a secret)"
    )
