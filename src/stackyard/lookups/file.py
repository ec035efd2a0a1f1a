"""``${file CODEC:file://PATH}``: a file's contents, decoded by one of stacker's codecs.

=====================  ==========================================================
codec                  result
=====================  ==========================================================
plain                  the text
base64                 the text, base64-encoded (UTF-8), as a string
parameterized          a troposphere ``GenericHelperFn``: the text, with each
                       ``{{Name}}`` turned into ``{"Ref": "Name"}`` inside an
                       ``Fn::Join`` with ``""`` (just the text if none occur)
parameterized-b64      the same wrapped in troposphere ``Base64`` (EC2 UserData)
json / yaml            the parsed data (dicts, lists, scalars)
json-parameterized     the parsed data with every string parameterized as above
yaml-parameterized
=====================  ==========================================================

``PATH`` is relative to the config file's folder. As in stacker, text after the
codec that does not start with ``file://`` is used itself as the contents.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from stackyard.lookups.base import Lookup, read_value_from_path, split_pair
from stackyard.lookups.context import ResolveContext

FORM = "CODEC:file://PATH"

# stacker's placeholder: {{Name}}, where Name may hold word characters, ':' and '|'.
PLACEHOLDER = re.compile(r"\{\{([\w:|]+)\}\}")


def parameterize_string(text: str) -> Any:
    """``text`` as a troposphere ``GenericHelperFn``, ``{{Name}}`` placeholders made Refs."""
    from troposphere import GenericHelperFn

    parts: list[Any] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(text[last : match.start()])
        parts.append({"Ref": match.group(1)})
        last = match.end()
    if not parts:
        return GenericHelperFn(text)
    parts.append(text[last:])
    return GenericHelperFn({"Fn::Join": ["", parts]})


def parameterize_data(data: Any) -> Any:
    """``data`` with every string inside it parameterized; other values unchanged."""
    if isinstance(data, str):
        return parameterize_string(data)
    if isinstance(data, dict):
        return {key: parameterize_data(value) for key, value in data.items()}
    if isinstance(data, list):
        return [parameterize_data(item) for item in data]
    return data


def _parameterized_b64(text: str) -> Any:
    from troposphere import Base64

    return Base64(parameterize_string(text).data)


def _yaml(text: str) -> Any:
    return yaml.safe_load(text)


CODECS: dict[str, Callable[[str], Any]] = {
    "plain": lambda text: text,
    "base64": lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii"),
    "parameterized": parameterize_string,
    "parameterized-b64": _parameterized_b64,
    "json": json.loads,
    "json-parameterized": lambda text: parameterize_data(json.loads(text)),
    "yaml": _yaml,
    "yaml-parameterized": lambda text: parameterize_data(_yaml(text)),
}


class FileLookup(Lookup):
    """A file's contents, decoded by a codec."""

    name = "file"
    description = f"File contents through a codec: {FORM}; codecs: {', '.join(CODECS)}"

    def _parse(self, arg: str) -> tuple[str, str]:
        codec, path = split_pair(self, arg.strip(), ":", FORM)
        if codec not in CODECS:
            close = difflib.get_close_matches(codec, list(CODECS), n=1)
            hint = f"did you mean {close[0]}?" if close else f"codecs: {', '.join(CODECS)}"
            raise self.error(arg, f"unknown codec {codec!r}", hint=hint)
        return codec, path

    def validate(self, arg: str) -> None:
        self._parse(arg)

    def resolve(self, arg: str, ctx: ResolveContext) -> object:
        codec, path = self._parse(arg)
        text = read_value_from_path(self, path, ctx.config_dir, strip=False)
        try:
            return CODECS[codec](text)
        except (ValueError, yaml.YAMLError) as exc:
            raise self.error(arg, f"cannot decode as {codec}: {exc}") from exc
