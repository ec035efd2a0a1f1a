"""``${split DELIMITER::TEXT}``: a list, from text split at a delimiter."""

from __future__ import annotations

from stackyard.lookups.base import Lookup, split_pair
from stackyard.lookups.context import ResolveContext


class SplitLookup(Lookup):
    """Splits text into a list, e.g. ``${split ,::${output vpc::Subnets}}``."""

    name = "split"
    description = "List from text: DELIMITER::TEXT"

    def validate(self, arg: str) -> None:
        delimiter, _ = split_pair(self, arg, "::", "DELIMITER::TEXT")
        if not delimiter:
            raise self.error(arg, "the delimiter is empty", hint="write ${split ,::a,b,c}")

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        self.validate(arg)
        delimiter, text = arg.split("::", 1)
        return text.split(delimiter)
