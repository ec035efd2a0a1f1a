"""The config forms stacker 1.7's ``parse()`` accepts, brought to the one form we validate.

stacker's parser takes more shapes than its documentation shows, and public stacker projects
use them:

- ``stacks`` (and the hook lists ``pre_build``, ``post_build``, ``pre_destroy``,
  ``post_destroy``) may be a mapping instead of a list; stacker turns it into a list in the
  mapping's order, and a stack's name is its key (a ``name`` inside is overwritten);
- a key with no value (YAML null) is a key not given: ``variables:``, ``tags:``,
  ``requires:``, ``args:``, ``sys_path:``... (schematics keeps the ``None``, and stacker reads
  it as empty). A boolean given no value is false where stacker tests it for truth:
  ``protected:``, ``locked:``, ``enabled:`` (a stack or hook with ``enabled:`` and no value
  is skipped by stacker, and so here), a hook's ``required:``;
- ``namespace`` may come from the environment (``namespace: prod`` in the environment file,
  or ``-e namespace=prod``) when the config has none; stacker still takes it, with a
  deprecation warning, and so do we.

Line numbers follow the data: a stack given as ``vpc:`` in a mapping is ``stacks[0]`` for
errors, at the line of its key.
"""

from __future__ import annotations

from typing import Any

from stackyard.config.source import Path, SourceMap

__all__ = ["NAMESPACE_DEPRECATION", "namespace_from_environment", "stacker_forms"]

# The sections stacker's parse() turns from a mapping into a list.
_LISTS = ("stacks", "pre_build", "post_build", "pre_destroy", "post_destroy")
_HOOKS = ("pre_build", "post_build", "pre_destroy", "post_destroy")
# Booleans stacker tests for truth: given no value, they are false.
_STACK_FLAGS = frozenset({"locked", "enabled", "protected"})
_HOOK_FLAGS = frozenset({"required", "enabled"})

# stacker 1.7's words (stacker/config/__init__.py, render_parse_load).
NAMESPACE_DEPRECATION = (
    "DEPRECATION WARNING: specifying namespace in the environment is deprecated. See "
    "https://stacker.readthedocs.io/en/latest/config.html#namespace for more info."
)


def stacker_forms(data: dict[str, Any], source: SourceMap) -> dict[str, Any]:
    """``data`` with mapping-style lists made lists and keys with no value left out.

    ``source`` is updated in place so that every line stays where its data went.
    """
    out = {key: value for key, value in data.items() if value is not None or key == "namespace"}
    for section in _LISTS:
        value = out.get(section)
        if isinstance(value, dict):
            out[section] = _as_list(section, value, source)
    if isinstance(out.get("stacks"), list):
        out["stacks"] = [_without_nulls(s, _STACK_FLAGS) for s in out["stacks"]]
    for section in _HOOKS:
        if isinstance(out.get(section), list):
            out[section] = [_without_nulls(h, _HOOK_FLAGS) for h in out[section]]
    if isinstance(out.get("targets"), list):
        out["targets"] = [_without_nulls(t, frozenset()) for t in out["targets"]]
    return out


def namespace_from_environment(
    data: dict[str, Any], environment: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """``data`` with the environment's ``namespace`` when the config has none (stacker's
    fallback: a config ``namespace`` that is absent or null, and a non-empty one in the
    environment); True when it was taken from there."""
    if data.get("namespace") is not None:
        return data, False
    found = environment.get("namespace")
    if found is None or found == "":
        return data, False
    return {**data, "namespace": found if isinstance(found, str) else str(found)}, True


def _as_list(section: str, mapping: dict[Any, Any], source: SourceMap) -> list[Any]:
    items: list[Any] = []
    moved: dict[Path, int] = {}
    for index, (key, body) in enumerate(mapping.items()):
        old: Path = (section, str(key))
        if section == "stacks":
            if not isinstance(body, dict):
                what = "no settings" if body is None else f"a {type(body).__name__}"
                raise source.error(
                    f"stack {str(key)!r} has {what}",
                    old,
                    hint="under a 'stacks:' mapping each stack is 'name:' followed by its "
                    "settings (class_path or template_path, variables...)",
                )
            body = {**body, "name": str(key)}
            moved[(section, index, "name")] = source.lines.get(old, 0)
        items.append(body)
        for path, line in source.lines.items():
            if path[: len(old)] == old:
                moved.setdefault((section, index, *path[len(old) :]), line)
    for path in [p for p in source.lines if p[:1] == (section,) and len(p) > 1]:
        del source.lines[path]
    source.lines.update({path: line for path, line in moved.items() if line})
    return items


def _without_nulls(item: Any, flags: frozenset[str]) -> Any:
    if not isinstance(item, dict):
        return item
    out: dict[str, Any] = {}
    for key, value in item.items():
        if value is None:
            if key in flags:
                out[key] = False
            continue
        out[key] = value
    return out
