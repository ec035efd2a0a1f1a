"""``${envvar NAME}``: a variable of the process environment (or ``file://`` naming it)."""

from __future__ import annotations

import difflib

from stackyard.lookups.base import Lookup, is_file_ref, read_value_from_path
from stackyard.lookups.context import ResolveContext


class EnvvarLookup(Lookup):
    """The value of an environment variable of the stackyard process."""

    name = "envvar"
    description = "Process environment variable: NAME or file://PATH holding the name"

    def validate(self, arg: str) -> None:
        if is_file_ref(arg):
            return
        if not arg.strip() or any(ch.isspace() for ch in arg.strip()):
            raise self.error(arg, "expected one variable name", hint="write ${envvar NAME}")

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        var = read_value_from_path(self, arg, ctx.config_dir).strip()
        try:
            return ctx.environ[var]
        except KeyError:
            close = difflib.get_close_matches(var, list(ctx.environ), n=1)
            hint = f"did you mean {close[0]}?" if close else "export it before running stackyard"
            raise self.error(arg, f"environment variable {var!r} is not set", hint=hint) from None
