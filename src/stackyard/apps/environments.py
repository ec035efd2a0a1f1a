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
      stage/canary:                   # a sub-environment: the parent's cluster and listener
        parent: stage
        defaults:
          placement:
            constraints: [{type: memberOf, expression: "attribute:ecs.instance-type == t3.small"}]

A sub-environment (``PARENT/NAME``, ``parent: PARENT``) inherits its parent's bindings and
defaults key by key (:mod:`stackyard.apps.inheritance`); :meth:`Environments.get` answers the
effective settings, :meth:`Environments.declared` what the file says.

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

from stackyard.apps.inheritance import (
    FIXED_BINDINGS,
    OVERRIDABLE,
    SUB_ENVIRONMENT,
    effective_defaults,
)
from stackyard.apps.manifest import Placement
from stackyard.config.source import SourceMap, load_yaml
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

    parent: str | None = None
    env_file: str | None = None
    protected: bool = False
    cluster: str | None = None
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
    declared_specs: dict[str, EnvironmentSpec] = field(default_factory=dict)

    def get(self, name: str) -> EnvironmentSpec:
        """The effective environment ``name`` (a sub-environment with what it inherits);
        ConfigError naming those that exist."""
        if name not in self.specs:
            raise ConfigError(
                f"no environment {name!r}",
                file=self.file,
                hint="environments: " + ", ".join(sorted(self.specs)),
            )
        return self.specs[name]

    def declared(self, name: str) -> EnvironmentSpec:
        """Environment ``name`` as the file declares it (without what it inherits)."""
        self.get(name)
        return self.declared_specs.get(name, self.specs[name])

    def parent_of(self, name: str) -> str | None:
        """The parent of a sub-environment; None for any other."""
        return self.declared(name).parent

    def children_of(self, name: str) -> list[str]:
        """The sub-environments of ``name``, sorted."""
        return sorted(n for n, s in self.declared_specs.items() if s.parent == name)

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
    declared = dict(parsed.environments)
    _check_tree(declared, source)
    effective = {name: _effective(name, declared) for name in declared}
    base = Path(path).resolve().parent
    return Environments(path, str(base / parsed.config), effective, declared)


def _check_tree(declared: dict[str, EnvironmentSpec], source: SourceMap) -> None:
    """Sub-environments are named ``PARENT/NAME``, one level deep, and take their parent's
    infrastructure; every other environment names its cluster; stack names do not clash."""
    from stackyard.apps.render import environment_slug

    slugs: dict[str, str] = {}
    for name, spec in declared.items():
        where: tuple[str, ...] = ("environments", name)
        found = SUB_ENVIRONMENT.match(name)
        if spec.parent is None:
            if "/" in name:
                raise source.error(
                    f"a name with '/' is a sub-environment: add 'parent: {name.split('/')[0]}'",
                    where,
                )
            if spec.cluster is None:
                raise source.error("'cluster' is missing", where)
        else:
            if found is None or found.group(1) != spec.parent:
                raise source.error(
                    f"a sub-environment of {spec.parent!r} is named {spec.parent}/NAME "
                    "(NAME: lowercase letters, digits and '-', at most 20)",
                    where,
                )
            parent = declared.get(spec.parent)
            if parent is None:
                raise source.error(f"no environment {spec.parent!r}", (*where, "parent"))
            if parent.parent is not None:
                raise source.error(
                    f"{spec.parent!r} is a sub-environment itself; nest one level only",
                    (*where, "parent"),
                )
            for key in FIXED_BINDINGS:
                if getattr(spec, key) is not None:
                    raise source.error(
                        f"a sub-environment runs on its parent's infrastructure: remove "
                        f"'{key}' (it is {spec.parent!r}'s)",
                        (*where, key),
                        hint="a sub-environment may set "
                        + ", ".join(OVERRIDABLE)
                        + " and defaults",
                    )
        slug = environment_slug(name)
        if slug in slugs:
            raise source.error(
                f"{name!r} and {slugs[slug]!r} would name the same app stacks", where
            )
        slugs[slug] = name


def _effective(name: str, declared: dict[str, EnvironmentSpec]) -> EnvironmentSpec:
    spec = declared[name]
    if spec.parent is None:
        return spec
    parent = declared[spec.parent]
    changes: dict[str, object] = {
        key: getattr(spec if key in spec.model_fields_set else parent, key) for key in OVERRIDABLE
    }
    changes.update({key: getattr(parent, key) for key in FIXED_BINDINGS})
    changes["defaults"] = effective_defaults(parent.defaults, spec.defaults)
    return spec.model_copy(update=changes)


def bound(value: Any) -> Any:
    """A binding as the app's stack config writes it: ``${output X::Y}`` reads another
    config's stack, so it becomes ``${rxref X::Y}`` (same stack name, namespace applied)."""
    if isinstance(value, str):
        return value.replace("${output ", "${rxref ")
    return value
