"""A sub-environment's config vars and formation in the apps database: the parent's, with the
child's own keys on top; a change to the parent reaches the child unless it overrides the key.
On SQLite and PostgreSQL; no AWS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stackyard.apps.db.database import Database
from stackyard.apps.environments import load_environments
from stackyard.apps.formation import Scale
from stackyard.apps.manifest import parse_manifest
from stackyard.apps.service import AppsService
from stackyard.errors import UsageError

APPS = """\
config: stackyard.yaml
environments:
  prod:
    cluster: ${output cluster::ClusterName}
    listener: ${output gateway::ListenerArn}
    defaults:
      placement:
        strategy: [{type: spread, field: instanceId}]
  prod/canary:
    parent: prod
    defaults:
      placement:
        constraints: [{type: memberOf, expression: "attribute:ecs.instance-type == t3.small"}]
"""
MANIFEST = """\
processes:
  web:
    command: bin/web
    placement:
      constraints: [{type: memberOf, expression: "attribute:profile == web"}]
  worker: {command: bin/worker}
"""


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[AppsService]:
    (tmp_path / "apps.yaml").write_text(APPS)
    db = Database.open(database_url)
    svc = AppsService(db, load_environments(str(tmp_path / "apps.yaml")), actor="me")
    svc.create("api", parse_manifest(MANIFEST, "app.yaml"))
    try:
        yield svc
    finally:
        db.close()


def test_a_parent_change_reaches_the_child_and_an_override_does_not_move(
    service: AppsService,
) -> None:
    service.config_change("api", "prod", {"MODE": "live", "LEVEL": "info"}, [])
    service.config_change("api", "prod/canary", {"LEVEL": "debug"}, [])
    assert service.config_get("api", "prod/canary") == {"MODE": "live", "LEVEL": "debug"}
    service.config_change("api", "prod", {"MODE": "safe", "LEVEL": "warn", "NEW": "1"}, [])
    assert service.config_get("api", "prod/canary") == {
        "MODE": "safe",
        "LEVEL": "debug",
        "NEW": "1",
    }
    assert service.config_layers("api", "prod/canary") == {
        "LEVEL": ("debug", "own"),
        "MODE": ("safe", "inherited"),
        "NEW": ("1", "inherited"),
    }
    assert service.config_get("api", "prod") == {"MODE": "safe", "LEVEL": "warn", "NEW": "1"}


def test_unsetting_an_override_brings_the_parents_value_back(service: AppsService) -> None:
    service.config_change("api", "prod", {"LEVEL": "info"}, [])
    service.config_change("api", "prod/canary", {"LEVEL": "debug"}, [])
    service.config_change("api", "prod/canary", {}, ["LEVEL"])
    assert service.config_get("api", "prod/canary") == {"LEVEL": "info"}
    with pytest.raises(UsageError, match="LEVEL is prod's"):
        service.config_change("api", "prod/canary", {}, ["LEVEL"])


def test_formation_follows_the_parent_until_the_child_scales(service: AppsService) -> None:
    service.scale_formation("api", "prod", [Scale("web", 10, 512, 1024), Scale("worker", 2)])
    service.scale_formation("api", "prod/canary", [Scale("web", 1)])
    info = service.info("api")
    assert info["environments"]["prod/canary"]["formation"] == {"web": 1, "worker": 2}
    assert service._formation("api", "prod/canary") == {
        "web": {"count": 1, "cpu": 512, "memory": 1024},
        "worker": {"count": 2, "cpu": None, "memory": None},
    }
    rows = {(r.section, r.key): r for r in service.env_diff("api", "prod", "prod/canary")}
    assert (rows["formation", "web.count"].right, rows["formation", "web.count"].same) == (
        "1",
        False,
    )
    assert rows["formation", "web.cpu"].right_origin == "inherited"
    assert rows["bindings", "cluster"].right_origin == "inherited"


def test_info_shows_each_processs_effective_placement(service: AppsService) -> None:
    placement = service.info("api")["environments"]["prod/canary"]["placement"]
    assert placement["web"]["constraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == t3.small"},
        {"type": "memberOf", "expression": "attribute:profile == web"},
    ]
    assert placement["worker"]["strategy"] == [{"type": "spread", "field": "instanceId"}]
