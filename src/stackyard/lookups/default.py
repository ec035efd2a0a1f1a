"""``${default KEY::FALLBACK}``: a value of the run's environment (file), or a fallback."""

from __future__ import annotations

from stackyard.lookups.base import Lookup, split_pair
from stackyard.lookups.context import ResolveContext


class DefaultLookup(Lookup):
    """``KEY`` from the environment file or ``-e`` values, else ``FALLBACK``."""

    name = "default"
    description = "Environment value with a fallback: KEY::FALLBACK"

    def validate(self, arg: str) -> None:
        key, _ = split_pair(self, arg, "::", "KEY::FALLBACK")
        if not key.strip():
            raise self.error(
                arg, "the key before '::' is empty", hint="write ${default KEY::VALUE}"
            )

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        key, fallback = split_pair(self, arg, "::", "KEY::FALLBACK")
        return ctx.context.environment.get(key.strip(), fallback)
