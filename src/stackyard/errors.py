"""Every error stackyard raises on purpose.

One root, so the CLI can turn any of them into a clear message and an exit code
without a traceback. Third-party exceptions are mapped to these once, at the
boundary where they occur, with ``raise ... from exc``.

    StackyardError                      exit 1 unless a subclass says otherwise
    ├── UsageError                      exit 2: bad command-line arguments
    ├── ConfigError                     exit 2: the config file or environment file
    │   ├── EnvironmentKeyError         a ${KEY} with no value
    │   └── GraphError                  cycles, unknown stacks in requires/targets
    ├── BlueprintError                  exit 2: a blueprint or template cannot render
    │   ├── VariableError               a variable is missing, mistyped or invalid
    │   └── TemplateCheckError          a rendered template fails the pre-flight check
    ├── LookupError_                    exit 2: a lookup is unknown or malformed
    ├── AWSError                        exit 1: AWS answered with an error
    └── StackFailed                     exit 1: a stack ended in a failed state

Each error carries where it happened (``file``, ``line``, ``key``, ``stack``)
and a ``hint``; ``str(error)`` renders all of it on one or two lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class StackyardError(Exception):
    """Root of stackyard's errors: a message plus where it happened and a hint."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None
    stack: str | None = None
    hint: str | None = None
    exit_code: int = field(default=1, kw_only=True)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def location(self) -> str:
        """``file:line`` (or what part of it is known), then the key and stack."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.stack:
            parts.append(f"stack {self.stack!r}")
        if self.key:
            parts.append(f"key {self.key!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(eq=False)
class UsageError(StackyardError):
    """Bad arguments on the command line."""

    exit_code: int = field(default=2, kw_only=True)


@dataclass(eq=False)
class ConfigError(StackyardError):
    """The config or an environment file is invalid."""

    exit_code: int = field(default=2, kw_only=True)


@dataclass(eq=False)
class EnvironmentKeyError(ConfigError):
    """A ``${KEY}`` in the config has no value in the environment."""


@dataclass(eq=False)
class GraphError(ConfigError):
    """The stack graph is invalid: a cycle, or a reference to an unknown stack."""


@dataclass(eq=False)
class BlueprintError(StackyardError):
    """A blueprint or raw template cannot be loaded or rendered."""

    exit_code: int = field(default=2, kw_only=True)


@dataclass(eq=False)
class VariableError(BlueprintError):
    """A blueprint variable is missing, of the wrong type, or fails validation."""


@dataclass(eq=False)
class TemplateCheckError(BlueprintError):
    """A rendered template names an unknown type, property, attribute or section."""


@dataclass(eq=False)
class LookupError_(StackyardError):  # the underscore avoids shadowing the builtin
    """A lookup is unknown, malformed, or cannot be resolved."""

    exit_code: int = field(default=2, kw_only=True)


@dataclass(eq=False)
class AWSError(StackyardError):
    """AWS (or the local endpoint) answered with an error stackyard cannot work around."""


@dataclass(eq=False)
class StackFailed(StackyardError):
    """A stack ended in a failed state."""
