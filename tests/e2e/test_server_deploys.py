"""``stackyard server`` as a team runs it, on the local AWS: a signed slash command deploys a
ref whose image the registry (ECR) confirms, with progress and the result posted to a local
``response_url``; a missing image is refused before anything is planned; continuous delivery
deploys a pushed commit once its checks pass and reports GitHub deployment statuses to a
local server that checks each request; the CLI's ``apps --server`` prints what it prints
locally; a SIGTERM lets a running deploy finish, or hands it back to be followed after a
restart; and two servers on one PostgreSQL never run one deploy twice."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import local_client, local_up

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "server"))
from server_support import (
    STACKYARD,
    Recorder,
    ServerProcess,
    github_hook,
    push,
    server_env,
    slash,
    start_server,
    status,
)

_spec = importlib.util.spec_from_file_location(
    "apps_db_fixtures", Path(__file__).resolve().parents[1] / "unit" / "apps" / "conftest.py"
)
assert _spec and _spec.loader
_apps_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_apps_db)
postgres_server = _apps_db.postgres_server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
GH_TOKEN = "ghp_test_token_for_the_local_github"

# a canary takes a share of its parent's listener rules: one exposed process, no constraints
SHOP = """\
processes:
  web:
    command: bin/web --port 8080
    port: 8080
    exposed: {host: shop.example.com, path: /*}
    scale: 1
"""

SERVER_YAML = """\
apps_file: apps.yaml
aliases: {{staging: stage}}
slack: {{notify_url: "{notify}/notify"}}
github: {{api_url: "{github}"}}
apps:
  api:
    repository: acme/api
    image: "{{registry}}/{{app}}:{{sha}}"
    default_ref: main
    default_environment: stage
    canary: {{steps: [10, 50], bake: 0.5, poll: 0.25}}
    cd: {{branch: main, environment: stage, required: [ci/test]}}
  shop:
    image: "{{registry}}/{{app}}:{{ref}}"
    canary: {{steps: [10, 50], bake: 0.5, poll: 0.25}}
  web:
    repository: acme/web
    image: "{{registry}}/{{app}}:{{ref}}"
    cd: {{branch: main, environment: stage, required: []}}
"""


@dataclass
class World:
    root: Path
    folder: Path
    endpoint: str
    env: dict[str, str]
    responses: Recorder
    github: Recorder
    deployments: list[dict[str, Any]]

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(STACKYARD), *args],
            cwd=self.folder,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def client(self, service: str) -> Any:
        return local_client(self.endpoint, service)

    def push_image(self, repository: str, tag: str) -> None:
        ecr = self.client("ecr")
        with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
            ecr.create_repository(repositoryName=repository)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + tag.ljust(64, "0")[:64],
                "size": 1,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)

    def token(self, user: str, *scopes: str, db: str | None = None) -> str:
        args = ["server"] + (["--database-url", db] if db else [])
        flags = [f"--scope={s}" for s in scopes]
        added = self.run(*args, "users", "add", user, "--slack", f"U_{user.upper()}", *flags)
        assert added.returncode == 0, added.stderr
        made = self.run(*args, "tokens", "create", user, f"{user}-{time.time_ns()}")
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()


def _github_routes(deployments: list[dict[str, Any]]) -> dict[str, Any]:
    def checked(seen: Any) -> tuple[int, Any] | None:
        if seen.headers.get("authorization") != f"Bearer {GH_TOKEN}":
            return 401, {"message": "Bad credentials"}
        if seen.headers.get("accept") != "application/vnd.github+json":
            return 415, {"message": "bad Accept"}
        if seen.headers.get("x-github-api-version") != "2022-11-28":
            return 400, {"message": "bad API version"}
        return None

    def create(seen: Any) -> tuple[int, Any]:
        bad = checked(seen)
        if bad:
            return bad
        body = seen.body
        if not re.fullmatch(r"[0-9a-f]{40}", body.get("ref", "")) or not body.get("environment"):
            return 422, {"message": "Validation Failed"}
        deployments.append({"id": 100 + len(deployments), **body, "statuses": []})
        return 201, {"id": deployments[-1]["id"]}

    def state(seen: Any) -> tuple[int, Any]:
        bad = checked(seen)
        if bad:
            return bad
        number = int(seen.path.split("/")[-2])
        found = [d for d in deployments if d["id"] == number]
        if not found or seen.body.get("state") not in (
            "in_progress",
            "success",
            "failure",
            "error",
        ):
            return 422, {"message": "Validation Failed"}
        found[0]["statuses"].append(seen.body["state"])
        return 201, {"id": len(found[0]["statuses"])}

    return {
        r"/repos/acme/\w+/deployments": create,
        r"/repos/acme/\w+/deployments/\d+/statuses": state,
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("server")
    folder = root / "project"
    shutil.copytree(FIXTURES, folder)
    deployments: list[dict[str, Any]] = []
    responses = Recorder().start()
    github = Recorder(_github_routes(deployments)).start()
    (folder / "server.yaml").write_text(
        SERVER_YAML.format(notify=responses.url, github=github.url), encoding="utf-8"
    )
    env = server_env(root / "home", STACKYARD_GITHUB_TOKEN=GH_TOKEN, COLUMNS="200")
    w = World(root, folder, "", env, responses, github, deployments)
    w.endpoint = local_up(w.run)
    try:
        built = w.run("build", "--local", "stage.env", "stackyard.yaml")
        assert built.returncode == 0, built.stdout + built.stderr
        assert w.run("apps", "create", "api", "-m", "app.yaml").returncode == 0
        (folder / "shop.yaml").write_text(SHOP, encoding="utf-8")
        assert w.run("apps", "create", "shop", "-m", "shop.yaml").returncode == 0
        yield w
    finally:
        w.run("local", "down")
        responses.stop()
        github.stop()


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[ServerProcess]:
    world.token("alice", "read:*", "deploy:stage")
    proc = start_server(["--local"], world.env, world.folder)
    try:
        yield proc
    finally:
        proc.stop()


def _wait_job(url: str, token: str, job: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = httpx.get(
            f"{url}/api/v1/jobs/{job}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        if found.get("state") not in ("queued", "running", "interrupted"):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.2)


def _releases(world: World, app: str = "api", db: str | None = None) -> list[dict[str, Any]]:
    env = {**world.env, "STACKYARD_DATABASE_URL": db} if db else world.env
    shown = world.run("apps", "releases", "-a", app, "-e", "stage", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    rows: list[dict[str, Any]] = json.loads(shown.stdout)
    return rows


def test_a_slash_command_deploys_a_ref_and_posts_progress(
    world: World, server: ServerProcess
) -> None:
    sha = "5e0c8a1" + "0" * 33
    world.push_image("api", sha)
    version = len(_releases(world)) + 1
    started = time.monotonic()
    answer = slash(
        server.url, f"api@{sha} to staging", response_url=f"{world.responses.url}/slack/r1"
    )
    assert time.monotonic() - started < 3.0
    assert answer.status_code == 200 and "is deploying api@" in answer.json()["text"]
    seen = world.responses.wait_for(
        lambda s: any(
            "release v" in t
            for t in [str((x.body or {}).get("text")) for x in s if x.path == "/slack/r1"]
        ),
        timeout=120,
    )
    texts = [str(s.body["text"]) for s in seen if s.path == "/slack/r1"]
    assert texts[0].startswith(f"Deploying api@{sha} to stage ({REGISTRY}/api@sha256:")
    assert any(re.search(r"web \d/2 running: (IN_PROGRESS|COMPLETED)", t) for t in texts), texts
    assert texts[-1] == f"Deployed api@{sha} to stage: release v{version} succeeded"
    assert len(texts) <= 5  # Slack's budget for one response_url
    assert all(s.body["response_type"] == "in_channel" for s in seen if s.path == "/slack/r1")
    latest = _releases(world)[0]
    assert latest["status"] == "succeeded" and latest["image"].startswith(f"{REGISTRY}/api@sha256:")
    assert latest["created_by"] == "alice (slack U_ALICE)"
    latest_reply = slash(server.url, "latest api").json()["text"]
    assert latest_reply.startswith(f"The latest release of api in `stage` is v{version} ({sha}):")


def test_a_slash_command_deploys_to_a_canary_in_steps(world: World, server: ServerProcess) -> None:
    world.push_image("shop", "v1")
    world.push_image("shop", "v2")
    first = f"{world.responses.url}/slack/shop"
    slash(server.url, "shop@v1 to stage", response_url=first)
    parent = world.responses.wait_for(
        lambda seen: any(
            x.path == "/slack/shop" and "release v" in str(x.body["text"]) for x in seen
        ),
        timeout=120,
    )
    assert str(parent[-1].body["text"]) == "Deployed shop@v1 to stage: release v1 succeeded"
    url = f"{world.responses.url}/slack/canary"
    answer = slash(server.url, "shop@v2 to stage/canary", response_url=url)
    assert "is deploying shop@v2 to `stage/canary`" in answer.json()["text"]

    def done(seen: list[Any]) -> bool:
        return any(
            x.path == "/slack/canary"
            and str(x.body["text"]).startswith(("Deployed", "Fail", "Deploy of"))
            for x in seen
        )

    seen = world.responses.wait_for(done, timeout=180)
    texts = [str(s.body["text"]) for s in seen if s.path == "/slack/canary"]
    where = "shop@v2 to stage/canary"
    assert texts[0].startswith(f"Deploying {where} ({REGISTRY}/shop@sha256:")
    assert any(
        re.match(rf"{where}: step 1/2: weight 10%, \d+/\d+ healthy targets \(baked\)", t)
        for t in texts
    ), texts
    assert any(
        re.match(rf"{where}: step 2/2: weight 50%, \d+/\d+ healthy targets", t) for t in texts
    ), texts
    assert texts[-1] == f"Deployed {where}: release v1 succeeded", texts
    assert len(texts) <= 5
    token = world.token("gina", "read:*")
    status = httpx.get(
        f"{server.url}/api/v1/status", headers={"Authorization": f"Bearer {token}"}
    ).json()
    shop = next(a for a in status["apps"] if a["name"] == "shop")
    canary = shop["environments"]["stage/canary"]["canary"]
    assert (canary["weight"], canary["status"]) == (50, "succeeded"), canary
    assert {"name": "stage", "protected": False, "sub": ["stage/canary"]} in status["environments"]
    # promote it through the CLI, through the server
    promoter = world.token("hank", "read:*", "deploy:stage")
    remote = {**world.env, "STACKYARD_SERVER": server.url, "STACKYARD_TOKEN": promoter}
    promoted = world.run("apps", "promote", "stage/canary", "-a", "shop", env=remote)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert "shop stage v2: succeeded" in promoted.stdout
    shown = json.loads(world.run("apps", "releases", "-a", "shop", "-e", "stage", "--json").stdout)
    assert shown[0]["image"].startswith(f"{REGISTRY}/shop@sha256:") and shown[0]["version"] == 2


def test_a_rollout_that_fails_its_health_checks_is_posted_as_a_failure(
    world: World, server: ServerProcess
) -> None:
    sha = "badbad1" + "0" * 33
    world.push_image("api", sha)
    ecr = world.client("ecr")
    digest = ecr.describe_images(repositoryName="api", imageIds=[{"imageTag": sha}])[
        "imageDetails"
    ][0]["imageDigest"]
    # The local AWS fails the health checks of tasks running this image: ECS rolls back.
    # The mark belongs to the endpoint the module shares: it is cleared after.
    health = f"{world.endpoint}/_stackyard/health/images"
    image = {"image": f"{REGISTRY}/api@{digest}"}
    assert httpx.post(health, json={**image, "healthy": False}).status_code == 200
    try:
        slash(server.url, f"api@{sha} to stage", response_url=f"{world.responses.url}/slack/r9")
        seen = world.responses.wait_for(
            lambda s: any(
                str((x.body or {}).get("text", "")).startswith("Failed to deploy")
                for x in s
                if x.path == "/slack/r9"
            ),
            timeout=180,
        )
    finally:
        httpx.post(health, json={**image, "healthy": True})
    final = [str(x.body["text"]) for x in seen if x.path == "/slack/r9"][-1]
    assert final.startswith(f"Failed to deploy api@{sha} to stage: release v"), final
    # with ECS's reason: its circuit breaker failed the deployment and rolled it back
    assert "deployment failed: tasks failed to start" in final
    assert _releases(world)[0]["status"] == "failed"


def test_an_image_the_registry_lacks_is_refused_before_planning(
    world: World, server: ServerProcess
) -> None:
    before = len(_releases(world))
    slash(server.url, "api@deadbee to stage", response_url=f"{world.responses.url}/slack/r2")
    seen = world.responses.wait_for(lambda s: any(x.path == "/slack/r2" for x in s))
    text = [str(s.body["text"]) for s in seen if s.path == "/slack/r2"][-1]
    assert text.startswith(
        f"Deploy of api@deadbee to stage failed: the registry has no image {REGISTRY}/api:deadbee"
    )
    assert len(_releases(world)) == before


def test_continuous_delivery_deploys_and_reports_github_deployment_statuses(
    world: World, server: ServerProcess
) -> None:
    sha = "c0ffee1" + "0" * 33
    world.push_image("api", sha)
    assert (
        github_hook(server.url, "push", push("acme/api", sha)).json()["commits"][0]["state"]
        == "pending"
    )
    answer = github_hook(server.url, "status", status("acme/api", sha, "ci/test", "success"))
    assert answer.json()["commits"][0]["state"] == "deploying"
    deadline = time.monotonic() + 120

    def ours() -> list[dict[str, Any]]:
        return [d for d in world.deployments if d["ref"] == sha]

    while not (ours() and ours()[0]["statuses"][-1:] in (["success"], ["failure"])):
        assert time.monotonic() < deadline, world.deployments
        time.sleep(0.2)
    [deployment] = ours()
    # the slash command's deploy of a ref was reported too
    assert world.deployments[0]["ref"].startswith("5e0c8a1")
    assert world.deployments[0]["statuses"] == ["in_progress", "success"]
    assert (deployment["ref"], deployment["environment"]) == (sha, "stage")
    assert deployment["statuses"] == ["in_progress", "success"]
    assert [s.path for s in world.github.seen][-3:] == [
        "/repos/acme/api/deployments",
        f"/repos/acme/api/deployments/{deployment['id']}/statuses",
        f"/repos/acme/api/deployments/{deployment['id']}/statuses",
    ]
    assert _releases(world)[0]["description"] == f"cd {sha[:7]}"


def test_the_cli_through_the_server_prints_what_it_prints_locally(
    world: World, server: ServerProcess
) -> None:
    token = world.token("bob", "read:*", "deploy:stage")
    remote = {**world.env, "STACKYARD_SERVER": server.url, "STACKYARD_TOKEN": token}
    for args in (
        ["releases", "-a", "api", "-e", "stage"],
        ["list"],
        ["info", "-a", "api"],
        ["env", "get", "-a", "api", "-e", "stage"],
    ):
        here = world.run("apps", *args)
        there = world.run("apps", *args, env=remote)
        assert (there.returncode, there.stdout) == (here.returncode, here.stdout), there.stderr
    deployed = world.run("apps", "deploy", "nginx:1", "-a", "api", "-e", "stage", env=remote)
    assert deployed.returncode == 0, deployed.stderr
    version = _releases(world)[0]["version"]
    assert deployed.stdout == f"api stage v{version}: succeeded\n"
    assert "COMPLETED" in deployed.stderr
    assert _releases(world)[0]["created_by"] == "bob (token " + _token_name(world, token) + ")"
    flag = world.run(
        "apps",
        "--server",
        server.url,
        "releases",
        "-a",
        "api",
        "-e",
        "stage",
        env={**world.env, "STACKYARD_TOKEN": token},
    )
    assert flag.stdout == world.run("apps", "releases", "-a", "api", "-e", "stage").stdout
    reader = world.token("carol", "read:*")
    refused = world.run(
        "apps",
        "deploy",
        "nginx:2",
        "-a",
        "api",
        "-e",
        "stage",
        env={**remote, "STACKYARD_TOKEN": reader},
    )
    assert refused.returncode == 2 and "carol may not deploy stage" in refused.stderr
    anonymous = world.run("apps", "list", env={**remote, "STACKYARD_TOKEN": ""})
    assert anonymous.returncode == 2 and "STACKYARD_TOKEN" in anonymous.stderr


def _token_name(world: World, token: str) -> str:
    listed = json.loads(world.run("server", "users", "list", "--json").stdout)
    for user in listed:
        for t in user["tokens"]:
            if token.startswith(t["prefix"]):
                return str(t["name"])
    raise AssertionError("no such token")


def test_sigterm_lets_a_running_deploy_finish(world: World) -> None:
    token = world.token("dora", "read:*", "deploy:stage")
    proc = start_server(["--local", "--grace", "60"], world.env, world.folder)
    job = httpx.post(
        f"{proc.url}/api/v1/apps/api/deploys",
        json={"env": "stage", "image": "nginx:3"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["job"]
    _until_running(proc.url, token, job)
    assert proc.stop() == 0, "".join(proc.log)
    with_db = _job_in_db(world, job)
    assert (with_db["state"], with_db["runs"]) == ("succeeded", 1), with_db


def test_a_deploy_handed_back_at_shutdown_is_followed_after_restart(world: World) -> None:
    token = world.token("erin", "read:*", "deploy:stage")
    proc = start_server(["--local", "--grace", "0"], world.env, world.folder)
    count = len(_releases(world))
    job = httpx.post(
        f"{proc.url}/api/v1/apps/api/deploys",
        json={"env": "stage", "image": "nginx:4"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["job"]
    _until_running(proc.url, token, job)
    assert proc.stop() == 0
    assert "handed back jobs [" in "".join(proc.log)
    handed = _job_in_db(world, job)
    # handed back, or already taken over by the other server on this database
    assert handed["state"] == "interrupted" or handed["runs"] == 2, handed
    again = start_server(["--local"], world.env, world.folder)
    try:
        done = _wait_job(again.url, token, job)
    finally:
        again.stop()
    assert (done["state"], done["runs"]) == ("succeeded", 2), repr(done)
    releases = _releases(world)
    assert len(releases) == count + 1 and releases[0]["status"] == "succeeded"
    assert releases[0]["image"] == "nginx:4"
    # and it is what runs: whether the first server changed the stack before it stopped or
    # not, the release reached ECS (it is never marked succeeded on the previous one's tasks)
    ps = world.run("apps", "ps", "-a", "api", "-e", "stage", "--local", "--json")
    assert ps.returncode == 0, ps.stderr
    tasks = [t for t in json.loads(ps.stdout) if t["status"] == "RUNNING"]
    assert tasks and {t["release"] for t in tasks} == {f"v{releases[0]['version']}"}, tasks


def _until_running(url: str, token: str, job: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        found = httpx.get(
            f"{url}/api/v1/jobs/{job}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        if found["state"] == "running":
            return
        assert time.monotonic() < deadline and found["state"] == "queued", found
        time.sleep(0.05)


def _job_in_db(world: World, job: int, url: str | None = None) -> dict[str, Any]:
    from stackyard.apps.db.database import Database
    from stackyard.server.jobs import get_job

    db = Database.open(url or f"sqlite:///{world.root / 'home' / 'apps.db'}")
    try:
        found = get_job(db, job)
        assert found is not None
        return found
    finally:
        db.close()


def test_two_servers_on_one_postgresql_never_run_a_deploy_twice(
    world: World, postgres_server: str
) -> None:
    database = _apps_db._new_postgres_database(postgres_server)
    env = {**world.env, "STACKYARD_DATABASE_URL": database}
    assert world.run("apps", "create", "web", "-m", "app.yaml", env=env).returncode == 0
    token = world.token("fred", "read:*", "deploy:stage", db=database)
    servers = [start_server(["--local"], env, world.folder) for _ in range(2)]
    try:
        jobs: list[int] = []
        for n in range(4):
            target = servers[n % 2].url
            answer = httpx.post(
                f"{target}/api/v1/apps/web/deploys",
                json={"env": "stage", "image": f"nginx:{n + 1}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 202, answer.text
            jobs.append(answer.json()["job"])
        # one commit, heard by both servers at once: one deploy
        sha = "feed123" + "0" * 33
        world.push_image("web", sha)
        barrier = threading.Barrier(2)

        def hear(url: str) -> None:
            barrier.wait()
            github_hook(url, "push", {**push("acme/web", sha)})

        threads = [threading.Thread(target=hear, args=(s.url,)) for s in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results = [_wait_job(servers[0].url, token, j, timeout=240) for j in jobs]
        deadline = time.monotonic() + 240
        while True:
            rows = httpx.get(
                f"{servers[1].url}/api/v1/commits", headers={"Authorization": f"Bearer {token}"}
            ).json()
            if rows and rows[0]["state"] in ("deployed", "failed"):
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.2)
        assert len(rows) == 1 and rows[0]["state"] == "deployed", rows
        cd_job = _wait_job(servers[1].url, token, rows[0]["job"])
    finally:
        for s in servers:
            assert s.stop() == 0
    assert [(r["state"], r["runs"]) for r in results] == [("succeeded", 1)] * 4
    assert (cd_job["state"], cd_job["runs"]) == ("succeeded", 1)
    releases = _releases(world, "web", database)
    assert len(releases) == 5 and len({r["version"] for r in releases}) == 5
    assert sorted(r["release"] for r in [*results, cd_job]) == [1, 2, 3, 4, 5]
    print("claimed by", sorted({r["claimed_by"].rsplit(" #", 1)[0] for r in [*results, cd_job]}))
