"""A release in an environment, rendered as one stack's config for the planner and engine.

The app's stack lives in a config of its own (written to a temporary folder for the run),
under the infrastructure's namespace, bound to the infrastructure through ``rxref``
lookups, so that ``workflow.plan`` and the engine treat it as they treat every stack.

A sub-environment's stack (``app-api-prod-canary``) runs its services in the parent's cluster
with target groups of their own. Its listener rules match the parent's host and path *and* the
header ``X-Stackyard-Environment: prod/canary`` one priority before the parent's rule: that
rule is what ties the canary's target groups to the load balancer (ECS refuses a service whose
target group no listener uses), and lets a caller reach the canary on purpose. Real traffic
reaches it through the parent's rule, weighted (:mod:`stackyard.apps.canary`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackyard.apps.config_vars import split
from stackyard.apps.environments import Environments, EnvironmentSpec, bound
from stackyard.apps.inheritance import parent_name, process_placement
from stackyard.apps.manifest import manifest_of
from stackyard.errors import UsageError

CANARY_HEADER = "X-Stackyard-Environment"


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


def environment_slug(environment: str) -> str:
    """An environment's name as stack names take it: ``prod/canary`` → ``prod-canary``."""
    return environment.replace("/", "-")


def stack_name(app: str, environment: str) -> str:
    """The config name of an app environment's stack (the namespace is prefixed to it)."""
    return f"app-{app}-{environment_slug(environment)}"


def _canary_exposure(
    release: ReleaseSpec, process: str, exposed: dict[str, Any], namespace: str
) -> dict[str, Any]:
    """A sub-environment's exposure: the parent's host and path, the header, and the
    priority just before the parent's rule."""
    from stackyard.library.app_service import rule_priority

    parent = parent_name(release.environment)
    assert parent is not None
    parent_stack = stack_name(release.app, parent)
    fqn = f"{namespace}-{parent_stack}" if namespace else parent_stack
    priority = exposed.get("priority") or rule_priority(fqn, process)
    if priority <= 1:
        raise UsageError(
            f"{process}: the listener rule of {parent} has priority {priority}, so no rule of "
            f"{release.environment} can go before it",
            hint="give the process an exposed priority above 1",
        )
    header = {"name": CANARY_HEADER, "value": release.environment}
    return {**exposed, "priority": priority - 1, "header": header}


def processes(release: ReleaseSpec, spec: EnvironmentSpec, namespace: str = "") -> dict[str, Any]:
    """The ``Processes`` variable of :class:`~stackyard.library.app_service.AppService`."""
    manifest = manifest_of(release.manifest)
    plain, secrets = split(release.config)
    out: dict[str, Any] = {}
    for name, process in manifest.processes.items():
        scale = release.formation.get(name, {})
        defaults = spec.defaults
        placement = process_placement(process, defaults)
        entry: dict[str, Any] = {
            "command": process.command,
            "count": scale.get("count") if scale.get("count") is not None else process.scale,
            "cpu": scale.get("cpu") or process.cpu or defaults.cpu,
            "memory": scale.get("memory") or process.memory or defaults.memory,
            "environment": {**process.env, **plain, "STACKYARD_RELEASE": f"v{release.version}"},
            "secrets": secrets,
            "constraints": [c.model_dump(exclude_none=True) for c in placement.constraints],
            "strategy": [s.model_dump(exclude_none=True) for s in placement.strategy],
        }
        if process.port:
            entry["port"] = process.port
        if process.exposed is not None:
            exposed = process.exposed.model_dump(exclude_none=True)
            if spec.parent is not None:
                exposed = _canary_exposure(release, name, exposed, namespace)
            entry["exposed"] = exposed
            entry["health"] = process.health.model_dump()
            entry["alarms"] = process.alarms.model_dump()
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
        "Processes": processes(release, spec, namespace),
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
