"""Lines of a template's keys, so findings about a raw template can name file and line.

The template is composed (not constructed) a second time with the same YAML loader; JSON
is YAML too. Only called when there is something to report, so rendering stays fast.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["TemplatePath", "key_lines", "line_of"]

TemplatePath = tuple[str | int, ...]


def key_lines(text: str) -> dict[TemplatePath, int]:
    """Map each key path of a YAML or JSON template to its 1-based line; {} if unreadable."""
    from .cfn_yaml import CfnYamlLoader

    loader: Any = CfnYamlLoader(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, RecursionError):
        return {}
    finally:
        loader.dispose()
    lines: dict[TemplatePath, int] = {}
    pending: list[tuple[yaml.Node, TemplatePath]] = [(root, ())] if root is not None else []
    seen: set[int] = set()
    while pending:
        node, path = pending.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:  # an alias: its keys were recorded where it was defined
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key_path = (*path, key_node.value)
                    lines.setdefault(key_path, key_node.start_mark.line + 1)
                    pending.append((value_node, key_path))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*path, index)) for index, item in enumerate(node.value))
    return lines


def line_of(lines: dict[TemplatePath, int], path: TemplatePath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]
