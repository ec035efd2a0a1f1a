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


CANARY = ENVIRONMENT.model_copy(update={"parent": "prod", "protected": False})


def _canary_release() -> ReleaseSpec:
    release = _release()
    return ReleaseSpec(
        release.app,
        "prod/canary",
        2,
        release.image,
        release.manifest,
        release.config,
        release.formation,
    )


def test_a_canary_stack_matches_the_parents_rule_and_a_header_one_priority_before() -> None:
    from stackyard.library.app_service import rule_priority

    config = stack_config(_canary_release(), CANARY, "ops-prod")
    (stack,) = config["stacks"]
    assert stack["name"] == "app-api-prod-canary" and stack["protected"] is False
    web = stack["variables"]["Processes"]["web"]
    assert web["exposed"] == {
        "host": "api.example.com",
        "priority": rule_priority("ops-prod-app-api-prod", "web") - 1,
        "header": {"name": "X-Stackyard-Environment", "value": "prod/canary"},
    }
    assert web["alarms"] == {"http_5xx": 10, "latency": 2.0}
    assert stack["variables"]["ClusterName"] == "${rxref cluster::ClusterName}"
    assert config["tags"]["stackyard:environment"] == "prod/canary"
