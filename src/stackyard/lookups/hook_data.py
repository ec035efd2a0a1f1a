"""``${hook_data DATA_KEY::KEY}``: a value a hook returned (its ``data_key`` in the config).

Deeper values are reached with more ``::`` parts: ``DATA_KEY::KEY::SUBKEY``.
Hooks only run when stackyard acts on AWS, so without AWS the value is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.lookups.base import Lookup
from stackyard.lookups.context import ResolveContext

FORM = "DATA_KEY::KEY"


class HookDataLookup(Lookup):
    """A value stored by a hook with ``data_key``."""

    name = "hook_data"
    # Hook results exist only once hooks ran, which needs AWS.
    needs_aws = True
    description = "Value returned by a hook: DATA_KEY::KEY[::SUBKEY...]"

    def _parse(self, arg: str) -> list[str]:
        keys = [key.strip() for key in arg.strip().split("::")]
        if len(keys) < 2 or not all(keys):
            raise self.error(arg, f"expected {FORM}", hint=f"write ${{hook_data {FORM}}}")
        return keys

    def validate(self, arg: str) -> None:
        self._parse(arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        data: Any = ctx.context.hook_data
        walked: list[str] = []
        for key in self._parse(arg):
            if not isinstance(data, Mapping) or key not in data:
                where = "::".join(walked) or "hook data"
                have = sorted(map(str, data)) if isinstance(data, Mapping) else []
                hint = f"{where} has: {', '.join(have)}" if have else "did the hook run and set it?"
                raise self.error(arg, f"{where} has no key {key!r}", hint=hint)
            data = data[key]
            walked.append(key)
        return data
