"""Limits on what stackyard reads, so hostile input is refused instead of expanded.

- Size: a config, environment file or template over :data:`MAX_BYTES` is refused.
- YAML: a document whose nodes, with every alias expanded, number more than
  :data:`MAX_NODES` (a "billion laughs" bomb is a few hundred bytes) or that nests deeper
  than :data:`MAX_DEPTH` is refused after composing, before anything is constructed.
- Text must be UTF-8; a byte that is not is named with its offset and line.

Each check raises :class:`InputLimitError` with the line it can name; callers turn it into
their own error (a config or a blueprint error) with the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "InputLimitError",
    "check_data_depth",
    "check_node",
    "check_size",
    "decode_utf8",
    "read_utf8",
]

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 200_000


class InputLimitError(ValueError):
    """Input refused by a limit; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


def check_size(text: str | bytes) -> None:
    """Refuse a document larger than :data:`MAX_BYTES`."""
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > MAX_BYTES:
        raise InputLimitError(
            f"the file is {size} bytes; the limit is {MAX_BYTES}",
            hint="split it, or check that it is the file you meant",
        )


def decode_utf8(data: bytes) -> str:
    """``data`` as text, or an InputLimitError naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputLimitError(
            f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8 text",
            line=line,
            hint="save the file as UTF-8",
        ) from None


def read_utf8(path: str | Path) -> str:
    """Read a file as UTF-8 text within :data:`MAX_BYTES` (OSError passes through)."""
    file = Path(path)
    with file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    check_size(data)
    return decode_utf8(data)


def check_node(root: yaml.Node | None) -> None:
    """Refuse a composed YAML document that is too deep or expands to too many nodes.

    Aliases share node objects, so sizes are counted once per node and reused: the walk
    costs the document's size, not its expansion.
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while pending:
        node, children_done = pending.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in active:  # a recursive alias: it cannot be expanded at all
                raise InputLimitError(
                    "a YAML alias refers to the node that contains it",
                    line=node.start_mark.line + 1,
                )
            active.add(key)
            pending.append((node, True))
            pending.extend((child, False) for child in children if id(child) not in sizes)
            continue
        active.discard(key)
        sizes[key] = 1 + sum(sizes[id(c)] for c in children)
        depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
        if sizes[key] > MAX_NODES:
            raise InputLimitError(
                f"YAML aliases expand this document past {MAX_NODES} values",
                line=node.start_mark.line + 1,
                hint="an alias bomb is refused; spell out what you mean, or use fewer aliases",
            )
        if depths[key] > MAX_DEPTH:
            raise InputLimitError(
                f"the document nests deeper than {MAX_DEPTH} levels",
                line=node.start_mark.line + 1,
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_data_depth(data: Any) -> None:
    """Refuse parsed data (a JSON template) nested deeper than :data:`MAX_DEPTH`."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InputLimitError(f"the document nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
