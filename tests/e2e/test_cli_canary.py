"""A canary through the installed CLI on the local AWS: ``stage/canary`` inherits ``stage``,
deploys in steps with progress lines, takes the share of simulated traffic its weight says,
rolls a failing release back with exit 1, and is promoted to ``stage``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_in, local_up

STACKYARD = Path(sys.executable).with_name("stackyard")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
MANIFEST = """\
processes:
  web:
    command: bin/web --port 8080
    port: 8080
    exposed: {host: api.example.com, path: /*}
    scale: 1
  worker: {command: bin/worker}
"""

Run = Callable[..., subprocess.CompletedProcess[str]]
CANARY = ("-a", "api", "-e", "stage/canary", "--local")


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Run, subprocess.CompletedProcess[str]]]:
    """The fixture's infrastructure on a local AWS, api deployed to stage, then to
    stage/canary in two steps (the deploy's output is the second item)."""
    root = tmp_path_factory.mktemp("canary-cli")
    folder = root / "project"
    shutil.copytree(FIXTURES, folder)
    (folder / "api.yaml").write_text(MANIFEST)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "STACKYARD_HOME": str(root / "home")}
    env.pop("STACKYARD_DATABASE_URL", None)

    run = cli_in(folder, env)

    latency = "resource=0s,AWS::ECS::Task=0.1s,AWS::ECS::HealthCheck=0.1s"
    local_up(run, latency)
    try:
        built = run("build", "--local", "stage.env", "stackyard.yaml")
        assert built.returncode == 0, built.stdout + built.stderr
        assert run("apps", "create", "api", "-m", "api.yaml").returncode == 0
        first = run("apps", "deploy", "nginx:1", "-a", "api", "-e", "stage", "--local")
        assert first.returncode == 0, first.stdout + first.stderr
        steps = ("--steps", "5,25", "--bake", "0.5s", "--poll", "0.1s")
        canary = run("apps", "deploy", "nginx:2", *CANARY, *steps)
        yield run, canary
    finally:
        run("local", "down")


def test_a_stepped_canary_deploy_shows_each_step(world: Any) -> None:
    _, deployed = world
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    err = deployed.stderr
    assert re.search(r"step 1/2 +5%  weight read back from the listener", err)
    assert re.search(r"step 2/2 +25%  baking 0s/0.5s  healthy 1/1, alarms: web-5xx OK", err)
    assert "api stage/canary v1: succeeded" in deployed.stdout
    assert "api stage/canary: 25% of the traffic" in deployed.stdout


def test_env_diff_and_info_show_what_the_canary_inherits(world: Any) -> None:
    run, _ = world
    shown = run("apps", "env", "diff", "stage", "stage/canary", "-a", "api")
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^  bindings.cluster .*\(inherited\)$", shown.stdout, re.M)
    assert re.search(
        r"^~ defaults.placement.strategy +spread\(instanceId\) +binpack", shown.stdout, re.M
    )
    info = run("apps", "info", "-a", "api")
    assert re.search(
        r"stage/canary: release v\d+.*\n(?:.*\n)*?    worker +constraints: "
        r"memberOf\(attribute:profile == web\)  strategy: binpack\(memory\)",
        info.stdout,
    ), info.stdout


def test_a_weight_is_read_back_and_the_traffic_follows_it(world: Any) -> None:
    run, _ = world
    weighed = run("apps", "canary", "weight", "50%", *CANARY)
    assert weighed.returncode == 0, weighed.stdout + weighed.stderr
    assert "weight 50% read back from the listener" in weighed.stdout
    status = json.loads(run("apps", "canary", "status", *CANARY, "--json").stdout)
    assert status["weights"] == {"web": 50.0} and status["health"]["ok"] is True
    traffic = run(
        "local", "traffic", status["listener"], "-n", "4000", "--host", "api.example.com", "--json"
    )
    assert traffic.returncode == 0, traffic.stderr
    canary = json.loads(traffic.stdout)["target_groups"][status["rules"][0]["canary_group"]]
    assert abs(canary / 40 - 50) <= 3


def test_a_failing_canary_release_rolls_back_and_exits_1(world: Any) -> None:
    run, _ = world
    failed = run("apps", "deploy", "app:v3-unhealthy", *CANARY, "--steps", "5", "--bake", "1s")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"api stage/canary v\d+: failed \(web: ", failed.stdout)
    assert re.search(r"api stage/canary: weight 0%, rolled back: v\d+ succeeded", failed.stdout)
    status = json.loads(run("apps", "canary", "status", *CANARY, "--json").stdout)
    assert status["weights"] == {"web": 0.0} and status["image"] == "nginx:2"


def test_promote_makes_a_stage_release_of_the_canarys_image(world: Any) -> None:
    run, _ = world
    promoted = run("apps", "promote", "stage/canary", "-a", "api", "--local")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert re.search(r"api stage v\d+: succeeded", promoted.stdout)
    assert "api stage/canary: weight 0%" in promoted.stdout
    releases = json.loads(run("apps", "releases", "-a", "api", "-e", "stage", "--json").stdout)
    assert releases[0]["image"] == "nginx:2" and releases[0]["status"] == "succeeded"
    assert releases[0]["description"].startswith("promote stage/canary v")
