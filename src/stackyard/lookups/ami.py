"""``${ami [REGION@]owners:OWNERS name_regex:REGEX [executable_users:USERS] [FILTER:VALUES...]}``.

The id of the newest image owned by one of ``OWNERS`` (comma-separated:
account ids, ``self``, ``amazon``) whose whole name matches ``REGEX``. Any
other ``key:value`` pair becomes a DescribeImages filter, its values split at
commas (e.g. ``architecture:x86_64``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.lookups.base import Lookup, is_file_ref, read_value_from_path, split_region
from stackyard.lookups.context import ResolveContext

FORM = "[REGION@]owners:OWNER[,OWNER] name_regex:REGEX [FILTER:VALUE[,VALUE]...]"


@dataclass(frozen=True)
class AmiQuery:
    """A parsed ``ami`` argument."""

    region: str | None
    owners: tuple[str, ...]
    name_regex: str
    executable_users: tuple[str, ...]
    filters: Mapping[str, tuple[str, ...]]


def newest_matching_image(images: Iterable[Mapping[str, Any]], name_regex: str) -> str | None:
    """The ``ImageId`` of the newest image whose whole ``Name`` matches, or ``None``."""
    pattern = re.compile(name_regex)
    for image in sorted(images, key=lambda i: str(i.get("CreationDate", "")), reverse=True):
        if pattern.fullmatch(str(image.get("Name", ""))):
            return str(image["ImageId"])
    return None


class AmiLookup(Lookup):
    """The newest AMI that matches owners, a name pattern and filters."""

    name = "ami"
    needs_aws = True
    description = "Newest matching AMI id: " + FORM

    def parse(self, arg: str) -> AmiQuery:
        """Parse the argument into an :class:`AmiQuery`; raise ``LookupError_`` if malformed."""
        region, rest = split_region(arg.strip())
        values: dict[str, str] = {}
        for token in rest.split():
            key, sep, value = token.partition(":")
            if not sep or not key or not value:
                raise self.error(arg, f"{token!r} is not KEY:VALUE", hint=f"write ${{ami {FORM}}}")
            if key in values:
                raise self.error(arg, f"{key!r} is given twice")
            values[key] = value
        owners = values.pop("owners", "")
        name_regex = values.pop("name_regex", "")
        for label, given in (("owners", owners), ("name_regex", name_regex)):
            if not given:
                raise self.error(arg, f"'{label}' is required", hint=f"write ${{ami {FORM}}}")
        try:
            re.compile(name_regex)
        except re.error as exc:
            raise self.error(arg, f"name_regex is not a valid regular expression: {exc}") from exc
        users = values.pop("executable_users", "")
        return AmiQuery(
            region=region,
            owners=tuple(owners.split(",")),
            name_regex=name_regex,
            executable_users=tuple(users.split(",")) if users else (),
            filters={key: tuple(value.split(",")) for key, value in values.items()},
        )

    def validate(self, arg: str) -> None:
        if not is_file_ref(arg):
            self.parse(arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        assert ctx.aws is not None
        query = self.parse(read_value_from_path(self, arg, ctx.config_dir))
        return ctx.aws.ami_search(
            query.owners,
            query.filters,
            query.name_regex,
            query.region or ctx.region,
            query.executable_users,
        )
