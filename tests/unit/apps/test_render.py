"""A release rendered as the app's stack config: merging, secrets by reference, bindings."""

from __future__ import annotations

from stackyard.apps.environments import EnvironmentSpec
from stackyard.apps.manifest import manifest_data, parse_manifest
from stackyard.apps.render import ReleaseSpec, processes, stack_config

MANIFEST = """\
processes:
  web:
    command: bin/web
    port: 8080
    exposed: {host: api.example.com}
    placement:
      constraints: [{type: memberOf, expression: "attribute:profile == web"}]
    env: {MODE: manifest, KEEP: kept}
  worker:
    command: bin/worker
    memory: 1024
"""

ENVIRONMENT = EnvironmentSpec.model_validate(
    {
        "cluster": "${output cluster::ClusterName}",
        "listener": "${output gateway::ListenerArn}",
        "protected": True,
        "defaults": {
            "cpu": 64,
            "memory": 128,
            "placement": {
                "constraints": [{"type": "distinctInstance"}],
                "strategy": [{"type": "spread", "field": "instanceId"}],
            },
        },
    }
)


def _release() -> ReleaseSpec:
    return ReleaseSpec(
        app="api",
        environment="prod",
        version=7,
        image="repo@sha256:abc",
        manifest=manifest_data(parse_manifest(MANIFEST, "app.yaml")),
        config={"MODE": "config", "DB": "secret:/ops/api/db"},
        formation={"web": {"count": 4, "cpu": 512, "memory": None}},
    )


def test_processes_merge_manifest_formation_defaults_and_config() -> None:
    rendered = processes(_release(), ENVIRONMENT)
    web, worker = rendered["web"], rendered["worker"]
    assert (web["count"], web["cpu"], web["memory"]) == (4, 512, 128)
    assert (worker["count"], worker["cpu"], worker["memory"]) == (1, 64, 1024)
    assert web["constraints"] == [
        {"type": "distinctInstance"},
        {"type": "memberOf", "expression": "attribute:profile == web"},
    ]
    assert worker["strategy"] == [{"type": "spread", "field": "instanceId"}]
    assert web["environment"] == {"MODE": "config", "KEEP": "kept", "STACKYARD_RELEASE": "v7"}
    assert web["secrets"] == {"DB": "/ops/api/db"}
    assert "DB" not in web["environment"]
    assert web["exposed"] == {"host": "api.example.com"} and "exposed" not in worker


def test_the_stack_config_binds_through_rxref_and_keeps_protection() -> None:
    config = stack_config(_release(), ENVIRONMENT, "ops-prod")
    (stack,) = config["stacks"]
    assert config["namespace"] == "ops-prod"
    assert stack["name"] == "app-api-prod" and stack["protected"] is True
    assert stack["variables"]["ClusterName"] == "${rxref cluster::ClusterName}"
    assert stack["variables"]["ListenerArn"] == "${rxref gateway::ListenerArn}"
    assert "VpcId" not in stack["variables"]
