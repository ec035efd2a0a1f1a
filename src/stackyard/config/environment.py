"""Environment files and ``${KEY}`` substitution, in both of stacker's forms.

- A *text* environment file (any name not ending in ``.yaml``/``.yml``) holds
  ``key: value`` lines; its values are substituted into the config's text
  before the YAML is parsed, as stacker did with ``string.Template``.
- A *YAML* environment file may hold lists and maps; its values are
  substituted into the parsed config structurally: a string that is exactly
  ``${key}`` becomes the value itself, a ``${key}`` inside a longer string is
  replaced by the text of a scalar value (a list or map there is an error).

``${name}`` and ``$name`` name environment keys; ``$$`` is a literal ``$``.
``${type argument}`` (anything not a bare identifier) is a lookup and is left
for the lookups layer. Unlike stacker, which fell back to ``safe_substitute``
as soon as a config held a lookup and then silently kept unknown keys, a key
with no value is always an error naming the key, file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from stackyard.config.source import Path, SourceMap, load_yaml
from stackyard.errors import ConfigError, EnvironmentKeyError
from stackyard.input_limits import InputLimitError, read_utf8

# `$$`, `${identifier}`, `$identifier`; string.Template's identifier rule.
_PLACEHOLDER = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*)\}|(?P<named>[_a-zA-Z][_a-zA-Z0-9]*))"
)
_WHOLE = re.compile(r"^\$\{(?P<key>[_a-zA-Z][_a-zA-Z0-9]*)\}$")


def is_yaml_environment(path: str) -> bool:
    """stacker's rule: ``.yaml``/``.yml`` files are YAML environments, others key/value text."""
    return path.endswith((".yaml", ".yml"))


def load_environment_file(path: str) -> dict[str, Any]:
    """Read an environment file in either form; errors name the file and line."""
    try:
        text = read_utf8(FsPath(path))
    except InputLimitError as exc:
        raise ConfigError(exc.message, file=path, line=exc.line, hint=exc.hint) from None
    except IsADirectoryError as exc:
        raise ConfigError("this is a directory, not an environment file", file=path) from exc
    except FileNotFoundError as exc:
        raise ConfigError(
            "environment file not found", file=path, hint="check the path, or leave it out"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read environment file: {exc.strerror}", file=path) from exc
    if is_yaml_environment(path):
        data, source = load_yaml(text, path)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise source.error("a YAML environment file must be a map of keys to values")
        return {str(k): v for k, v in data.items()}
    return parse_text_environment(text, path)


def parse_text_environment(text: str, file: str) -> dict[str, str]:
    """Parse ``key: value`` lines; ``#`` starts a comment line, blank lines are skipped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ConfigError(
                "expected 'key: value'",
                file=file,
                line=number,
                hint="each line of a text environment file is one 'key: value' pair",
            )
        values[key.strip()] = value.strip()
    return values


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``-e KEY=VALUE`` options to a dict; the last one for a key wins."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"-e expects KEY=VALUE, got {pair!r}", hint="for example: -e namespace=stage"
            )
        values[key] = value
    return values


def substitute_text(text: str, environment: Mapping[str, Any], file: str) -> str:
    """Substitute ``${key}``/``$key`` in raw config text (the key/value form)."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        key = match.group("braced") or match.group("named")
        if key not in environment:
            line = text.count("\n", 0, match.start()) + 1
            raise _missing(key, file, line, None)
        return str(environment[key])

    return _PLACEHOLDER.sub(replace, text)


def substitute_structure(data: Any, environment: Mapping[str, Any], source: SourceMap) -> Any:
    """Substitute into parsed YAML (the YAML-environment form), keeping objects whole."""
    return _walk(data, environment, source, ())


def _walk(value: Any, env: Mapping[str, Any], source: SourceMap, path: Path) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, env, source, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, env, source, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _WHOLE.match(value)
    if whole:
        key = whole.group("key")
        if key not in env:
            raise _missing(key, source.file, source.line(path), path)
        return env[key]

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        key = match.group("braced") or match.group("named")
        if key not in env:
            raise _missing(key, source.file, source.line(path), path)
        found = env[key]
        if isinstance(found, dict | list):
            raise source.error(
                f"environment key {key!r} holds a {type(found).__name__}, "
                "which cannot be placed inside a longer string",
                path,
                hint=f"use '${{{key}}}' as the whole value, or make {key!r} a string",
            )
        return str(found)

    return _PLACEHOLDER.sub(replace, value)


def _missing(key: str, file: str, line: int | None, path: Path | None) -> EnvironmentKeyError:
    from stackyard.config.source import format_path

    return EnvironmentKeyError(
        f"environment key {key!r} has no value",
        file=file,
        line=line,
        key=format_path(path) if path else None,
        hint=f"set it in the environment file or with -e {key}=VALUE; write $$ for a literal $",
    )
