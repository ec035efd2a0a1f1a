"""YAML with CloudFormation's short-form tags (``!Ref``, ``!GetAtt a.b``, ``!Sub``, ...).

:func:`load_cfn_yaml` turns the short forms into the long forms CloudFormation's
JSON uses (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt":
["A", "B"]}``); :func:`dump_cfn_yaml` writes them back. The loader and dumper are
our own subclasses, so PyYAML's global loaders are left untouched.

CloudFormation reads ``2010-09-09`` as a string, not a date, so the loader does
not resolve timestamps; it rejects duplicate keys, as CloudFormation does. Errors
are PyYAML's ``MarkedYAMLError`` (``problem_mark.line`` is 0-based); callers map
them to their own errors.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "SHORT_TAGS",
    "CfnYamlDumper",
    "CfnYamlLoader",
    "dump_cfn_yaml",
    "load_cfn_yaml",
]

#: Short tag (without ``!``) -> the key of the long form.
SHORT_TAGS: dict[str, str] = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Contains",
            "EachMemberEquals",
            "EachMemberIn",
            "Equals",
            "FindInMap",
            "GetAZs",
            "GetAtt",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "RefAll",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
            "ValueOf",
            "ValueOfAll",
        )
    },
}
_TAG_BY_KEY = {key: f"!{tag}" for tag, key in SHORT_TAGS.items()}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnYamlLoader(_BaseLoader):  # type: ignore[misc]
    """A safe YAML loader that knows CloudFormation's short tags."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        """Build a mapping, refusing a key given twice (merge keys may override)."""
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue
            key = key_node.value
            if key in seen:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        result: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
        return result


def _construct_intrinsic(loader: CfnYamlLoader, tag_suffix: str, node: Node) -> dict[str, Any]:
    key = SHORT_TAGS[tag_suffix]
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - PyYAML has only these three node kinds
        raise ConstructorError(None, None, f"unexpected node for !{tag_suffix}", node.start_mark)
    return {key: value}


def _register(tag_suffix: str) -> None:
    def construct(loader: CfnYamlLoader, node: Node) -> dict[str, Any]:
        return _construct_intrinsic(loader, tag_suffix, node)

    CfnYamlLoader.add_constructor(f"!{tag_suffix}", construct)


for _tag in SHORT_TAGS:
    _register(_tag)


def load_cfn_yaml(text: str) -> Any:
    """Parse one YAML document, turning CloudFormation short tags into long forms.

    An alias bomb or a document nested too deep raises
    :class:`~stackyard.input_limits.InputLimitError` before anything is built.
    """
    from stackyard.input_limits import check_node

    loader = CfnYamlLoader(text)  # a SafeLoader subclass
    try:
        node = loader.get_single_node()
        check_node(node)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


class CfnYamlDumper(yaml.SafeDumper):
    """A safe YAML dumper that writes intrinsic functions in their short forms."""

    def ignore_aliases(self, data: Any) -> bool:
        """Never write anchors: a template reads better with repeats spelled out."""
        return True


def _is_short_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TAG_BY_KEY


def _represent_dict(dumper: CfnYamlDumper, data: dict[Any, Any]) -> Node:
    if len(data) == 1:
        ((key, value),) = data.items()
        tag = _TAG_BY_KEY.get(key) if isinstance(key, str) else None
        # A YAML node carries one tag, so `!Base64 !Sub x` cannot be written:
        # an intrinsic whose argument is itself an intrinsic keeps its long form.
        if tag is not None and not _is_short_intrinsic(value):
            if key == "Fn::GetAtt" and _is_getatt_pair(value):
                return dumper.represent_scalar(tag, f"{value[0]}.{value[1]}")
            if isinstance(value, str):
                return dumper.represent_scalar(tag, value)
            if isinstance(value, list):
                return dumper.represent_sequence(tag, value)
            if isinstance(value, dict) and key not in ("Ref", "Condition"):
                return dumper.represent_mapping(tag, value)
    return dumper.represent_dict(data)


def _is_getatt_pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
        and "." not in value[0]
    )


CfnYamlDumper.add_representer(dict, _represent_dict)
# str subclasses (such as stackyard's Unknown) are written as plain strings.
CfnYamlDumper.add_multi_representer(str, yaml.SafeDumper.represent_str)


def dump_cfn_yaml(data: Any) -> str:
    """Write ``data`` as block-style YAML, intrinsic functions in short form, keys in order."""
    text: str = yaml.dump(
        data,
        Dumper=CfnYamlDumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return text
