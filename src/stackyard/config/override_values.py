"""``-e KEY=VALUE`` values go into the config as values, never as YAML text.

A text environment file is substituted into the config's text before parsing, as stacker
did. A ``-e`` value must not be: ``-e name=$'x\\nstacks: []'`` would rewrite the config.
So each ``-e`` key is first substituted as an inert token, the YAML is parsed, and the
tokens are then replaced in the parsed strings and keys. A token that is a whole value
takes the type of the one YAML value it spells (``-e count=3`` is the number 3 and
``-e cidrs=[a, b]`` a list, as before); block YAML (``a: b``, ``- x``) and anything on more
than one line stay text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OverrideTokens"]


class OverrideTokens:
    """Inert stand-ins for ``-e`` values during text substitution, and their restoration."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self._values = {
            f"stackyard0override0{index}0": value for index, value in enumerate(overrides.values())
        }
        self.text_environment = dict(zip(overrides, self._values, strict=True))

    def restore(self, data: Any) -> Any:
        """``data`` (parsed YAML) with every token replaced by its value."""
        if not self._values:
            return data
        if isinstance(data, dict):
            return {
                self._text(k) if isinstance(k, str) else k: self.restore(v) for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.restore(v) for v in data]
        if isinstance(data, str):
            if data in self._values:
                return _scalar(self._values[data])
            return self._text(data)
        return data

    def _text(self, text: str) -> str:
        if "stackyard0override0" not in text:
            return text
        for token, value in self._values.items():
            text = text.replace(token, str(value))
        return text


def _scalar(value: Any) -> Any:
    """A one-line value read as one YAML value (``3``, ``true``, ``[a, b]``), else text."""
    from stackyard.config.source import load_yaml
    from stackyard.errors import ConfigError

    if not isinstance(value, str) or "\n" in value or "\r" in value:
        return value
    try:
        parsed, _ = load_yaml(value, "-e")
    except ConfigError:
        return value
    if isinstance(parsed, list) and value.lstrip().startswith("["):
        return parsed
    if isinstance(parsed, dict) and value.lstrip().startswith("{"):
        return parsed
    return parsed if isinstance(parsed, str | int | float | bool) else value
