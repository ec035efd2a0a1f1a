"""The JSON API: tokens hashed with scopes per environment, refusals, audit events with
their actor, and the OpenAPI schema."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from stackyard.apps.db.models import Event
from stackyard.server.auth import Principal, create_token, digest, revoke_token
from stackyard.server.models import Job, Token


def _client(world, token: str | None) -> httpx.Client:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=world.url, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("scopes", "action", "env", "allowed"),
    [
        (["read:*"], "read", "prod", True),
        (["read:*"], "deploy", "stage", False),
        (["deploy:*"], "deploy", "stage", True),
        (["deploy:*"], "read", "stage", True),
        (["deploy:*"], "deploy", "prod", False),
        (["deploy:*"], "deploy", "prod/canary", False),
        (["admin:*"], "deploy", "prod", False),
        (["deploy:prod"], "deploy", "prod/canary", True),
        (["deploy:prod/canary"], "deploy", "prod/canary", True),
        (["deploy:prod/canary"], "deploy", "prod", False),
        (["deploy:stage"], "deploy", "stage/canary", True),
        (["deploy:stage"], "admin", "stage", False),
        (["admin:prod"], "deploy", "prod", True),
        (["admin:*"], "admin", "*", True),
        (["deploy:*"], "admin", "*", False),
        (["bogus"], "read", "stage", False),
    ],
)
def test_scopes(scopes: list[str], action: str, env: str, allowed: bool) -> None:
    assert Principal("x", tuple(scopes)).may(action, env) is allowed


def test_tokens_are_stored_hashed_and_can_be_revoked(world) -> None:  # type: ignore[no-untyped-def]
    token = create_token(world.server.db, "bob", "laptop")
    assert token.startswith("sy_") and len(token) > 40
    with world.server.db.session() as session:
        row = session.scalars(select(Token).where(Token.name == "laptop")).one()
        assert row.digest == digest(token) and token not in (row.digest, row.prefix)
        assert row.scopes == ["read:*", "deploy:*"]
    raw = world.server.db.engine.raw_connection()
    try:
        dumped = "\n".join(raw.driver_connection.iterdump())
    finally:
        raw.close()
    assert token not in dumped
    with _client(world, token) as client:
        assert client.get("/api/v1/whoami").json() == {
            "name": "bob",
            "via": "token laptop",
            "scopes": ["read:*", "deploy:*"],
        }
    assert revoke_token(world.server.db, token[:10]) == 1
    with _client(world, token) as client:
        assert client.get("/api/v1/whoami").status_code == 401
    with _client(world, "sy_" + "x" * 43) as client:
        assert client.get("/api/v1/apps").status_code == 401
    with _client(world, None) as client:
        assert client.get("/api/v1/apps").status_code == 401


def test_deploys_without_the_scope_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    reader = create_token(world.server.db, "carol", "ro")
    stage_only = create_token(world.server.db, "bob", "ci", ["read:*", "deploy:stage"])
    everywhere = create_token(world.server.db, "bob", "wide")  # deploy:* (not prod)
    prod = create_token(world.server.db, "root", "prod", ["deploy:prod"])
    body = {"env": "stage", "image": "nginx:1"}
    with _client(world, reader) as client:
        refused = client.post("/api/v1/apps/api/deploys", json=body)
        assert (
            refused.status_code == 403 and "carol may not deploy stage" in refused.json()["error"]
        )
        assert client.get("/api/v1/apps/api/releases", params={"env": "stage"}).status_code == 200
        assert (
            client.patch(
                "/api/v1/apps/api/config", params={"env": "stage"}, json={"set": {"A": "1"}}
            ).status_code
            == 403
        )
    with _client(world, stage_only) as client:
        assert client.post("/api/v1/apps/api/deploys", json=body).status_code == 202
        refused = client.post("/api/v1/apps/api/deploys", json={**body, "env": "prod"})
        assert (
            refused.status_code == 403
            and refused.json()["hint"] == "that needs the deploy:prod scope"
        )
    with _client(world, everywhere) as client:
        for env in ("prod", "prod/canary", "production"):
            assert (
                client.post("/api/v1/apps/api/deploys", json={**body, "env": env}).status_code
                == 403
            )
        assert (
            client.post("/api/v1/users", json={"name": "eve", "scopes": ["admin:*"]}).status_code
            == 403
        )
    with _client(world, prod) as client:
        assert (
            client.post("/api/v1/apps/api/deploys", json={**body, "env": "prod/canary"}).status_code
            == 202
        )
        assert (
            client.post("/api/v1/apps/api/deploys", json={**body, "env": "prod"}).status_code == 202
        )
        assert (
            client.post("/api/v1/apps/api/deploys", json={**body, "env": "stage"}).status_code
            == 403
        )
    with world.server.db.session() as session:
        assert [
            (j.environment, j.actor) for j in session.scalars(select(Job).order_by(Job.id))
        ] == [
            ("stage", "bob (token ci)"),
            ("prod/canary", "root (token prod)"),
            ("prod", "root (token prod)"),
        ]


def test_every_mutation_is_an_audit_event_with_its_actor(world) -> None:  # type: ignore[no-untyped-def]
    admin = create_token(world.server.db, "root", "admin", ["admin:*", "deploy:stage"])
    with _client(world, admin) as client:
        assert (
            client.patch(
                "/api/v1/apps/api/config",
                params={"env": "stage"},
                json={"set": {"MODE": "live"}, "unset": []},
            ).status_code
            == 200
        )
        assert (
            client.post(
                "/api/v1/apps/api/formation",
                params={"env": "stage"},
                json={"scales": [{"process": "web", "count": 3}]},
            ).json()["web"]["count"]
            == 3
        )
        assert (
            client.put(
                "/api/v1/apps/api/lock", params={"env": "stage"}, json={"message": "m"}
            ).status_code
            == 200
        )
        assert (
            client.delete("/api/v1/apps/api/lock", params={"env": "stage"}).json()["unlocked"]
            is True
        )
        assert (
            client.post(
                "/api/v1/apps/api/deploys", json={"env": "stage", "ref": "abc1234"}
            ).status_code
            == 202
        )
        made = client.post(
            "/api/v1/tokens", json={"user": "alice", "name": "bot", "scopes": ["read:*"]}
        )
        assert made.status_code == 201 and made.json()["token"].startswith("sy_")
        assert (
            client.post("/api/v1/users", json={"name": "dave", "scopes": ["read:*"]}).status_code
            == 201
        )
        assert client.get("/api/v1/apps/api/config", params={"env": "stage"}).json() == {
            "MODE": "live"
        }
        events = client.get("/api/v1/apps/api/events").json()
    kinds = [e["kind"] for e in events]
    assert {"config", "scale", "lock", "unlock", "job"} <= set(kinds)
    assert all(e["actor"] == "root (token admin)" for e in events if e["kind"] != "create")
    with world.server.db.session() as session:
        server_wide = session.scalars(select(Event).where(Event.app == "")).all()
        assert {(e.kind, e.actor) for e in server_wide} >= {
            ("token", "root (token admin)"),
            ("user", "root (token admin)"),
        }


def test_lock_conflicts_and_bad_input_over_the_api(world) -> None:  # type: ignore[no-untyped-def]
    alice = create_token(world.server.db, "alice", "a")
    bob = create_token(world.server.db, "bob", "b")
    with _client(world, alice) as a, _client(world, bob) as b:
        assert (
            a.put(
                "/api/v1/apps/api/lock", params={"env": "stage"}, json={"message": "mine"}
            ).json()["outcome"]
            == "taken"
        )
        held = b.put("/api/v1/apps/api/lock", params={"env": "stage"}, json={})
        assert held.status_code == 409 and "locked by alice: mine" in held.json()["detail"]
        blocked = b.post("/api/v1/apps/api/deploys", json={"env": "stage"})
        assert blocked.status_code == 409
        assert (
            b.put("/api/v1/apps/api/lock", params={"env": "stage"}, json={"steal": True}).json()[
                "outcome"
            ]
            == "stolen"
        )
        assert "bob stole your lock" in world.notify.wait_for(lambda s: len(s) == 1)[0].body["text"]
        assert b.get("/api/v1/locks").json()[0]["holder"] == "bob"
        missing = b.post("/api/v1/apps/api/deploys", json={"env": "qa"})
        assert missing.status_code == 400 and "no environment 'qa'" in missing.json()["error"]
        assert b.post("/api/v1/apps/nope/deploys", json={"env": "stage"}).status_code == 400
        assert b.get("/api/v1/jobs/999").status_code == 404
        assert b.post("/api/v1/apps/api/promote", json={"env": "stage/canary"}).status_code in (
            202,
            501,
        )


def test_openapi_schema(world) -> None:  # type: ignore[no-untyped-def]
    schema = httpx.get(f"{world.url}/openapi.json").json()
    assert schema["info"]["title"] == "stackyard server"
    paths = schema["paths"]
    for path in (
        "/api/v1/apps/{app_name}/deploys",
        "/api/v1/apps/{app_name}/lock",
        "/slack/commands",
        "/hooks/github",
        "/api/v1/status",
        "/api/v1/apps/{app_name}/rollback",
        "/api/v1/apps/{app_name}/promote",
        "/api/v1/apps/{app_name}/formation",
    ):
        assert path in paths, path
    assert "DeployRequest" in schema["components"]["schemas"]
