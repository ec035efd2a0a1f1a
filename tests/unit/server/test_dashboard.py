"""The dashboard in headless Chromium (Debian's package): it loads and refreshes without
console errors and shows the app, its releases, a canary's weight and a lock from a seeded
database. ``STACKYARD_UPDATE_SNAPSHOTS=1`` refreshes docs/dashboard.png."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from browser import chromium

from stackyard.apps.db.database import Database
from stackyard.apps.db.models import (
    App,
    CanaryRollout,
    Environment,
    Event,
    Release,
    utcnow,
)
from stackyard.server import envlocks
from stackyard.server.auth import create_token
from stackyard.server.models import Job

UPDATE = os.environ.get("STACKYARD_UPDATE_SNAPSHOTS") == "1"
DOCS = Path(__file__).resolve().parents[3] / "docs"
DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:9c1f0e7d"


def _seed(db: Database) -> None:
    now = utcnow()
    with db.session() as session:
        for name in ("api", "worker"):
            app = session.scalars(select(App).where(App.name == name)).one_or_none()
            if app is None:
                app = App(
                    name=name, manifest={"processes": {"web": {"command": "x"}}}, created_by="seed"
                )
                session.add(app)
                session.flush()
        apps = {a.name: a for a in session.scalars(select(App))}
        plan = [
            ("api", "stage", [(11, "succeeded"), (12, "succeeded")], 12),
            ("api", "stage/canary", [(3, "succeeded"), (4, "pending")], 3),
            ("api", "prod", [(7, "succeeded")], 7),
            ("api", "prod/canary", [(2, "succeeded")], 2),
            ("worker", "stage", [(5, "succeeded"), (6, "failed")], 5),
        ]
        for app_name, env_name, releases, current in plan:
            env = Environment(app_id=apps[app_name].id, name=env_name, current_release=current)
            session.add(env)
            session.flush()
            for version, status in releases:
                session.add(
                    Release(
                        environment_id=env.id,
                        version=version,
                        image=f"{DIGEST}{version:02d}",
                        manifest={},
                        config={},
                        formation={},
                        description="",
                        status=status,
                        created_by="carol (slack U_CAROL)",
                        created_at=now - timedelta(minutes=30 - version),
                    )
                )
        envs = {
            e.name: e
            for e in session.scalars(
                select(Environment).where(Environment.app_id == apps["api"].id)
            )
        }
        rollouts = [
            ("stage/canary", 4, [10, 25, 50], 2, 25, "running"),
            ("prod/canary", 2, [10], 1, 10, "succeeded"),
        ]
        for env_name, release, steps, step, weight, status in rollouts:
            session.add(
                CanaryRollout(
                    environment_id=envs[env_name].id,
                    release=release,
                    steps=steps,
                    bake_seconds=60,
                    step=step,
                    weight=weight,
                    status=status,
                    created_by="alice",
                )
            )
        jobs = [
            (
                "stage/canary",
                "3f2a9c1",
                "running",
                "slack",
                "alice (slack U_ALICE)",
                4,
                "",
                2,
                3,
                25,
                "bake",
                2,
            ),
            (
                "prod/canary",
                "9c1f0e7",
                "succeeded",
                "cd",
                "cd (github)",
                2,
                "v2 succeeded",
                1,
                1,
                10,
                "done",
                1,
            ),
        ]
        for (
            env_name,
            ref,
            state,
            source,
            actor,
            release,
            result,
            step,
            steps,
            weight,
            phase,
            healthy,
        ) in jobs:
            session.add(
                Job(
                    app="api",
                    environment=env_name,
                    ref=ref,
                    state=state,
                    source=source,
                    actor=actor,
                    release=release,
                    kind="deploy",
                    result=result,
                    progress={
                        "canary": {
                            "step": step,
                            "steps": steps,
                            "weight": weight,
                            "phase": phase,
                            "healthy": healthy,
                            "targets": healthy,
                            "reason": "",
                        }
                    },
                )
            )
        for kind, env, message in [
            ("deploy", "prod", "v7 succeeded"),
            ("lock", "prod", "locked prod: migrating the orders table"),
            ("cd", "stage", "push 3f2a9c1: waiting for checks"),
        ]:
            session.add(
                Event(
                    app="api",
                    environment=env,
                    kind=kind,
                    message=message,
                    actor="bob (slack U_BOB)",
                    created_at=now,
                )
            )
    envlocks.lock(
        db,
        "api",
        "prod",
        "bob",
        "migrating the orders table",
        steal=False,
        actor="bob (slack U_BOB)",
    )


def _headless(
    binary: str, url: str, profile: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=7000",
            f"--user-data-dir={profile}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_dashboard_in_headless_chromium(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = chromium()
    _seed(world.server.db)
    world.server.settings = world.server.settings.model_copy(update={"public_dashboard": True})
    dom = _headless(binary, world.url + "/", tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    html = dom.stdout
    assert "offline" not in html  # the refresh (after 5 s of virtual time) worked
    assert re.search(r"updated \d", html)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert (
        'data-app="api" data-env="stage"' in html
        and 'data-app="api" data-env="stage/canary"' in html
    )
    row = html.split('data-env="stage/canary"', 1)[1].split("</tr>", 1)[0]
    assert (
        "v3" in row
        and "v4 pending" in row
        and "width: 25%" in row
        and "25%" in row
        and "2/2 healthy" in row
        and "running" in row
    )
    prod = html.split('data-app="api" data-env="prod"', 1)[1].split("</tr>", 1)[0]
    assert "v7" in prod and "locked</span> bob: migrating the orders table" in prod
    assert "worker" in text and "v6 failed" in text
    assert "protected" in html.split('data-env="prod"', 1)[1][:200]
    assert "#1 api@3f2a9c1 → stage/canary running" in text
    assert "locked prod: migrating the orders table" in text

    shot = tmp_path / "dashboard.png"
    taken = _headless(
        binary,
        world.url + "/",
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1280,760",
        "--hide-scrollbars",
    )
    assert taken.returncode == 0 and shot.stat().st_size > 20_000, taken.stderr[-2000:]
    if UPDATE:
        shutil.copy(shot, DOCS / "dashboard.png")


def test_a_private_dashboard_asks_for_a_token_and_then_shows(world) -> None:  # type: ignore[no-untyped-def]
    _seed(world.server.db)
    page = httpx.get(world.url + "/")
    assert page.status_code == 200 and 'id="login"' in page.text and "migrating" not in page.text
    assert httpx.get(world.url + "/api/v1/status").status_code == 401
    token = create_token(world.server.db, "carol", "browser")
    shown = httpx.get(world.url + "/", cookies={"stackyard_token": token})
    assert "migrating the orders table" in shown.text
    data = httpx.get(
        world.url + "/api/v1/status", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [e["name"] for e in data["environments"]] == ["prod", "stage"]
    assert data["environments"][0] == {"name": "prod", "protected": True, "sub": ["prod/canary"]}
    canary = next(a for a in data["apps"] if a["name"] == "api")["environments"]["stage/canary"][
        "canary"
    ]
    assert canary == {"weight": 25, "step": 2, "status": "running", "healthy": 2, "targets": 2}
    # a token scoped to stage sees nothing of prod
    stage = create_token(world.server.db, "alice", "stage-only", ["read:stage"])
    data = httpx.get(
        world.url + "/api/v1/status", headers={"Authorization": f"Bearer {stage}"}
    ).json()
    assert [e["name"] for e in data["environments"]] == ["stage"]
    assert data["locks"] == [] and all(e["environment"] != "prod" for e in data["events"])
