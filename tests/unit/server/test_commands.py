"""Every slash command's reply, locks with steal and notice, and the grammar."""

from __future__ import annotations

import httpx
import pytest
from server_support import slash
from sqlalchemy import select

from stackyard.apps.db.models import Environment, Event, Release, utcnow
from stackyard.server.models import Commit, Job
from stackyard.server.slack import Command, parse


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("where api", Command("where", app="api")),
        ("api", Command("deploy", app="api")),
        ("api@main", Command("deploy", app="api", ref="main")),
        (
            "api@3f2a9c1 to prod/canary!",
            Command("deploy", app="api", ref="3f2a9c1", env="prod/canary", force=True),
        ),
        ("api to stage", Command("deploy", app="api", env="stage")),
        ("api@feature/x to stage", Command("deploy", app="api", ref="feature/x", env="stage")),
        ("lock prod on api", Command("lock", app="api", env="prod")),
        (
            "lock prod on api: migrating the db",
            Command("lock", app="api", env="prod", message="migrating the db"),
        ),
        (
            "lock prod on api: migrating!",
            Command("lock", app="api", env="prod", message="migrating", force=True),
        ),
        ("lock prod on api!", Command("lock", app="api", env="prod", force=True)),
        ("unlock prod on api", Command("unlock", app="api", env="prod")),
        ("unlock all", Command("unlock_all")),
        ("check stage on api", Command("check", app="api", env="stage")),
        ("latest api", Command("latest", app="api")),
        ("latest api on prod/canary", Command("latest", app="api", env="prod/canary")),
        ("  where   api  ", Command("where", app="api")),
    ],
)
def test_grammar(text: str, command: Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize("text", ["deploy me now please", "lock on api", "api@ to stage", "where"])
def test_nonsense_is_not_a_command(text: str) -> None:
    assert parse(text) is None


def _text(world, text: str, user: str = "U_ALICE") -> str:  # type: ignore[no-untyped-def]
    answer = slash(world.url, text, user)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["text"])


def test_help_and_nonsense(world) -> None:  # type: ignore[no-untyped-def]
    assert "`lock ENV on APP[: MESSAGE][!]`" in _text(world, "help")
    assert _text(world, "") == _text(world, "help")
    assert "I did not understand `what is this`" in _text(world, "what is this")


def test_an_unknown_slack_user_is_told_how_to_be_added(world) -> None:  # type: ignore[no-untyped-def]
    text = _text(world, "where api", user="U_NOBODY")
    assert "I do not know you (Slack user U_NOBODY)" in text
    assert "stackyard server users add NAME --slack U_NOBODY" in text


def test_where_shows_environments_releases_and_locks(world) -> None:  # type: ignore[no-untyped-def]
    assert "not deployed anywhere" in _text(world, "where api")
    _seed_release(world, "stage", 3, "nginx:1")
    _text(world, "lock stage on api: testing")
    text = _text(world, "where api")
    assert "*api* is in:" in text and "`stage`: v3 nginx:1" in text
    assert "locked by alice: testing" in text
    assert _text(world, "where nope") == "There is no app `nope`."


def test_deploy_is_queued_and_answered_at_once(world) -> None:  # type: ignore[no-untyped-def]
    answer = slash(world.url, "api@3f2a9c1 to staging", response_url="http://127.0.0.1:9/r")
    body = answer.json()
    assert body["response_type"] == "in_channel"
    assert "<@U_ALICE> is deploying api@3f2a9c1 to `stage` (job 1)" in body["text"]
    with world.server.db.session() as session:
        job = session.scalars(select(Job)).one()
        assert (job.app, job.environment, job.ref, job.source) == (
            "api",
            "stage",
            "3f2a9c1",
            "slack",
        )
        assert job.actor == "alice (slack U_ALICE)" and job.response_url == "http://127.0.0.1:9/r"
    # defaults: the app's ref and environment
    assert "api@main to `stage`" in _text(world, "api")


def test_deploy_refusals(world) -> None:  # type: ignore[no-untyped-def]
    assert "You may not deploy prod (that needs the `deploy:prod` scope)" in _text(
        world, "api to prod"
    )
    # bob's deploy:* stops short of prod and its sub-environments
    assert "needs the `deploy:prod` scope" in _text(world, "api to prod/canary", "U_BOB")
    assert "needs the `deploy:stage` scope" in _text(world, "api to stage", "U_CAROL")
    assert "There is no environment `qa`" in _text(world, "api to qa")
    assert "There is no app `nope`" in _text(world, "nope to stage")
    _text(world, "lock stage on api: hands off", "U_BOB")
    text = _text(world, "api to stage")
    assert "`stage` on api is locked by bob: hands off" in text and "lock stage on api!" in text
    # the holder may deploy through their own lock
    assert "is deploying" in _text(world, "api to stage", "U_BOB")
    # root, with deploy:prod, may deploy to prod and its canary
    assert "is deploying api@main to `prod/canary`" in _text(
        world, "api to production/canary", "U_ROOT"
    )


def test_failing_checks_stop_a_deploy_unless_forced(world) -> None:  # type: ignore[no-untyped-def]
    with world.server.db.session() as session:
        session.add(
            Commit(
                app="api",
                environment="stage",
                repository="acme/api",
                branch="main",
                sha="abc1234" + "0" * 33,
                message="m",
                author="",
                state="failed-checks",
                statuses={"ci/test": "failure", "build": "success"},
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    text = _text(world, "api@abc1234 to stage")
    assert "checks that did not pass: ci/test (failure)" in text and "Add `!`" in text
    assert "is deploying api@abc1234" in _text(world, "api@abc1234 to stage!")


def test_lock_steal_with_notice_and_unlock_all(world) -> None:  # type: ignore[no-untyped-def]
    assert _text(world, "lock stage on api: migrating") == "Locked `stage` on api: migrating."
    assert "already hold the lock" in _text(world, "lock stage on api")
    held = _text(world, "lock stage on api: mine now", "U_BOB")
    assert "already locked by alice: migrating" in held and "lock stage on api!" in held
    assert "`stage` on api is locked by alice: migrating" in _text(
        world, "check stage on api", "U_CAROL"
    )
    stolen = _text(world, "lock stage on api: mine now!", "U_BOB")
    assert stolen == "Stole the lock on `stage` for api from alice (they have been told)."
    notice = world.notify.wait_for(lambda seen: len(seen) == 1)[0]
    assert notice.path == "/notify"
    assert notice.body["text"] == "<@U_ALICE>: bob stole your lock on `stage` for api: mine now"
    assert "locked by bob: mine now" in _text(world, "check stage on api")
    # a lock on prod needs deploy:prod
    assert "needs the `deploy:prod` scope" in _text(world, "lock prod on api", "U_BOB")
    assert _text(world, "lock prod on api", "U_ROOT") == "Locked `prod` on api."
    _text(world, "lock stage on api!", "U_ROOT")
    assert _text(world, "unlock all", "U_BOB") == "You hold no locks."
    _text(world, "lock stage on api!", "U_BOB")
    assert _text(world, "unlock all", "U_ROOT") == "Unlocked 1: `prod` on api."
    assert _text(world, "unlock stage on api", "U_BOB") == "Unlocked `stage` on api."
    assert _text(world, "unlock stage on api") == "`stage` on api is not locked."
    assert _text(world, "check stage on api") == "`stage` on api is not locked."
    _text(world, "lock stage on api", "U_BOB")
    assert "it was bob's; they have been told" in _text(world, "unlock stage on api")
    seen = world.notify.wait_for(lambda seen: len(seen) == 4)
    assert [s.body["text"] for s in seen[1:]] == [
        "<@U_BOB>: root stole your lock on `stage` for api.",
        "<@U_ROOT>: bob stole your lock on `stage` for api.",
        "<@U_BOB>: alice removed your lock on `stage` for api.",
    ]
    with world.server.db.session() as session:
        events = session.scalars(select(Event).where(Event.kind.in_(("lock", "unlock")))).all()
        assert [e.actor for e in events][:2] == ["alice (slack U_ALICE)", "alice (slack U_ALICE)"]
        assert any(
            "stole the lock on stage from alice" in e.message and e.actor.startswith("bob")
            for e in events
        )


def test_latest(world) -> None:  # type: ignore[no-untyped-def]
    assert _text(world, "latest api") == "api has no release in `stage` yet."
    _seed_release(world, "stage", 1, "nginx:1")
    _seed_release(world, "stage", 2, "nginx:2")
    with world.server.db.session() as session:
        session.add(
            Job(app="api", environment="stage", ref="3f2a9c1", release=2, state="succeeded")
        )
    text = _text(world, "latest api on stage")
    assert text.startswith(
        "The latest release of api in `stage` is v2 (3f2a9c1): nginx:2, succeeded, by seed at"
    )
    assert "needs the `read" not in text


def test_the_api_answers_the_dashboard_without_signatures(world) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{world.url}/healthz").json()["ok"] is True


def _seed_release(world, env: str, version: int, image: str) -> None:  # type: ignore[no-untyped-def]
    from stackyard.apps.db.models import App

    with world.server.db.session() as session:
        app = session.scalars(select(App).where(App.name == "api")).one()
        e = session.scalars(
            select(Environment).where(Environment.app_id == app.id, Environment.name == env)
        ).one_or_none()
        if e is None:
            e = Environment(app_id=app.id, name=env)
            session.add(e)
            session.flush()
        session.add(
            Release(
                environment_id=e.id,
                version=version,
                image=image,
                manifest={},
                config={},
                formation={},
                description="",
                status="succeeded",
                created_by="seed",
                created_at=utcnow(),
            )
        )
        e.current_release = version
