"""``docs/config.md``, generated from the config model: every key, its type, default and an
example, section by section.

    python -m stackyard.config.reference > docs/config.md

A test regenerates it and fails when the file is out of date, so the reference cannot drift
from the model it describes.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stackyard.config.model import Config, Hook, Protection, Stack, Target

__all__ = ["render_reference"]

SECTIONS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("Top level", Config, "The keys of the config file itself."),
    ("Stacks", Stack, "Each entry of `stacks:`."),
    ("Targets", Target, "Each entry of `targets:`: a named group of stacks."),
    ("Hooks", Hook, "Each entry of `pre_build`, `post_build`, `pre_destroy`, `post_destroy`."),
    ("Protection", Protection, "The project-wide `protection:` map."),
)

HEADER = """\
# Config reference

Generated from the config model (`stackyard.config.model`) by
`python -m stackyard.config.reference`; do not edit by hand.

A config is YAML. `${KEY}` is replaced from the environment file or `-e KEY=VALUE`;
`${type argument}` is a lookup. Unknown keys in a stack, target, hook or `protection` are
errors with a did-you-mean; unknown top-level keys are ignored (that is where YAML anchors
live).
"""


def render_reference() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER]
    for title, model, intro in SECTIONS:
        parts.append(f"\n## {title}\n\n{intro}\n")
        parts.append("\n| key | type | default | description | example |\n|---|---|---|---|---|\n")
        for name, info in model.model_fields.items():
            key = info.alias or name
            parts.append(
                f"| `{key}` | {_type(info.annotation)} | {_default(info)} | "
                f"{_cell(info.description or '')} | {_example(info)} |\n"
            )
    return "".join(parts)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(annotation: Any) -> str:
    return f"`{_type_name(annotation)}`".replace("|", "\\|")


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " or ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}" if len(args) == 2 else "map"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__.lower()
    names = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if annotation is Any:
        return "any"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return ""
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`".replace("|", "\\|")


def _example(info: FieldInfo) -> str:
    if not info.examples:
        return ""
    return "<br>".join(f"`{json.dumps(e)}`".replace("|", "\\|") for e in info.examples)


if __name__ == "__main__":
    print(render_reference(), end="")
