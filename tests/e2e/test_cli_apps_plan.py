"""Reviewed deploys through the installed CLI on the local AWS: ``apps plan -o FILE``,
``approve FILE``, ``apps apply FILE`` to a protected environment; what an apply refuses (a
config var set since, a release made since, an edited file) and that a refusal records
nothing; and the clear errors for the wrong kind of plan file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_in, local_client, local_up

STACKYARD = Path(sys.executable).with_name("stackyard")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
MANIFEST = "processes:\n  web: {command: bin/web, port: 8080, exposed: {host: shop.example.com}}\n"
REPOSITORY = "shop"
ECR = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}"
PROD = ("-a", "shop", "-e", "prod", "--local")

Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class World:
    run: Run
    folder: Path
    endpoint: str

    def client(self, service: str) -> Any:
        return local_client(self.endpoint, service)

    def push(self, tag: str) -> str:
        """Push an image tagged ``tag`` (its manifest made unique by the tag); its digest."""
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + "1" * 64},
            "layers": [{"digest": f"sha256:{tag.encode().hex():0<64}"[:71]}],
        }
        answer = self.client("ecr").put_image(
            repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=tag
        )
        return str(answer["image"]["imageId"]["imageDigest"])

    def releases(self) -> list[dict[str, Any]]:
        shown = self.run("apps", "releases", "-a", "shop", "-e", "prod", "--json")
        assert shown.returncode == 0, shown.stderr
        rows: list[dict[str, Any]] = json.loads(shown.stdout)
        return rows

    def running_image(self) -> str:
        ecs = self.client("ecs")
        service = ecs.describe_services(
            cluster="e2e-apps-cluster", services=["e2e-apps-app-shop-prod-web"]
        )["services"][0]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
        return str(definition["taskDefinition"]["containerDefinitions"][0]["image"])

    def plan(self, image: str, name: str) -> Path:
        out = self.folder / name
        made = self.run("apps", "plan", image, *PROD, "-o", str(out))
        assert made.returncode == 0, made.stdout + made.stderr
        return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A local AWS with the fixture's cluster built, an ECR repository, and the app ``shop``
    (whose ``prod`` is protected)."""
    root = tmp_path_factory.mktemp("apps-plan")
    folder = root / "project"
    shutil.copytree(FIXTURES, folder)
    (folder / "shop.yaml").write_text(MANIFEST)
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "STACKYARD_HOME": str(root / "home"),
        "STACKYARD_APPROVAL_KEY": "a-key-only-reviewers-and-ci-hold",
    }
    env.pop("STACKYARD_DATABASE_URL", None)

    run = cli_in(folder, env, stdin="")  # an empty pipe: never a terminal

    endpoint = local_up(run)
    try:
        built = run("build", "--local", "stage.env", "stackyard.yaml")
        assert built.returncode == 0, built.stdout + built.stderr
        created = run("apps", "create", "shop", "-m", "shop.yaml")
        assert created.returncode == 0, created.stderr
        found = World(run, folder, endpoint)
        found.client("ecr").create_repository(repositoryName=REPOSITORY)
        yield found
    finally:
        run("local", "down")


def test_plan_approve_apply_deploys_a_protected_environment(world: World) -> None:
    digest = world.push("v1")
    planfile = world.plan(f"{ECR}:v1", "first.plan")
    assert world.releases() == []  # planning records nothing
    saved = json.loads(planfile.read_text())
    assert saved["release"]["image"] == f"{ECR}@{digest}"
    assert (saved["release"]["version"], saved["release"]["replaces"]) == (1, None)
    approved = world.run("approve", str(planfile), "--by", "ana")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    applied = world.run("apps", "apply", str(planfile), "--local")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "shop prod v1: succeeded" in applied.stdout
    assert "approved by ana (signatures verified)" in applied.stderr
    latest = world.releases()[0]
    assert (latest["version"], latest["status"]) == (1, "succeeded")
    assert latest["image"] == f"{ECR}@{digest}"
    assert world.running_image() == f"{ECR}@{digest}"


def test_without_approval_the_apply_holds_and_records_nothing(world: World) -> None:
    world.push("v2")
    planfile = world.plan(f"{ECR}:v2", "unapproved.plan")
    count = len(world.releases())
    held = world.run("apps", "apply", str(planfile), "--local")
    assert held.returncode == 3, held.stdout + held.stderr
    assert "held" in held.stderr and f"stackyard approve {planfile}" in held.stderr
    assert len(world.releases()) == count
    # nothing was recorded, so the same plan, once approved, deploys
    assert world.run("approve", str(planfile), "--by", "ana").returncode == 0
    applied = world.run("apps", "apply", str(planfile), "--local")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"shop prod v{count + 1}: succeeded" in applied.stdout


def test_approve_protected_breaks_glass(world: World) -> None:
    digest = world.push("v3")
    planfile = world.plan(f"{ECR}:v3", "glass.plan")
    applied = world.run("apps", "apply", str(planfile), "--local", "--approve-protected")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "WARNING: --approve-protected" in applied.stderr
    assert world.releases()[0]["status"] == "succeeded"
    assert world.running_image() == f"{ECR}@{digest}"


def test_a_config_var_set_since_the_plan_is_refused(world: World) -> None:
    world.push("v4")
    planfile = world.plan(f"{ECR}:v4", "config.plan")
    assert world.run("approve", str(planfile), "--by", "ana").returncode == 0
    changed = world.run("apps", "env", "set", *PROD[:4], "--no-deploy", "FEATURE_X=on")
    assert changed.returncode == 0, changed.stderr
    count = len(world.releases())
    refused = world.run("apps", "apply", str(planfile), "--local")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "config FEATURE_X: set since the plan" in refused.stderr
    assert "FEATURE_X=on" not in refused.stderr  # keys are named, values are not
    assert "stackyard apps plan" in refused.stderr
    assert len(world.releases()) == count


def test_a_release_made_since_the_plan_is_refused(world: World) -> None:
    world.push("v5")
    planfile = world.plan(f"{ECR}:v5", "raced.plan")
    assert world.run("approve", str(planfile), "--by", "ana").returncode == 0
    other = world.run("apps", "deploy", "nginx:1", *PROD, "--approve-protected")
    assert other.returncode == 0, other.stdout + other.stderr
    count = len(world.releases())
    refused = world.run("apps", "apply", str(planfile), "--local")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "another release was made since the plan" in refused.stderr
    assert "the current release moved" in refused.stderr
    assert len(world.releases()) == count
    assert world.releases()[0]["image"] == "nginx:1"


def test_a_stack_that_would_change_otherwise_is_refused(world: World) -> None:
    world.push("v5b")
    planfile = world.plan(f"{ECR}:v5b", "moved-stack.plan")
    assert world.run("approve", str(planfile), "--by", "ana").returncode == 0
    apps_file = world.folder / "apps.yaml"
    before = apps_file.read_text()
    assert before.rstrip().endswith("secrets_key: ${output secrets-key::KeyArn}")  # prod's
    count = len(world.releases())
    # the same release, but prod's defaults now size its tasks otherwise
    apps_file.write_text(before + "    defaults: {cpu: 512, memory: 1024}\n")
    try:
        refused = world.run("apps", "apply", str(planfile), "--local")
    finally:
        apps_file.write_text(before)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "the plan no longer matches what would run" in refused.stderr
    assert "app-shop-prod: desired template changed since the plan was made" in refused.stderr
    assert len(world.releases()) == count


def test_an_edited_plan_file_is_refused(world: World) -> None:
    world.push("v6")
    planfile = world.plan(f"{ECR}:v6", "edited.plan")
    count = len(world.releases())
    data = json.loads(planfile.read_text())
    # the stack's plan edited: the reason a reviewer read
    data["plan"]["stacks"][0]["reason"] = "nothing to see here"
    planfile.write_text(json.dumps(data))
    refused = world.run("apps", "apply", str(planfile), "--local", "--approve-protected")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "it was edited" in refused.stderr
    # the release edited: another image than the one planned
    data = json.loads(world.plan(f"{ECR}:v6", "edited.plan").read_text())
    data["release"]["image"] = "nginx:666"
    planfile.write_text(json.dumps(data))
    refused = world.run("apps", "apply", str(planfile), "--local", "--approve-protected")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "image: " in refused.stderr and "nginx:666" in refused.stderr
    # edited after it was approved: the signature no longer covers it
    planfile = world.plan(f"{ECR}:v6", "approved-then-edited.plan")
    assert world.run("approve", str(planfile), "--by", "ana").returncode == 0
    data = json.loads(planfile.read_text())
    data["release"]["formation"] = {"web": {"count": 9, "cpu": None, "memory": None}}
    planfile.write_text(json.dumps(data))
    refused = world.run("apps", "apply", str(planfile), "--local")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "it approves another plan" in refused.stderr
    assert len(world.releases()) == count


def test_the_wrong_kind_of_plan_file_is_a_clear_error(world: World) -> None:
    stack_plan = world.folder / "stacks.plan"
    made = world.run("plan", "--local", "-o", str(stack_plan), "stage.env", "stackyard.yaml")
    assert made.returncode == 0, made.stdout + made.stderr
    wrong = world.run("apps", "apply", str(stack_plan), "--local")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert f"{stack_plan} is a stack plan" in wrong.stderr
    assert f"stackyard apply {stack_plan}" in wrong.stderr
    apps_plan = world.plan("nginx:1", "apps.plan")
    wrong = world.run("apply", str(apps_plan), "--local")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert f"{apps_plan} is an app deploy's plan" in wrong.stderr
    assert f"stackyard apps apply {apps_plan}" in wrong.stderr
    for problem, expected in (
        (world.folder / "missing.plan", "cannot read plan file"),
        (world.folder / "shop.yaml", "not a stackyard apps plan"),
    ):
        wrong = world.run("apps", "apply", str(problem), "--local")
        assert wrong.returncode == 2, wrong.stdout + wrong.stderr
        assert str(problem) in wrong.stderr and expected in wrong.stderr
        assert "hint:" in wrong.stderr and "Traceback" not in wrong.stderr
    wrong = world.run("apps", "apply", str(apps_plan), "-a", "api", "--local")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert f"{apps_plan} is a plan of shop in prod, not -a api" in wrong.stderr
    for field, value, expected in (
        ("app", "ghost", "no app 'ghost'"),
        ("environment", "nowhere", "no environment 'nowhere'"),
    ):
        data = json.loads(apps_plan.read_text())
        data["release"][field] = value
        elsewhere = world.folder / f"{value}.plan"
        elsewhere.write_text(json.dumps(data))
        wrong = world.run("apps", "apply", str(elsewhere), "--local")
        assert wrong.returncode == 2, wrong.stdout + wrong.stderr
        assert f"error: {elsewhere}, a plan of " in wrong.stderr and expected in wrong.stderr
        assert "hint:" in wrong.stderr


def test_a_canarys_plan_deploys_as_a_plain_deploy_without_steps(world: World) -> None:
    stage = world.run("apps", "deploy", "nginx:1", "-a", "shop", "-e", "stage", "--local")
    assert stage.returncode == 0, stage.stdout + stage.stderr
    canary = ("-a", "shop", "-e", "stage/canary", "--local")
    planfile = world.folder / "canary.plan"
    steps = world.run("apps", "plan", "nginx:2", *canary, "-o", str(planfile), "--steps", "5")
    assert steps.returncode == 2 and "--steps" in steps.stderr
    made = world.run("apps", "plan", "nginx:2", *canary, "-o", str(planfile))
    assert made.returncode == 0, made.stdout + made.stderr
    applied = world.run("apps", "apply", str(planfile), "--local")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "shop stage/canary v1: succeeded" in applied.stdout
    status = world.run("apps", "canary", "status", *canary, "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert (shown["release"], shown["image"]) == (1, "nginx:2")
    assert shown["rollout"] is None  # no steps were taken
