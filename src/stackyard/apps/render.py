"""A release in an environment, rendered as one stack's config for the planner and engine.

The app's stack lives in a config of its own (written to a temporary folder for the run),
under the infrastructure's namespace, bound to the infrastructure through ``rxref``
lookups, so that ``workflow.plan`` and the engine treat it as they treat every stack.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackyard.apps.config_vars import split
from stackyard.apps.environments import Environments, EnvironmentSpec, bound
from stackyard.apps.manifest import manifest_of


@dataclass(frozen=True)
class ReleaseSpec:
    """What a release fixes: image, manifest, config vars and formation."""

    app: str
    environment: str
    version: int
    image: str
    manifest: dict[str, Any]
    config: dict[str, str]
    formation: dict[str, dict[str, int | None]]


def stack_name(app: str, environment: str) -> str:
    """The config name of an app environment's stack (the namespace is prefixed to it)."""
    return f"app-{app}-{environment}"


def processes(release: ReleaseSpec, spec: EnvironmentSpec) -> dict[str, Any]:
    """The ``Processes`` variable of :class:`~stackyard.library.app_service.AppService`."""
    manifest = manifest_of(release.manifest)
    plain, secrets = split(release.config)
    out: dict[str, Any] = {}
    for name, process in manifest.processes.items():
        scale = release.formation.get(name, {})
        defaults = spec.defaults
        entry: dict[str, Any] = {
            "command": process.command,
            "count": scale.get("count") if scale.get("count") is not None else process.scale,
            "cpu": scale.get("cpu") or process.cpu or defaults.cpu,
            "memory": scale.get("memory") or process.memory or defaults.memory,
            "environment": {**process.env, **plain, "STACKYARD_RELEASE": f"v{release.version}"},
            "secrets": secrets,
            "constraints": [
                c.model_dump(exclude_none=True)
                for c in (*defaults.placement.constraints, *process.placement.constraints)
            ],
            "strategy": [
                s.model_dump(exclude_none=True)
                for s in (process.placement.strategy or defaults.placement.strategy)
            ],
        }
        if process.port:
            entry["port"] = process.port
        if process.exposed is not None:
            entry["exposed"] = process.exposed.model_dump(exclude_none=True)
            entry["health"] = process.health.model_dump()
        out[name] = entry
    return out


def stack_config(release: ReleaseSpec, spec: EnvironmentSpec, namespace: str) -> dict[str, Any]:
    """The config (as data) holding the one stack of ``release``."""
    variables: dict[str, Any] = {
        "AppName": release.app,
        "EnvironmentName": release.environment,
        "Release": release.version,
        "Image": release.image,
        "ClusterName": bound(spec.cluster),
        "Processes": processes(release, spec),
        "Namespace": namespace,
    }
    for key, binding in (
        ("VpcId", spec.vpc),
        ("ListenerArn", spec.listener),
        ("SecretsKeyArn", spec.secrets_key),
        ("ExecutionRoleArn", spec.execution_role),
    ):
        if binding:
            variables[key] = bound(binding)
    return {
        "namespace": namespace,
        "stacker_bucket": "",
        "tags": {"stackyard:app": release.app, "stackyard:environment": release.environment},
        "stacks": [
            {
                "name": stack_name(release.app, release.environment),
                "class_path": "stackyard.library.app_service.AppService",
                "protected": spec.protected,
                "variables": variables,
            }
        ],
    }


def infrastructure_namespace(environments: Environments, environment: str) -> str:
    """The namespace the environment's infrastructure config gives (with its env file)."""
    from stackyard.config.loader import load_config

    loaded = load_config(environments.config, environment_file=environments.env_file(environment))
    return loaded.config.namespace


def load_project(
    release: ReleaseSpec, environments: Environments, region: str | None = None
) -> Any:
    """The :class:`~stackyard.project.Project` of ``release``."""
    from stackyard.project import Project

    spec = environments.get(release.environment)
    namespace = infrastructure_namespace(environments, release.environment)
    config = stack_config(release, spec, namespace)
    # The project keeps what it read; the file is only the loader's way in.
    with tempfile.TemporaryDirectory(prefix="stackyard-app-") as folder:
        path = Path(folder) / f"{stack_name(release.app, release.environment)}.yaml"
        path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        return Project.load(str(path), region=region)
