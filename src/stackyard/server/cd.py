"""Continuous delivery from GitHub webhooks.

``/hooks/github`` takes GitHub's webhooks, signed with ``X-Hub-Signature-256``
(``sha256=HMAC-SHA256(webhook secret, body)``, compared in constant time). A push to an app's
delivery branch records the commit, unless it says ``[cd skip]`` (or ``[skip cd]``), and
supersedes the older commits still waiting. Statuses and check runs of the commit arrive as
``status`` and ``check_run`` events; once every required one is ``success`` the commit is
deployed to the app's environment, unless that environment is locked (then the notify
webhook is told and nothing deploys). Moving a commit on is a compare-and-set on its row, so
two server processes that hear of the same commit queue one deploy.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from stackyard.apps.db.models import Event, utcnow
from stackyard.server import envlocks
from stackyard.server.jobs import enqueue
from stackyard.server.models import Commit, Job
from stackyard.server.outbound import notify

log = logging.getLogger("stackyard.server")
SKIP = ("[cd skip]", "[skip cd]")
WAITING = ("pending",)


class BadSignature(Exception):
    """A webhook GitHub did not sign with our secret."""


def verify(secret: str, given: str | None, body: bytes) -> None:
    """Raise :class:`BadSignature` unless ``given`` is GitHub's signature of ``body``."""
    if not secret:
        raise BadSignature("the server has no GitHub webhook secret")
    if not given or not given.startswith("sha256="):
        raise BadSignature("missing X-Hub-Signature-256")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise BadSignature("the signature does not match")


def _event(session: Any, app: str, env: str, kind: str, message: str, actor: str) -> None:
    session.add(
        Event(
            app=app, environment=env, kind=kind, message=message, actor=actor, created_at=utcnow()
        )
    )


def handle(server: Any, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Act on one webhook; what it did (for the answer and the tests)."""
    if event == "ping":
        return {"ok": True, "pong": True}
    if event == "push":
        return _push(server, payload)
    if event == "status":
        repository = payload.get("repository", {}).get("full_name", "")
        return _status(
            server,
            repository,
            payload.get("sha", ""),
            payload.get("context", ""),
            payload.get("state", ""),
        )
    if event == "check_run":
        run = payload.get("check_run", {})
        repository = payload.get("repository", {}).get("full_name", "")
        conclusion = run.get("conclusion") or ""
        if run.get("status") != "completed":
            state = "pending"
        elif conclusion in ("success", "neutral", "skipped"):
            state = "success"
        else:
            state = "failure"
        return _status(server, repository, run.get("head_sha", ""), run.get("name", ""), state)
    return {"ok": True, "ignored": event}


def _apps_of(server: Any, repository: str) -> list[tuple[str, Any]]:
    return [
        (name, settings)
        for name, settings in server.settings.apps.items()
        if settings.cd is not None and settings.repository.lower() == repository.lower()
    ]


def _push(server: Any, payload: dict[str, Any]) -> dict[str, Any]:
    repository = payload.get("repository", {}).get("full_name", "")
    ref = payload.get("ref", "")
    sha = payload.get("after", "")
    if payload.get("deleted") or not sha or set(sha) == {"0"}:
        return {"ok": True, "ignored": "deleted ref"}
    head = payload.get("head_commit") or {}
    message = head.get("message", "")
    author = (head.get("author") or {}).get("username") or (payload.get("pusher") or {}).get(
        "name", ""
    )
    recorded: list[dict[str, Any]] = []
    for app, settings in _apps_of(server, repository):
        if ref != f"refs/heads/{settings.cd.branch}":
            continue
        env = server.environment(settings.cd.environment)
        skip = any(mark in message.lower() for mark in SKIP)
        try:
            with server.db.session() as session:
                commit = Commit(
                    app=app,
                    environment=env,
                    repository=repository,
                    branch=settings.cd.branch,
                    sha=sha,
                    message=message[:2000],
                    author=author,
                    state="skipped" if skip else "pending",
                    statuses={},
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                session.add(commit)
                session.flush()
                older = session.scalars(
                    select(Commit).where(
                        Commit.app == app,
                        Commit.environment == env,
                        Commit.id < commit.id,
                        Commit.state.in_(("pending", "locked", "failed-checks")),
                    )
                ).all()
                for row in older:
                    row.state, row.updated_at = "superseded", utcnow()
                what = "skipped ([cd skip])" if skip else "waiting for checks"
                _event(session, app, env, "cd", f"push {sha[:7]}: {what}", f"github {author}")
        except IntegrityError:
            recorded.append({"app": app, "sha": sha, "state": "known"})
            continue
        state = "skipped" if skip else _evaluate(server, app, env, sha)
        recorded.append({"app": app, "sha": sha, "state": state})
    return {"ok": True, "commits": recorded}


def _status(server: Any, repository: str, sha: str, context: str, state: str) -> dict[str, Any]:
    if not sha or not context:
        return {"ok": True, "ignored": "no sha or context"}
    names = {app for app, _ in _apps_of(server, repository)}
    touched: list[dict[str, Any]] = []
    with server.db.session() as session:
        rows = session.scalars(select(Commit).where(Commit.sha == sha)).all()
        targets = []
        for row in rows:
            if row.app not in names:
                continue
            row.statuses = {**row.statuses, context: state}
            row.updated_at = utcnow()
            targets.append((row.app, row.environment))
    for app, env in targets:
        touched.append({"app": app, "sha": sha, "state": _evaluate(server, app, env, sha)})
    return {"ok": True, "commits": touched}


def _move(server: Any, commit_id: int, to: str, **values: Any) -> bool:
    """Compare-and-set a waiting commit to ``to``; whether this call moved it."""
    with server.db.session() as session:
        moved = session.execute(
            update(Commit)
            .where(Commit.id == commit_id, Commit.state.in_(WAITING))
            .values(state=to, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return bool(moved.rowcount == 1)


def _evaluate(server: Any, app: str, env: str, sha: str) -> str:
    """Move a waiting commit on when its checks say so; its state after."""
    settings = server.settings.app(app)
    assert settings.cd is not None
    with server.db.session() as session:
        commit = session.scalars(
            select(Commit).where(Commit.app == app, Commit.environment == env, Commit.sha == sha)
        ).one_or_none()
        if commit is None:
            return "unknown"
        if commit.state not in WAITING:
            return str(commit.state)
        commit_id, statuses = commit.id, dict(commit.statuses)
        newer = session.scalars(
            select(Commit.id).where(
                Commit.app == app,
                Commit.environment == env,
                Commit.id > commit.id,
                Commit.state != "skipped",
            )
        ).first()
    if newer is not None:
        _move(server, commit_id, "superseded")
        return "superseded"
    required = settings.cd.required
    if any(statuses.get(name) in ("failure", "error") for name in required):
        _move(server, commit_id, "failed-checks")
        return "failed-checks"
    if not all(statuses.get(name) == "success" for name in required):
        return "pending"
    lock = envlocks.get(server.db, app, env)
    if lock is not None:
        if _move(server, commit_id, "locked"):
            with server.db.session() as session:
                _event(
                    session,
                    app,
                    env,
                    "cd",
                    f"{sha[:7]} not deployed: {env} is {lock.describe()}",
                    "cd",
                )
            notify(
                server.settings.slack.notify_url,
                f"Continuous delivery did not deploy {app} {sha[:7]} to `{env}`: it is "
                f"{lock.describe()}. When ready: `{app}@{sha[:7]} to {env}`.",
            )
        return "locked"
    if not _move(server, commit_id, "deploying"):
        return "deploying"
    job = enqueue(
        server,
        app=app,
        env=env,
        actor="cd (github)",
        ref=sha,
        options={"sha": sha, "description": f"cd {sha[:7]}"},
        source="cd",
    )
    with server.db.session() as session:
        session.execute(update(Commit).where(Commit.id == commit_id).values(job_id=job))
        superseded = session.scalars(
            select(Job.id).where(Job.app == app, Job.environment == env, Job.state == "superseded")
        ).all()
        if superseded:
            session.execute(
                update(Commit)
                .where(Commit.job_id.in_(superseded), Commit.state == "deploying")
                .values(state="superseded")
            )
    return "deploying"


def commits(db: Any, app: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The commits continuous delivery has seen, newest first."""
    with db.session() as session:
        query = select(Commit).order_by(Commit.id.desc()).limit(limit)
        if app:
            query = query.where(Commit.app == app)
        return [
            {
                "app": c.app,
                "environment": c.environment,
                "sha": c.sha,
                "state": c.state,
                "statuses": c.statuses,
                "message": c.message.splitlines()[0] if c.message else "",
                "job": c.job_id,
            }
            for c in session.scalars(query)
        ]
