"""Environments, from ``apps.yaml`` next to the infrastructure config.

    config: stackyard.yaml            # the infrastructure these environments run on
    environments:
      stage:
        env_file: stage.env           # the infrastructure's environment file
        protected: false
        cluster: ${output cluster::ClusterName}
        vpc: ${output network::VpcId}
        listener: ${output gateway::ListenerArn}
        secrets_key: ${output secrets-key::KeyArn}
        defaults:
          cpu: 128
          memory: 256
          placement: {strategy: [{type: spread, field: instanceId}]}

A file of its own rather than an ``apps:`` section of the stack config: the stack config's
schema, loader and plan inputs stay as they are (a change to an app environment is not a
change to the infrastructure's plan), and the teams that ship apps edit a file the
infrastructure's reviewers do not have to. Bindings use the lookups that exist: an
``${output STACK::OUTPUT}`` here reads the infrastructure stack's output, namespace applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from stackyard.apps.manifest import Placement
from stackyard.config.source import load_yaml
from stackyard.errors import ConfigError

BINDINGS = ("cluster", "vpc", "listener", "secrets_key", "execution_role")


class Defaults(BaseModel):
    """Per-environment defaults a process's own settings override."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: int = 128
    memory: int = 256
    placement: Placement = Placement()


class EnvironmentSpec(BaseModel):
    """One environment: its infrastructure and its bindings to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_file: str | None = None
    protected: bool = False
    cluster: str
    vpc: str | None = None
    listener: str | None = None
    secrets_key: str | None = None
    execution_role: str | None = None
    defaults: Defaults = Defaults()


class AppsFile(BaseModel):
    """The whole ``apps.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: str = "stackyard.yaml"
    environments: dict[str, EnvironmentSpec]


@dataclass(frozen=True)
class Environments:
    """The environments of an ``apps.yaml``, with paths made absolute."""

    file: str
    config: str
    specs: dict[str, EnvironmentSpec] = field(default_factory=dict)

    def get(self, name: str) -> EnvironmentSpec:
        """The environment ``name``; ConfigError naming those that exist."""
        if name not in self.specs:
            raise ConfigError(
                f"no environment {name!r}",
                file=self.file,
                hint="environments: " + ", ".join(sorted(self.specs)),
            )
        return self.specs[name]

    def env_file(self, name: str) -> str | None:
        """The infrastructure environment file of ``name``, as a path."""
        spec = self.get(name)
        if spec.env_file is None:
            return None
        return str(Path(self.file).resolve().parent / spec.env_file)


def load_environments(path: str) -> Environments:
    """Read ``apps.yaml``; ConfigError with file:line:key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the apps file: {exc.strerror}",
            file=path,
            hint="pass --apps-file, or run from the folder that holds apps.yaml",
        ) from exc
    data, source = load_yaml(text, path)
    try:
        parsed = AppsFile.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = tuple(p for p in err["loc"] if isinstance(p, str | int))
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise source.error(message, where) from None
    base = Path(path).resolve().parent
    return Environments(path, str(base / parsed.config), dict(parsed.environments))


def bound(value: Any) -> Any:
    """A binding as the app's stack config writes it: ``${output X::Y}`` reads another
    config's stack, so it becomes ``${rxref X::Y}`` (same stack name, namespace applied)."""
    if isinstance(value, str):
        return value.replace("${output ", "${rxref ")
    return value
