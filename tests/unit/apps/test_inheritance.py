"""Sub-environments in apps.yaml: what ``prod/canary`` inherits from ``prod``, key by key,
and the mistakes refused with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.apps.environments import load_environments
from stackyard.apps.inheritance import (
    effective_formation,
    layered,
    merge_placement,
    parent_name,
    process_placement,
)
from stackyard.apps.manifest import Placement, parse_manifest
from stackyard.errors import ConfigError

APPS = """\
config: stackyard.yaml
environments:
  prod:
    env_file: prod.env
    protected: true
    cluster: ${output cluster::ClusterName}
    vpc: ${output network::VpcId}
    listener: ${output gateway::ListenerArn}
    secrets_key: ${output secrets-key::KeyArn}
    defaults:
      cpu: 256
      memory: 512
      placement:
        constraints: [{type: memberOf, expression: "attribute:profile == web"}]
        strategy: [{type: spread, field: attribute:ecs.availability-zone}]
  prod/canary:
    parent: prod
    protected: false
    defaults:
      memory: 1024
      placement:
        constraints: [{type: memberOf, expression: "attribute:ecs.instance-type == t3.small"}]
"""


def _load(tmp_path: Path, text: str = APPS) -> object:
    path = tmp_path / "apps.yaml"
    path.write_text(text)
    return load_environments(str(path))


def test_a_sub_environment_takes_its_parents_bindings_and_overrides_per_key(
    tmp_path: Path,
) -> None:
    envs = _load(tmp_path)
    canary, prod = envs.get("prod/canary"), envs.get("prod")
    assert (canary.cluster, canary.vpc, canary.listener, canary.env_file) == (
        prod.cluster,
        prod.vpc,
        prod.listener,
        "prod.env",
    )
    assert canary.secrets_key == prod.secrets_key
    assert canary.protected is False and prod.protected is True
    assert (canary.defaults.cpu, canary.defaults.memory) == (256, 1024)
    assert [c.expression for c in canary.defaults.placement.constraints] == [
        "attribute:profile == web",
        "attribute:ecs.instance-type == t3.small",
    ]
    assert canary.defaults.placement.strategy == prod.defaults.placement.strategy
    assert envs.parent_of("prod/canary") == "prod" and envs.parent_of("prod") is None
    assert envs.children_of("prod") == ["prod/canary"]
    assert envs.declared("prod/canary").cluster is None
    assert envs.env_file("prod/canary") == envs.env_file("prod")


def test_a_process_places_over_its_environment_over_the_parent(tmp_path: Path) -> None:
    envs = _load(tmp_path)
    manifest = parse_manifest(
        "processes:\n  web:\n    command: bin/web\n    placement:\n"
        "      constraints: [{type: distinctInstance}]\n"
        "      strategy: [{type: binpack, field: memory}]\n  worker: {command: bin/worker}\n",
        "app.yaml",
    )
    canary = envs.get("prod/canary").defaults
    web = process_placement(manifest.processes["web"], canary)
    worker = process_placement(manifest.processes["worker"], canary)
    assert [c.type for c in web.constraints] == ["memberOf", "memberOf", "distinctInstance"]
    assert [(s.type, s.field) for s in web.strategy] == [("binpack", "memory")]
    assert [(s.type, s.field) for s in worker.strategy] == [
        ("spread", "attribute:ecs.availability-zone")
    ]


@pytest.mark.parametrize(
    ("snippet", "message", "key"),
    [
        ("  canary:\n    parent: prod\n", "is named prod/NAME", "environments.canary"),
        ("  prod/canary:\n    cluster: x\n", "a name with '/' is a sub-environment", None),
        ("  stage/canary:\n    parent: stage\n", "no environment 'stage'", None),
        (
            "  prod/canary:\n    parent: prod\n    cluster: other\n",
            "runs on its parent's infrastructure: remove 'cluster'",
            "environments.prod/canary.cluster",
        ),
        (
            "  prod/canary:\n    parent: prod\n  prod/canary/x:\n    parent: prod/canary\n",
            "is named prod/canary/NAME",
            None,
        ),
        (
            "  prod-canary:\n    cluster: c\n  prod/canary:\n    parent: prod\n",
            "same app stacks",
            None,
        ),
        ("  stage: {env_file: s.env}\n", "'cluster' is missing", "environments.stage"),
    ],
)
def test_mistakes_are_refused_with_file_line_and_key(
    tmp_path: Path, snippet: str, message: str, key: str | None
) -> None:
    text = "config: stackyard.yaml\nenvironments:\n  prod:\n    cluster: c\n" + snippet
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in caught.value.message
    assert caught.value.line is not None and caught.value.file.endswith("apps.yaml")
    if key is not None:
        assert caught.value.key == key


def test_parent_names_and_layers() -> None:
    assert parent_name("prod/canary") == "prod"
    assert parent_name("prod") is None and parent_name("prod/Canary") is None
    assert layered({"A": "1", "B": "2"}, {"B": "3", "C": "4"}) == {
        "A": ("1", "inherited"),
        "B": ("3", "own"),
        "C": ("4", "own"),
    }


def test_formation_overrides_per_process_and_per_size() -> None:
    parent = {"web": {"count": 10, "cpu": 512, "memory": 1024}, "worker": {"count": 2}}
    own = {"web": {"count": 1, "cpu": None, "memory": 2048}}
    assert effective_formation(parent, own) == {
        "web": {"count": 1, "cpu": 512, "memory": 2048},
        "worker": {"count": 2},
    }


def test_placement_layers_add_constraints_and_take_the_last_strategy() -> None:
    first = Placement.model_validate(
        {"constraints": [{"type": "distinctInstance"}], "strategy": [{"type": "random"}]}
    )
    second = Placement.model_validate({"constraints": [{"type": "distinctInstance"}]})
    merged = merge_placement(first, second, Placement())
    assert len(merged.constraints) == 2 and [s.type for s in merged.strategy] == ["random"]
