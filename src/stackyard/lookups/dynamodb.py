"""``${dynamodb [REGION:]TABLE@KEY_NAME:KEY_VALUE.ATTR[.ATTR...]}``: a value in a DynamoDB item.

Each part after the key may carry its DynamoDB type in brackets, ``[S]``
(the default), ``[N]``, ``[M]`` or ``[L]``; a part inside a map names the map's
type on the part before it, as in stacker::

    ${dynamodb us-east-1:Config@Id:prod.Settings[M].Port[N]}

Strings come back as ``str``, numbers as ``int`` (or ``float``), lists and maps
as plain Python lists and dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stackyard.lookups.base import Lookup, is_file_ref, read_value_from_path
from stackyard.lookups.context import ResolveContext

FORM = "[REGION:]TABLE@KEY_NAME:KEY_VALUE.ATTRIBUTE[.ATTRIBUTE...]"
TYPES = ("S", "N", "M", "L")
_TYPED = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<type>[^\]]+)\])?$")


@dataclass(frozen=True)
class DynamoQuery:
    """A parsed ``dynamodb`` argument."""

    region: str | None
    table: str
    key: dict[str, dict[str, str]]
    path: tuple[tuple[str, str], ...]


def plain(attribute: dict[str, Any]) -> Any:
    """A typed DynamoDB attribute (``{"S": "x"}``) as a plain Python value."""
    ((kind, value),) = attribute.items()
    if kind == "N":
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if kind == "M":
        return {k: plain(v) for k, v in value.items()}
    if kind == "L":
        return [plain(v) for v in value]
    if kind == "NULL":
        return None
    return value


class DynamodbLookup(Lookup):
    """A value from an item of a DynamoDB table."""

    name = "dynamodb"
    needs_aws = True
    description = "Value from a DynamoDB item: " + FORM

    def _typed(self, arg: str, part: str) -> tuple[str, str]:
        match = _TYPED.match(part)
        if not match:
            raise self.error(arg, f"{part!r} is not NAME or NAME[TYPE]", hint=f"write {FORM}")
        kind = match.group("type") or "S"
        if kind not in TYPES:
            raise self.error(
                arg, f"unsupported DynamoDB type {kind!r}", hint=f"use one of {', '.join(TYPES)}"
            )
        return match.group("name"), kind

    def parse(self, arg: str) -> DynamoQuery:
        """Parse the argument into a :class:`DynamoQuery`; raise ``LookupError_`` if malformed."""
        text = arg.strip()
        table_info, sep, keys = text.partition("@")
        region, _, table = table_info.rpartition(":")
        key_name, sep2, key_rest = keys.partition(":")
        parts = key_rest.split(".")
        if not sep or not table or not sep2 or not key_name or len(parts) < 2 or not all(parts):
            raise self.error(arg, f"expected {FORM}", hint=f"write ${{dynamodb {FORM}}}")
        key_value, key_type = self._typed(arg, parts[0])
        path = tuple(self._typed(arg, part) for part in parts[1:])
        return DynamoQuery(region or None, table, {key_name: {key_type: key_value}}, path)

    def validate(self, arg: str) -> None:
        if not is_file_ref(arg):
            self.parse(arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        query = self.parse(read_value_from_path(self, arg, ctx.config_dir))
        item = ctx.aws.dynamodb_item(query.table, query.key, query.region or ctx.region)
        if item is None:
            raise self.error(arg, f"table {query.table} has no item with key {query.key}")
        data: Any = item
        outer_type: str | None = None
        for name, kind in query.path:
            container = data if outer_type is None else data.get(outer_type)
            if not isinstance(container, dict) or name not in container:
                raise self.error(arg, f"the item has no attribute {name!r} there")
            data = container[name]
            outer_type = kind
        assert outer_type is not None  # parse() requires at least one attribute
        if not isinstance(data, dict) or outer_type not in data:
            raise self.error(arg, f"the attribute is not of type {outer_type}")
        return plain({outer_type: data[outer_type]})
