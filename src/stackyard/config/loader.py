"""Load a config: read it, substitute the environment, parse, validate, locate errors."""

from __future__ import annotations

import difflib
import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from stackyard.config.environment import (
    is_yaml_environment,
    load_environment_file,
    substitute_structure,
    substitute_text,
)
from stackyard.config.model import HOOK_KEYS, PROTECTION_KEYS, STACK_KEYS, TARGET_KEYS, Config
from stackyard.config.override_values import OverrideTokens
from stackyard.config.source import Path, SourceMap, format_path, load_yaml
from stackyard.config.stacker_forms import (
    NAMESPACE_DEPRECATION,
    namespace_from_environment,
    stacker_forms,
)
from stackyard.errors import ConfigError
from stackyard.input_limits import InputLimitError, decode_utf8, read_utf8

STDIN = "-"


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with what is needed to explain it: its source and environment."""

    config: Config
    source: SourceMap
    environment: dict[str, Any]
    base_dir: FsPath
    notices: list[str] = field(default_factory=list)

    @functools.cached_property
    def _stack_index(self) -> dict[str, int]:
        # Asked once per stack and more while rendering: a scan each time would make a
        # thousand stacks cost a million comparisons.
        index: dict[str, int] = {}
        for position, stack in enumerate(self.config.stacks):
            index.setdefault(stack.name, position)
        return index

    def stack_line(self, name: str) -> int | None:
        """The line where the stack called ``name`` is defined."""
        index = self._stack_index.get(name)
        return None if index is None else self.source.line(("stacks", index))

    def where(self, stack: str, *path: str | int) -> tuple[str, int | None]:
        """(file, line) of a key inside the named stack, for error messages."""
        index = self._stack_index.get(stack)
        if index is None:
            return self.source.file, None
        return self.source.file, self.source.line(("stacks", index, *path))


def load_config(
    path: str,
    *,
    environment_file: str | None = None,
    overrides: dict[str, str] | None = None,
) -> LoadedConfig:
    """Read, substitute and validate a config file (``-`` reads standard input).

    The environment is the environment file's values with ``overrides``
    (``-e KEY=VALUE``) on top. Every error is a ConfigError naming file and line.
    """
    text, file, base_dir = _read_config(path)
    environment: dict[str, Any] = {}
    if environment_file:
        environment.update(load_environment_file(environment_file))
    environment.update(overrides or {})

    if environment_file and is_yaml_environment(environment_file):
        data, source = load_yaml(text, file)
        data = substitute_structure(data, environment, source)
    else:
        tokens = OverrideTokens(overrides or {})
        textual = {**environment, **tokens.text_environment}
        data, source = load_yaml(_substitute_outside_comments(text, textual, file), file)
        data = tokens.restore(data)

    if data is None:
        raise ConfigError(
            "the config is empty",
            file=file,
            hint="a config needs at least 'namespace' and 'stacks'",
        )
    if not isinstance(data, dict):
        raise source.error(
            f"the config must be a map of keys, not a {type(data).__name__}",
            hint="start with 'namespace: ...' and 'stacks:'",
        )
    notices: list[str] = []
    data = stacker_forms(data, source)
    data, from_environment = namespace_from_environment(data, environment)
    if from_environment:
        notices.append(f"{file}: {NAMESPACE_DEPRECATION}")
    if data.get("namespace") is None:
        raise source.error(
            "'namespace' is missing",
            ("namespace",) if "namespace" in data else (),
            hint="add 'namespace: <name>' at the top level (an empty string is allowed), "
            "or give one in the environment file",
        )
    data = _merge_deprecated_parameters(data, source, notices)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source, data) from None
    _check_unique_names(config, source)
    if config.log_formats:
        notices.append(f"{file}: 'log_formats' is accepted for compatibility and ignored")
    if config.package_sources:
        notices.append(
            f"{file}: 'package_sources' is not supported; install blueprint packages with pip"
        )
    return LoadedConfig(config, source, environment, base_dir, notices)


def _read_config(path: str) -> tuple[str, str, FsPath]:
    if path == STDIN:
        try:
            return decode_utf8(sys.stdin.buffer.read()), "<stdin>", FsPath.cwd()
        except InputLimitError as exc:
            raise ConfigError(exc.message, file="<stdin>", line=exc.line, hint=exc.hint) from None
        except AttributeError:  # a text-only stdin (tests, embedding)
            return sys.stdin.read(), "<stdin>", FsPath.cwd()
    target = FsPath(path)
    try:
        text = read_utf8(target)
    except InputLimitError as exc:
        raise ConfigError(exc.message, file=path, line=exc.line, hint=exc.hint) from None
    except FileNotFoundError as exc:
        raise ConfigError(
            "config file not found",
            file=path,
            hint="pass the config file path last: stackyard build [ENV_FILE] CONFIG",
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigError("this is a directory, not a config file", file=path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", file=path) from exc
    return text, path, target.resolve().parent


def _substitute_outside_comments(text: str, environment: dict[str, Any], file: str) -> str:
    # stacker substituted inside comments too; a `$HOME` in a comment then broke the
    # config. Whole-line comments are left alone, line numbers stay as they were.
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            out.append(line)
            continue
        try:
            out.append(substitute_text(line, environment, file))
        except ConfigError as exc:
            exc.line = number
            raise
    return "\n".join(out)


def _merge_deprecated_parameters(
    data: dict[str, Any], source: SourceMap, notices: list[str]
) -> dict[str, Any]:
    stacks = data.get("stacks")
    if not isinstance(stacks, list):
        return data
    merged = []
    for index, stack in enumerate(stacks):
        if isinstance(stack, dict) and stack.get("parameters"):
            line = source.line(("stacks", index, "parameters"))
            notices.append(
                f"{source.file}:{line}: 'parameters' is deprecated; use 'variables' "
                "(treated as variables)"
            )
            stack = {
                **stack,
                "variables": {**stack["parameters"], **(stack.get("variables") or {})},
            }
            stack.pop("parameters")
        merged.append(stack)
    return {**data, "stacks": merged}


#: Problems listed in one error; a config with more is counted past this.
MAX_SHOWN = 20


def _explain(exc: ValidationError, source: SourceMap, data: dict[str, Any]) -> ConfigError:
    """Every problem at once (up to MAX_SHOWN), each with its line and hint."""
    described = []
    for err in exc.errors():
        loc: Path = tuple(err["loc"])
        described.append(_describe(err, loc, source, _owner(loc, data)))
    error = described[0]
    if len(described) > 1 and error.hint:
        # The hint goes with its own problem, not after the whole list.
        error.message, error.hint = f"{error.message} ({error.hint})", None
    for other in described[1:MAX_SHOWN]:
        where = f"{other.file}:{other.line}" if other.line else str(other.file)
        hint = f" ({other.hint})" if other.hint else ""
        error.message += f"\n  also: {where}: {other.message}{hint}"
    if len(described) > MAX_SHOWN:
        error.message += f"\n  ... and {len(described) - MAX_SHOWN} more"
    return error


def _describe(err: Any, loc: Path, source: SourceMap, owner: str) -> ConfigError:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _known_keys(loc)
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return source.error(f"unknown key {key!r}{owner}", loc, hint=hint)
    if kind == "missing":
        return source.error(f"required key {str(loc[-1])!r} is missing{owner}", loc[:-1])
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return source.error(f"{message}{owner}", loc)
    got = err.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | float | bool) else ""
    return source.error(f"{format_path(loc)}: {message}{shown}", loc)


def _owner(loc: Path, data: dict[str, Any]) -> str:
    # "in stack 'vpc'" reads better than an index.
    if len(loc) >= 2 and loc[0] in ("stacks", "targets") and isinstance(loc[1], int):
        try:
            name = data[loc[0]][loc[1]]["name"]
        except (KeyError, IndexError, TypeError):
            name = None
        kind = "stack" if loc[0] == "stacks" else "target"
        return f" in {kind} {name!r}" if isinstance(name, str) else f" in {loc[0]}[{loc[1]}]"
    return ""


def _known_keys(loc: Path) -> list[str]:
    section = loc[0] if loc else ""
    if section == "stacks":
        return STACK_KEYS
    if section == "targets":
        return TARGET_KEYS
    if section == "protection":
        return PROTECTION_KEYS
    return HOOK_KEYS


def _check_unique_names(config: Config, source: SourceMap) -> None:
    seen: dict[str, int] = {}
    for index, stack in enumerate(config.stacks):
        if stack.name in seen:
            first = source.line(("stacks", seen[stack.name]))
            raise source.error(
                f"stack name {stack.name!r} is used twice",
                ("stacks", index, "name"),
                hint=f"the first one is at line {first}; stack names must be unique",
            )
        seen[stack.name] = index
    for index, target in enumerate(config.targets):
        if target.name in seen:
            raise source.error(
                f"target {target.name!r} has the name of a stack",
                ("targets", index, "name"),
                hint="targets and stacks share one namespace of names",
            )
