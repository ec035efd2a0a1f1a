"""A server over a fresh SQLite database, with users, an app and a notify webhook."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from server_support import GITHUB_SECRET, SLACK_SECRET, Recorder, recorder, serve

from stackyard.apps.db.database import Database
from stackyard.apps.environments import load_environments
from stackyard.apps.manifest import load_manifest
from stackyard.apps.service import AppsService
from stackyard.server.auth import add_user
from stackyard.server.config import AppSettings, Delivery, Secrets, ServerSettings, SlackSettings
from stackyard.server.core import Server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"


@dataclass
class World:
    server: Server
    url: str
    notify: Recorder


def make_server(db: Database, notify_url: str = "") -> Server:
    settings = ServerSettings(
        aliases={"production": "prod", "staging": "stage"},
        slack=SlackSettings(notify_url=notify_url),
        apps={
            "api": AppSettings(
                repository="acme/api",
                image="{registry}/{app}:{sha}",
                default_ref="main",
                default_environment="stage",
                cd=Delivery(branch="main", environment="stage", required=["ci/test", "build"]),
            )
        },
        registry="123456789012.dkr.ecr.us-east-1.amazonaws.com",
    )
    secrets = Secrets(slack_signing_secret=SLACK_SECRET, github_webhook_secret=GITHUB_SECRET)
    environments = load_environments(str(FIXTURES / "apps.yaml"))
    server = Server(db, settings, secrets, environments)
    AppsService(db, actor="setup").create("api", load_manifest(str(FIXTURES / "app.yaml")))
    add_user(db, "alice", ["read:*", "deploy:stage"], slack_id="U_ALICE")
    add_user(db, "bob", ["read:*", "deploy:*"], slack_id="U_BOB")
    add_user(db, "carol", ["read:*"], slack_id="U_CAROL")
    add_user(db, "root", ["admin:*", "deploy:prod"], slack_id="U_ROOT")
    return server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = Database.open(f"sqlite:///{tmp_path / 'apps.db'}")
    with recorder() as notify:
        server = make_server(db, notify.url + "/notify")
        with serve(server, run_jobs=False) as url:
            yield World(server, url, notify)
    db.close()
