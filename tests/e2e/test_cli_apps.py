"""``stackyard apps`` through the installed CLI on the local AWS: deploy with placement,
scale, secrets kept out, a failing image, an unplaceable constraint, rollback, and two
deploys at once serialised by the database lock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_in, local_client, local_up

STACKYARD = Path(sys.executable).with_name("stackyard")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
SECRET = "hunter2-not-in-clear-7f3a"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Path, str]]:
    """A local AWS with the fixture's cluster and pools built, and the app created."""
    root = tmp_path_factory.mktemp("apps")
    folder = root / "project"
    shutil.copytree(FIXTURES, folder)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "STACKYARD_HOME": str(root / "home")}
    env.pop("STACKYARD_DATABASE_URL", None)

    run = cli_in(folder, env)

    endpoint = local_up(run)
    try:
        built = run("build", "--local", "stage.env", "stackyard.yaml")
        assert built.returncode == 0, built.stdout + built.stderr
        put = run("secrets", "put", "--local", "/e2e-apps/api/db-url", stdin=SECRET)
        assert put.returncode == 0, put.stdout + put.stderr
        created = run("apps", "create", "api", "-m", "app.yaml")
        assert created.returncode == 0, created.stderr
        yield run, root, endpoint
    finally:
        run("local", "down")


def _ecs(endpoint: str) -> Any:
    return local_client(endpoint, "ecs")


def _ps(run: Run) -> list[dict[str, Any]]:
    shown = run("apps", "ps", "-a", "api", "-e", "stage", "--local", "--json")
    assert shown.returncode == 0, shown.stderr
    tasks: list[dict[str, Any]] = json.loads(shown.stdout)
    return tasks


def _releases(run: Run) -> list[dict[str, Any]]:
    shown = run("apps", "releases", "-a", "api", "-e", "stage", "--json")
    assert shown.returncode == 0, shown.stderr
    rows: list[dict[str, Any]] = json.loads(shown.stdout)
    return rows


def test_deploy_places_tasks_on_the_pools_their_constraints_name(world: Any) -> None:
    run, _, _ = world
    deployed = run("apps", "deploy", "nginx:1", "-a", "api", "-e", "stage", "--local")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "api stage v1: succeeded" in deployed.stdout
    assert "COMPLETED" in deployed.stderr
    tasks = _ps(run)
    assert sorted(t["process"] for t in tasks) == ["web", "web", "worker"]
    assert all(t["status"] == "RUNNING" and t["release"] == "v1" for t in tasks)
    assert {t["profile"] for t in tasks if t["process"] == "web"} == {"web"}
    assert {t["instance_type"] for t in tasks if t["process"] == "worker"} == {"t3.medium"}


def test_scale_makes_a_release_with_more_tasks(world: Any) -> None:
    run, _, _ = world
    scaled = run("apps", "scale", "-a", "api", "-e", "stage", "--local", "web=3")
    assert scaled.returncode == 0, scaled.stdout + scaled.stderr
    assert [t["process"] for t in _ps(run)].count("web") == 3
    assert _releases(run)[0]["formation"]["web"]["count"] == 3


def test_diff_shows_what_a_deploy_would_change_and_records_nothing(world: Any) -> None:
    run, _, _ = world
    count = len(_releases(run))
    shown = run("apps", "diff", "nginx:2", "-a", "api", "-e", "stage", "--local")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "app-api-stage" in shown.stdout and "WebTaskDefinition" in shown.stdout
    assert "nginx:2" in shown.stdout
    assert len(_releases(run)) == count


def test_a_secret_config_var_reaches_the_task_definition_only_as_value_from(world: Any) -> None:
    run, root, endpoint = world
    ref = "DB_URL=secret:/e2e-apps/api/db-url"
    changed = run("apps", "env", "set", "-a", "api", "-e", "stage", "--local", ref, "MODE=live")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    ecs = _ecs(endpoint)
    service = ecs.describe_services(
        cluster="e2e-apps-cluster", services=["e2e-apps-app-api-stage-web"]
    )
    definition = ecs.describe_task_definition(
        taskDefinition=service["services"][0]["taskDefinition"]
    )["taskDefinition"]
    container = definition["containerDefinitions"][0]
    assert container["secrets"] == [
        {
            "name": "DB_URL",
            "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/e2e-apps/api/db-url",
        }
    ]
    assert {"name": "MODE", "value": "live"} in container["environment"]
    got = run("apps", "env", "get", "-a", "api", "-e", "stage", "--json")
    assert json.loads(got.stdout)["DB_URL"] == "secret:/e2e-apps/api/db-url"
    cfn = local_client(endpoint, "cloudformation")
    template = cfn.get_template(StackName="e2e-apps-app-api-stage")["TemplateBody"]
    stacks = cfn.describe_stacks(StackName="e2e-apps-app-api-stage")
    seen = [json.dumps(template, default=str), json.dumps(stacks, default=str)]
    planned = run("apps", "diff", "nginx:9", "-a", "api", "-e", "stage", "--local", "--json")
    assert planned.returncode == 0, planned.stderr
    assert "nginx:9" in planned.stdout
    seen += [changed.stdout, changed.stderr, got.stdout, json.dumps(definition, default=str)]
    seen += [planned.stdout, planned.stderr]
    assert all(SECRET not in text for text in seen)
    for path in (root / "home").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_failing_image_is_rolled_back_and_the_deploy_exits_non_zero(world: Any) -> None:
    run, _, _ = world
    before = {t["release"] for t in _ps(run)}
    failed = run("apps", "deploy", "app:v2-unhealthy", "-a", "api", "-e", "stage", "--local")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "failed" in failed.stdout and "deployment failed" in failed.stdout
    latest = _releases(run)[0]
    assert latest["status"] == "failed" and "deployment failed" in latest["reason"]
    assert {t["release"] for t in _ps(run)} == before


def test_rollback_makes_a_new_release_from_an_old_one(world: Any) -> None:
    run, _, _ = world
    back = run("apps", "rollback", "-a", "api", "-e", "stage", "--local", "v1")
    assert back.returncode == 0, back.stdout + back.stderr
    latest = _releases(run)[0]
    assert (latest["image"], latest["status"]) == ("nginx:1", "succeeded")
    assert latest["description"] == "rollback to v1"
    assert {t["release"] for t in _ps(run)} == {f"v{latest['version']}"}


def test_two_deploys_at_once_are_serialised(world: Any) -> None:
    run, root, _ = world
    from stackyard.apps.db.database import Database
    from stackyard.apps.db.locks import deploy_lock

    env = {**os.environ, "NO_COLOR": "1", "STACKYARD_HOME": str(root / "home")}
    args = ["apps", "deploy", "-a", "api", "-e", "stage", "--local"]
    db = Database.open(f"sqlite:///{root / 'home' / 'apps.db'}")
    try:
        # Both start while the lock is held, so both must wait, then run one after the other.
        with deploy_lock(db, "api/stage", "the-test"):
            procs = [
                subprocess.Popen(
                    [str(STACKYARD), *args, image],
                    cwd=root / "project",
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for image in ("nginx:3", "nginx:4")
            ]
            time.sleep(6)
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        db.close()
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("waiting for the deploy lock held by the-test" in err for _, err in outs), outs
    first, second = _releases(run)[1], _releases(run)[0]
    assert first["status"] == second["status"] == "succeeded"
    assert first["version"] + 1 == second["version"]
    events = json.loads(run("apps", "events", "-a", "api", "--json").stdout)
    steps = [
        (e["kind"], e["release"]) for e in reversed(events) if e["kind"] in ("release", "deploy")
    ]
    pair = [(k, r) for k, r in steps if r in (first["version"], second["version"])]
    assert pair == [
        ("release", first["version"]),
        ("deploy", first["version"]),
        ("release", second["version"]),
        ("deploy", second["version"]),
    ]
    assert {t["release"] for t in _ps(run)} == {f"v{second['version']}"}


def test_run_a_one_off_command_and_exit_with_its_code(world: Any) -> None:
    run, _, _ = world
    args = ["apps", "run", "-a", "api", "-e", "stage", "--local", "-p", "worker", "--"]
    ok = run(*args, "bin/migrate", "--check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "exited 0" in ok.stderr
    failed = run(*args, "sh", "-c", "bin/migrate; exit 3")
    assert failed.returncode == 3, failed.stdout + failed.stderr
    events = json.loads(run("apps", "events", "-a", "api", "--json").stdout)
    assert events[0]["kind"] == "run" and "exit 3" in events[0]["message"]


def test_restart_replaces_the_tasks_of_one_process_in_the_same_release(world: Any) -> None:
    run, _, _ = world
    before = {t["task"] for t in _ps(run) if t["process"] == "web"}
    releases = len(_releases(run))
    restarted = run("apps", "restart", "-a", "api", "-e", "stage", "--local", "web")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = _ps(run)
    assert before.isdisjoint({t["task"] for t in after if t["process"] == "web"})
    assert len({t["release"] for t in after}) == 1
    assert len(_releases(run)) == releases


def test_a_constraint_no_instance_meets_fails_with_the_ecs_reason(world: Any) -> None:
    run, root, _ = world
    manifest = root / "project" / "app.yaml"
    manifest.write_text(manifest.read_text().replace("profile == worker", "profile == gpu"))
    assert run("apps", "create", "api", "-m", "app.yaml").returncode == 0
    failed = run("apps", "deploy", "nginx:5", "-a", "api", "-e", "stage", "--local")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "MemberOf placement constraint unsatisfied" in failed.stdout
    events = run("apps", "events", "-a", "api", "--json")
    kinds = [e["kind"] for e in json.loads(events.stdout)]
    assert {"create", "deploy", "scale", "config", "release"} <= set(kinds)
    assert all(e["actor"] for e in json.loads(events.stdout))


def test_destroy_deletes_the_stack_and_the_environment_records(world: Any) -> None:
    run, _, endpoint = world
    gone = run("apps", "destroy", "-a", "api", "-e", "stage", "--local", "--yes")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    cfn = local_client(endpoint, "cloudformation")
    names = [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]
    assert "e2e-apps-app-api-stage" not in names
    assert _releases(run) == []
    events = json.loads(run("apps", "events", "-a", "api", "--json").stdout)
    assert events[0]["kind"] == "destroy"


def test_a_protected_environment_holds_a_deploy_without_approval(world: Any) -> None:
    run, root, _ = world
    manifest = root / "project" / "shop.yaml"
    manifest.write_text(
        "processes:\n  web: {command: bin/web, port: 8080, exposed: {host: shop.example.com}}\n"
    )
    assert run("apps", "create", "shop", "-m", "shop.yaml").returncode == 0
    held = run("apps", "deploy", "nginx:1", "-a", "shop", "-e", "prod", "--local", stdin="")
    assert held.returncode == 3, held.stdout + held.stderr
    assert "shop prod v1: held" in held.stdout
    approved = run(
        "apps", "deploy", "nginx:1", "-a", "shop", "-e", "prod", "--local", "--approve-protected"
    )
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "shop prod v2: succeeded" in approved.stdout
