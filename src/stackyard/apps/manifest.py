"""The app manifest: an extended Procfile in YAML, or a plain ``Procfile``.

    processes:
      web:
        command: bin/web --port 8080
        port: 8080
        exposed: {host: api.example.com, path: /api/*}
        health: {path: /health, interval: 10, healthy: 2, unhealthy: 3, grace: 30}
        alarms: {http_5xx: 10, latency: 1.5}       # 5xx a minute; p99 seconds (0: no alarm)
        cpu: 256
        memory: 512
        scale: 2
        placement:
          constraints: [{type: memberOf, expression: "attribute:profile == web"}]
          strategy: [{type: spread, field: attribute:ecs.availability-zone}]
        env: {LOG_LEVEL: info}
      worker:
        command: bin/worker

A plain Procfile (``web: bin/web``, one process a line) gives processes with the defaults.
Errors name the file, the line and the key.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stackyard.config.source import SourceMap, load_yaml
from stackyard.errors import ConfigError

PROCESS_NAME = re.compile(r"^[a-z][a-z0-9]{0,19}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exposure(_Strict):
    """How a process is reached through the environment's listener."""

    host: str | None = None
    path: str | None = None
    priority: int | None = Field(default=None, ge=1, le=50000)


class HealthCheck(_Strict):
    """The target group's health check, and the service's grace period."""

    path: str = "/"
    interval: int = Field(default=10, ge=5, le=300)
    healthy: int = Field(default=2, ge=2, le=10)
    unhealthy: int = Field(default=2, ge=2, le=10)
    grace: int = Field(default=0, ge=0, le=2147483647)


class Alarms(_Strict):
    """The CloudWatch alarms of an exposed process's target group, which a canary rollout
    watches: more than ``http_5xx`` target 5xx answers in a minute, a p99 target response
    time above ``latency`` seconds over a minute. 0 leaves that alarm out."""

    http_5xx: int = Field(default=10, ge=0)
    latency: float = Field(default=2.0, ge=0)


class Constraint(_Strict):
    """An ECS placement constraint."""

    type: Literal["memberOf", "distinctInstance"]
    expression: str | None = None


class Strategy(_Strict):
    """An ECS placement strategy."""

    type: Literal["spread", "binpack", "random"]
    field: str | None = None


class Placement(_Strict):
    """Placement constraints and strategy, merged over the environment's defaults."""

    constraints: tuple[Constraint, ...] = ()
    strategy: tuple[Strategy, ...] = ()


class Process(_Strict):
    """One process of an app: one ECS service."""

    command: str
    port: int | None = Field(default=None, ge=1, le=65535)
    exposed: Exposure | None = None
    health: HealthCheck = HealthCheck()
    alarms: Alarms = Alarms()
    cpu: int | None = Field(default=None, ge=0)
    memory: int | None = Field(default=None, ge=4)
    scale: int = Field(default=1, ge=0)
    placement: Placement = Placement()
    env: dict[str, str] = Field(default_factory=dict)


class Manifest(_Strict):
    """An app's processes by name."""

    processes: dict[str, Process]


def _located(exc: ValidationError, source: SourceMap) -> ConfigError:
    err = exc.errors()[0]
    path = tuple(p for p in err["loc"] if isinstance(p, str | int))
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    return source.error(message, path)


def _check_names(manifest: Manifest, source: SourceMap) -> None:
    for name, process in manifest.processes.items():
        if not PROCESS_NAME.match(name):
            raise source.error(
                "a process name is lowercase letters and digits (at most 20)",
                ("processes", name),
            )
        if process.exposed is not None and process.port is None:
            raise source.error("an exposed process needs a port", ("processes", name, "exposed"))


def parse_manifest(text: str, file: str) -> Manifest:
    """The manifest in ``text`` (YAML, or a plain Procfile); ConfigError with file:line:key."""
    if _is_procfile(text):
        return _procfile(text, file)
    data, source = load_yaml(text, file)
    if not isinstance(data, dict):
        raise source.error("a manifest is a map with 'processes'")
    if "processes" not in data:
        raise source.error("'processes' is missing", hint="list processes: {web: {command: ...}}")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, source) from None
    _check_names(manifest, source)
    return manifest


def load_manifest(path: str) -> Manifest:
    """The manifest in the file at ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the manifest: {exc.strerror}", file=path) from exc
    return parse_manifest(text, path)


def _is_procfile(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return (
        bool(lines)
        and all(re.match(r"^[A-Za-z0-9_-]+:\s*\S", ln) for ln in lines)
        and not (any(ln.startswith("processes:") for ln in lines))
    )


def _procfile(text: str, file: str) -> Manifest:
    source = SourceMap(file)
    processes: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        source.lines[("processes", name.strip())] = number
        processes[name.strip()] = {"command": command.strip()}
    manifest = Manifest.model_validate({"processes": processes})
    _check_names(manifest, source)
    return manifest


def manifest_data(manifest: Manifest) -> dict[str, Any]:
    """The manifest as plain JSON data (what a release stores)."""
    return manifest.model_dump(mode="json", exclude_none=True)


def manifest_of(data: dict[str, Any]) -> Manifest:
    """A manifest back from :func:`manifest_data`."""
    return Manifest.model_validate(data)
