"""Slack's request signatures and GitHub's webhook signatures, refused before anything runs."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from server_support import SLACK_SECRET, github_hook, push, slack_form, slack_headers
from sqlalchemy import func, select

from stackyard.apps.db.models import Event
from stackyard.server import cd, slack
from stackyard.server.models import Commit, EnvLock, Job, SlackNonce

BODY = slack_form("lock stage on api: signed")


def test_verify_accepts_slacks_own_example() -> None:
    # The example of Slack's "Verifying requests from Slack" page.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    slack.verify(
        "8f742231b10e8888abcd99yyyzzz85a5",
        "1531420618",
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        body,
        now=1531420618 + 10,
    )


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (lambda: slack_headers(BODY, secret="not-the-secret"), "does not match"),
        (lambda: slack_headers(BODY, timestamp=int(time.time()) - 301), "five minutes"),
        (lambda: slack_headers(BODY, timestamp=int(time.time()) + 400), "five minutes"),
        (lambda: {"Content-Type": "application/x-www-form-urlencoded"}, "missing"),
        (
            lambda: {k: v for k, v in slack_headers(BODY).items() if k != "X-Slack-Signature"},
            "missing",
        ),
        (
            lambda: {k: v for k, v in slack_headers(BODY).items() if "Timestamp" not in k},
            "missing",
        ),
    ],
    ids=["wrong-secret", "stale", "future", "no-headers", "no-signature", "no-timestamp"],
)
def test_a_bad_slack_request_is_refused_and_runs_nothing(world, headers, why) -> None:  # type: ignore[no-untyped-def]
    answer = httpx.post(f"{world.url}/slack/commands", content=BODY, headers=headers())
    assert answer.status_code == 401 and why in answer.json()["error"]
    _nothing_ran(world)


def test_a_body_changed_under_a_valid_signature_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    headers = slack_headers(BODY)
    tampered = BODY.replace(b"signed", b"tampered")
    answer = httpx.post(f"{world.url}/slack/commands", content=tampered, headers=headers)
    assert answer.status_code == 401
    _nothing_ran(world)


def test_a_replayed_request_is_answered_once(world) -> None:  # type: ignore[no-untyped-def]
    headers = slack_headers(BODY)
    first = httpx.post(f"{world.url}/slack/commands", content=BODY, headers=headers)
    assert first.status_code == 200 and "Locked `stage` on api" in first.json()["text"]
    with world.server.db.session() as session:
        session.execute(EnvLock.__table__.delete())
    again = httpx.post(f"{world.url}/slack/commands", content=BODY, headers=headers)
    assert again.status_code == 401 and "replay" in again.json()["error"]
    with world.server.db.session() as session:
        assert session.scalar(select(func.count()).select_from(EnvLock)) == 0
        assert session.scalar(select(func.count()).select_from(SlackNonce)) == 1


def test_old_signatures_are_forgotten(world) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from stackyard.apps.db.models import utcnow

    with world.server.db.session() as session:
        session.add(SlackNonce(signature="v0=old", seen_at=utcnow() - timedelta(minutes=11)))
        session.add(SlackNonce(signature="v0=new", seen_at=utcnow()))
    slack.forget_old(world.server.db)
    with world.server.db.session() as session:
        assert session.scalars(select(SlackNonce.signature)).all() == ["v0=new"]


def _nothing_ran(world) -> None:  # type: ignore[no-untyped-def]
    with world.server.db.session() as session:
        assert session.scalar(select(func.count()).select_from(EnvLock)) == 0
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(SlackNonce)) == 0
        kinds = session.scalars(select(Event.kind)).all()
        assert "lock" not in kinds and "job" not in kinds


def test_github_signatures(world) -> None:  # type: ignore[no-untyped-def]
    payload = push("acme/api", "a" * 40)
    wrong = github_hook(world.url, "push", payload, secret="nope")
    assert wrong.status_code == 401
    body = json.dumps(payload).encode()
    missing = httpx.post(
        f"{world.url}/hooks/github", content=body, headers={"X-GitHub-Event": "push"}
    )
    assert missing.status_code == 401
    with world.server.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Commit)) == 0
    assert github_hook(world.url, "ping", {"zen": "hi"}).json()["pong"] is True
    with pytest.raises(cd.BadSignature):
        cd.verify("", "sha256=00", b"{}")


def test_a_server_without_a_signing_secret_refuses_every_command() -> None:
    with pytest.raises(slack.BadRequest, match="no Slack signing secret"):
        slack.verify("", "1", "v0=x", b"")
    good = slack_headers(BODY, secret=SLACK_SECRET)
    slack.verify(SLACK_SECRET, good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"], BODY)
