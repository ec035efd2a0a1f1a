"""YAML with source positions: every value in a loaded document knows its line.

Errors about a config must name the file and line, so loading returns the data
plus a ``SourceMap`` from key paths (``("stacks", 3, "class_path")``) to lines.
PyYAML composes a node tree that carries marks; we construct the data from
that same tree with the safe constructor, then walk it once for positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from stackyard.errors import ConfigError
from stackyard.input_limits import InputLimitError, check_node, check_size

Path = tuple[str | int, ...]

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceMap:
    """Where each key path of a loaded YAML document starts, as 1-based lines."""

    file: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, message: str, path: Path = (), **kwargs: Any) -> ConfigError:
        """A ConfigError located at ``path`` in this file."""
        kwargs.setdefault("key", format_path(path) if path else None)
        return ConfigError(message, file=self.file, line=self.line(path), **kwargs)


def format_path(path: Path) -> str:
    """``("stacks", 2, "variables", "Subnets")`` → ``stacks[2].variables.Subnets``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document and map each key path to its line.

    Raises ConfigError naming the file and line on a syntax error.
    """
    try:
        check_size(text)
    except InputLimitError as exc:
        raise ConfigError(exc.message, file=file, hint=exc.hint) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        check_node(node)
        data = loader.construct_document(node) if node is not None else None
    except InputLimitError as exc:
        raise ConfigError(exc.message, file=file, line=exc.line, hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            file=file,
            line=line,
            hint="check indentation and quoting around this line",
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=file) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"a value cannot be read: {exc}", file=file) from None
    finally:
        loader.dispose()
    source = SourceMap(file)
    if node is not None:
        _record(node, (), source.lines, set())
    return data, source


def _record(node: yaml.Node, path: Path, lines: dict[Path, int], seen: set[int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    # Aliases share node objects; a recursive alias would otherwise loop forever.
    if id(node) in seen:
        return
    seen = seen | {id(node)}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                lines.setdefault((*path, key), key_node.start_mark.line + 1)
                _record(value_node, (*path, key), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*path, index), lines, seen)
