"""Canary sub-environments on the local AWS: ``stage/canary`` runs in ``stage``'s cluster with
target groups of its own, takes the share of ``stage``'s traffic its weight gives, rolls back
on its own when it turns unhealthy (a health check or an alarm) within one bake period, stops
when a weight does not read back, and promotes its image digest to ``stage``."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackyard.apps.db.database import Database
from stackyard.apps.environments import load_environments
from stackyard.apps.manifest import parse_manifest
from stackyard.apps.rollout import CanaryPolicy, StepProgress
from stackyard.apps.service import AppsService
from stackyard.errors import StackyardError
from stackyard.local.elbv2.traffic import send_traffic
from stackyard.local.runner import LocalEndpoint

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
MANIFEST = """\
processes:
  web:
    command: bin/web --port 8080
    port: 8080
    exposed: {host: api.example.com, path: /*}
    scale: 2
    placement:
      constraints: [{type: memberOf, expression: "attribute:profile == web"}]
  worker: {command: bin/worker}
"""
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
FAST = {"bake": 2.0, "poll": 0.1, "confirm_timeout": 1.0, "confirm_poll": 0.1}


@dataclass
class World:
    endpoint: LocalEndpoint
    service: AppsService
    client: Callable[[str], Any]

    def share(self, requests: int = 10_000) -> float:
        """The canary's measured share of ``requests`` simulated requests, in percent."""
        status = self.service.canary_status("api", "stage/canary")
        answer = send_traffic(
            self.endpoint.url, status.listener, requests, host="api.example.com", path="/x"
        )
        canary = answer["target_groups"].get(status.rules[0].canary_group, 0)
        return 100.0 * canary / requests

    def post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.endpoint.url + path, data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from stackyard.engine.run import RunOptions
    from stackyard.project import Project
    from stackyard.workflow import build, connect

    root = tmp_path_factory.mktemp("canary")
    folder = root / "project"
    shutil.copytree(FIXTURES, folder)
    latency = "resource=0s,AWS::ECS::Task=0.1s,AWS::ECS::HealthCheck=0.1s"
    with pytest.MonkeyPatch.context() as patch, LocalEndpoint(latency=latency) as endpoint:
        patch.setenv("STACKYARD_HOME", str(root / "home"))
        gateway = connect(endpoint_url=endpoint.url, region="us-east-1")
        project = Project.load(
            str(folder / "stackyard.yaml"),
            environment_file=str(folder / "stage.env"),
            region="us-east-1",
        )
        infra = build(project, gateway, RunOptions())
        assert infra.ok, infra.summary()
        db = Database.open(f"sqlite:///{root / 'apps.db'}")
        environments = load_environments(str(folder / "apps.yaml"))
        service = AppsService(db, environments, gateway, "tester", "us-east-1")
        service.create("api", parse_manifest(MANIFEST, "app.yaml"))
        first = service.deploy("api", "stage", "nginx:1")
        assert first.exit_code == 0, first.release.reason
        # each test starts from a canary with a release (xdist may run any of them first)
        canary = service.deploy("api", "stage/canary", "nginx:2", canary=_policy(5, bake=0.2))
        assert canary.exit_code == 0, canary.release.reason
        assert canary.canary is not None and canary.canary.weight == 5
        try:
            yield World(endpoint, service, gateway.clients.client)
        finally:
            db.close()


def _policy(*steps: int, **changes: float) -> CanaryPolicy:
    return CanaryPolicy(steps, **{**FAST, **changes})


def test_the_canary_runs_in_the_parents_cluster_placed_over_its_defaults(world: World) -> None:
    ecs = world.client("ecs")
    outputs = world.service._outputs("api", "stage/canary")
    parent = world.service._outputs("api", "stage")
    assert outputs["ClusterName"] == parent["ClusterName"]
    assert outputs["WebTargetGroupArn"] != parent["WebTargetGroupArn"]
    described = ecs.describe_services(
        cluster=outputs["ClusterName"], services=[outputs["WebServiceName"]]
    )["services"][0]
    # the canary's defaults pin it to the web pool, on top of each process's own placement
    assert [c["expression"] for c in described["placementConstraints"]] == [
        "attribute:profile == web",
        "attribute:profile == web",
    ]
    assert [s["type"] for s in described["placementStrategy"]] == ["binpack"]
    tasks = world.service.ps("api", "stage/canary")
    assert sorted(t.process for t in tasks) == ["web", "web", "worker"]
    assert {t.profile for t in tasks} == {"web"}
    workers = ecs.describe_services(
        cluster=outputs["ClusterName"],
        services=[outputs["WorkerServiceName"], parent["WorkerServiceName"]],
    )["services"]
    assert [len(w["placementConstraints"]) for w in workers] == [1, 0]


@pytest.mark.parametrize("weight", [5, 25, 50])
def test_the_measured_share_follows_the_weight(world: World, weight: int) -> None:
    confirmed = world.service.canary_weight("api", "stage/canary", weight)
    assert confirmed.confirmed and confirmed.seen == {"web": float(weight)}
    assert abs(world.share() - weight) <= 3.0


def test_a_header_reaches_the_canary_alone(world: World) -> None:
    status = world.service.canary_status("api", "stage/canary")
    answer = send_traffic(
        world.endpoint.url,
        status.listener,
        200,
        host="api.example.com",
        headers={"X-Stackyard-Environment": "stage/canary"},
    )
    assert answer["target_groups"] == {status.rules[0].canary_group: 200}


def test_a_parent_config_change_reaches_the_canarys_next_release(world: World) -> None:
    svc = world.service
    svc.config_change("api", "stage", {"MODE": "live", "LEVEL": "info"}, [])
    svc.config_change("api", "stage/canary", {"LEVEL": "debug"}, [])
    result = svc.deploy("api", "stage/canary", "nginx:2", canary=_policy(5, bake=0.2))
    assert result.exit_code == 0, result.release.reason
    ecs = world.client("ecs")
    outputs = svc._outputs("api", "stage/canary")
    definition = ecs.describe_task_definition(taskDefinition=outputs["WebTaskDefinitionArn"])
    environment = {
        e["name"]: e["value"]
        for e in definition["taskDefinition"]["containerDefinitions"][0]["environment"]
    }
    assert (environment["MODE"], environment["LEVEL"]) == ("live", "debug")
    svc.config_change("api", "stage", {"MODE": "safe", "LEVEL": "warn"}, [])
    assert svc.config_get("api", "stage/canary") == {"MODE": "safe", "LEVEL": "debug"}


def _on_step(
    step: int, action: Callable[[], None]
) -> tuple[Callable[[StepProgress], None], dict[str, float]]:
    """A progress callback that runs ``action`` once step ``step``'s weight is confirmed, and
    the (monotonic) times it did and a step failed."""
    when: dict[str, float] = {}

    def progress(progress: StepProgress) -> None:
        if progress.phase == "confirmed" and progress.step == step and "acted" not in when:
            when["acted"] = time.monotonic()
            threading.Thread(target=action).start()
        if progress.phase == "failed":
            when["failed"] = time.monotonic()

    return progress, when


def _assert_rolled_back(world: World, result: Any, before: int) -> None:
    assert result.exit_code == 1
    assert result.release.status == "failed"
    assert result.rolled_back_to is not None and result.rolled_back_to.status == "succeeded"
    assert result.rolled_back_to.description.startswith(f"rollback to v{before}")
    status = world.service.canary_status("api", "stage/canary")
    assert status.weights == {"web": 0.0}
    assert status.release == result.rolled_back_to.version
    assert status.rollout is not None and status.rollout["status"] == "rolled_back"


def test_an_unhealthy_canary_rolls_back_within_one_bake_period(world: World) -> None:
    bake = 3.0
    before = world.service.canary_status("api", "stage/canary").release
    assert before is not None
    image = "nginx:3"

    def fail() -> None:
        world.post("/_stackyard/health/images", {"image": image, "healthy": False})

    progress, when = _on_step(1, fail)
    try:
        result = world.service.deploy(
            "api", "stage/canary", image, canary=_policy(10, 50, bake=bake), on_step=progress
        )
    finally:
        world.post("/_stackyard/health/images", {"image": image, "healthy": True})
    assert result.canary is not None and not result.canary.ok
    assert result.canary.step == 1 and "unhealthy" in result.release.reason
    # caught before step 1's bake would have ended, then rolled back
    assert when["failed"] - when["acted"] < bake
    history = world.service.releases("api", "stage/canary")
    failed = next(r for r in history if r.version == result.release.version)
    assert failed.status == "failed" and "unhealthy" in failed.reason
    _assert_rolled_back(world, result, before)


def test_an_alarm_in_alarm_rolls_back(world: World) -> None:
    before = world.service.canary_status("api", "stage/canary").release
    assert before is not None
    cloudwatch = world.client("cloudwatch")
    alarm = world.service._outputs("api", "stage/canary")["WebAlarms"].split(",")[0]

    def fire() -> None:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx burst")

    progress, _ = _on_step(2, fire)
    try:
        result = world.service.deploy(
            "api", "stage/canary", "nginx:4", canary=_policy(5, 25), on_step=progress
        )
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test over")
    assert result.canary is not None and result.canary.step == 2
    assert f"alarm {alarm} is in ALARM (5xx burst)" in result.release.reason
    _assert_rolled_back(world, result, before)


def test_a_weight_that_does_not_read_back_stops_the_rollout(world: World) -> None:
    before = world.service.canary_status("api", "stage/canary").release
    assert before is not None
    rule = world.service.canary_status("api", "stage/canary").rules[0].rule_arn
    world.post("/_stackyard/elbv2/pinned-rules", {"rule_arn": rule, "pinned": True})
    steps: list[StepProgress] = []
    try:
        result = world.service.deploy(
            "api", "stage/canary", "nginx:5", canary=_policy(5, 25), on_step=steps.append
        )
    finally:
        world.post("/_stackyard/elbv2/pinned-rules", {"rule_arn": rule, "pinned": False})
    assert result.exit_code == 1 and result.canary is not None
    assert result.canary.step == 1 and "does not read back the weight" in result.release.reason
    assert [s.phase for s in steps] == ["failed"]  # never baked
    _assert_rolled_back(world, result, before)


def test_promote_makes_a_parent_release_with_the_canarys_image_digest(world: World) -> None:
    svc = world.service
    ecr = world.client("ecr")
    ecr.create_repository(repositoryName="api")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "1" * 64},
        "layers": [],
    }
    ecr.put_image(repositoryName="api", imageManifest=json.dumps(manifest), imageTag="v7")
    svc.config_change("api", "stage/canary", {"FEATURE": "on"}, [])
    result = svc.deploy("api", "stage/canary", f"{ECR}:v7", canary=_policy(25, bake=0.2))
    assert result.exit_code == 0, result.release.reason
    canary = result.release
    assert canary.image.startswith(f"{ECR}@sha256:")
    # the tag moves on; the promotion still takes the digest the canary ran
    other = {**manifest, "layers": [{"digest": "sha256:" + "2" * 64}]}
    ecr.put_image(repositoryName="api", imageManifest=json.dumps(other), imageTag="v7")
    with pytest.raises(StackyardError, match="runs v"):
        svc.promote("api", "stage/canary", release=canary.version - 1)
    promoted = svc.promote("api", "stage/canary", release=canary.version, with_config=True)
    assert promoted.exit_code == 0, promoted.release.reason
    parent = svc.releases("api", "stage")[0]
    assert (parent.image, parent.status) == (canary.image, "succeeded")
    assert parent.description.startswith(f"promote stage/canary v{canary.version} with config")
    assert "FEATURE" in parent.description
    assert "FEATURE" in parent.config_keys
    assert svc.config_layers("api", "stage/canary")["FEATURE"] == ("on", "inherited")
    assert svc.canary_status("api", "stage/canary").weights == {"web": 0.0}


def test_an_unhealthy_canary_is_not_promoted(world: World) -> None:
    svc = world.service
    alarm = svc._outputs("api", "stage/canary")["WebAlarms"].split(",")[-1]
    cloudwatch = world.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="slow")
    try:
        count = len(svc.releases("api", "stage"))
        with pytest.raises(StackyardError, match="is not healthy, so it is not promoted"):
            svc.promote("api", "stage/canary")
        assert len(svc.releases("api", "stage")) == count
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="ok")


def test_destroying_the_canary_gives_the_rule_back_to_the_parent(world: World) -> None:
    svc = world.service
    rule = svc.canary_status("api", "stage/canary").rules[0]
    assert svc.destroy("api", "stage/canary") == 0
    elbv2 = world.client("elbv2")
    actions = elbv2.describe_rules(RuleArns=[rule.rule_arn])["Rules"][0]["Actions"]
    assert actions[0]["TargetGroupArn"] == rule.parent_group
    assert (
        "ForwardConfig" not in actions[0] or len(actions[0]["ForwardConfig"]["TargetGroups"]) == 1
    )
