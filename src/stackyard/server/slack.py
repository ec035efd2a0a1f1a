"""Slack slash commands: the signature check, the grammar, and the replies.

Slack signs each request: ``v0=HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")`` in
``X-Slack-Signature``, the timestamp in ``X-Slack-Request-Timestamp``. A request is answered
only when the signature matches (compared in constant time), the timestamp is within five
minutes of now, and that signature was not answered before (the database remembers the
signatures of the last ten minutes, so a replay to any server process is refused). Nothing
runs for a request that fails any of these.

The grammar is slashdeploy's: ``help``, ``where APP``, ``APP[@REF] [to ENV][!]``,
``lock ENV on APP[: MESSAGE][!]``, ``unlock ENV on APP``, ``unlock all``,
``check ENV on APP``, ``latest APP [on ENV]``. A deploy is queued and answered at once; its
progress and result go to the command's ``response_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from stackyard.apps.db.models import App, Environment, Release, utcnow
from stackyard.server import envlocks
from stackyard.server.auth import Principal, slack_user
from stackyard.server.jobs import enqueue
from stackyard.server.models import Commit, Job, SlackNonce
from stackyard.server.outbound import notify

MAX_SKEW = 300  # seconds

HELP = """\
*stackyard deploys*
• `help`: this text
• `where APP`: the environments APP is in, with their releases and locks
• `APP[@REF] [to ENV][!]`: deploy REF of APP to ENV (defaults from server.yaml); `!` deploys \
even when the commit's checks did not pass
• `lock ENV on APP[: MESSAGE][!]`: lock ENV for APP; `!` steals another's lock (they are told)
• `unlock ENV on APP`: remove the lock
• `unlock all`: remove every lock you hold
• `check ENV on APP`: is ENV locked?
• `latest APP [on ENV]`: the release last deployed"""

NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
ENV = r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?"
REF = r"[^\s!]+"
GRAMMAR: list[tuple[str, re.Pattern[str]]] = [
    ("help", re.compile(r"^(?:help)?$", re.I)),
    ("unlock_all", re.compile(r"^unlock\s+all$", re.I)),
    ("where", re.compile(rf"^where\s+(?P<app>{NAME})$", re.I)),
    (
        "lock",
        re.compile(
            rf"^lock\s+(?P<env>{ENV})\s+on\s+(?P<app>{NAME})(?:\s*:\s*(?P<message>.*?))?\s*(?P<force>!)?$",
            re.I | re.S,
        ),
    ),
    ("unlock", re.compile(rf"^unlock\s+(?P<env>{ENV})\s+on\s+(?P<app>{NAME})$", re.I)),
    ("check", re.compile(rf"^check\s+(?P<env>{ENV})\s+on\s+(?P<app>{NAME})$", re.I)),
    ("latest", re.compile(rf"^latest\s+(?P<app>{NAME})(?:\s+on\s+(?P<env>{ENV}))?$", re.I)),
    (
        "deploy",
        re.compile(
            rf"^(?!(?:help|where|lock|unlock|check|latest)\b)"
            rf"(?P<app>{NAME})(?:@(?P<ref>{REF}))?(?:\s+to\s+(?P<env>{ENV}))?\s*(?P<force>!)?$",
            re.I,
        ),
    ),
]


@dataclass(frozen=True)
class Command:
    """A parsed slash command."""

    verb: str
    app: str = ""
    env: str = ""
    ref: str = ""
    message: str = ""
    force: bool = False


def parse(text: str) -> Command | None:
    """The command ``text`` says, or None when it says none."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    for verb, pattern in GRAMMAR:
        match = pattern.match(text.strip())
        if match:
            groups = match.groupdict()
            return Command(
                verb,
                app=groups.get("app") or "",
                env=groups.get("env") or "",
                ref=groups.get("ref") or "",
                message=(groups.get("message") or "").strip(),
                force=bool(groups.get("force")),
            )
    return None


# -- the signature ----------------------------------------------------------------------------
class BadRequest(Exception):
    """A request that is not Slack's, or not fresh: answered 401, nothing run."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's signature of a request."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    given: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise :class:`BadRequest` unless Slack signed ``body`` at ``timestamp`` recently."""
    if not secret:
        raise BadRequest("the server has no Slack signing secret")
    if not timestamp or not given:
        raise BadRequest("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise BadRequest("the timestamp is not a number") from None
    if abs((now if now is not None else time.time()) - stamp) > MAX_SKEW:
        raise BadRequest("the timestamp is more than five minutes off")
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        raise BadRequest("the signature does not match")


def remember(db: Any, given: str) -> None:
    """Record an answered signature; BadRequest when it was answered before (a replay)."""
    try:
        with db.session() as session:
            session.add(SlackNonce(signature=given[:80], seen_at=utcnow()))
    except IntegrityError:
        raise BadRequest("this request was already answered (a replay)") from None


def forget_old(db: Any) -> None:
    """Drop signatures older than twice the allowed skew (their timestamps are refused)."""
    with db.session() as session:
        session.execute(
            delete(SlackNonce).where(
                SlackNonce.seen_at < utcnow() - timedelta(seconds=2 * MAX_SKEW)
            )
        )


# -- the commands -------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """What the command answers at once (``in_channel``: everyone sees it)."""

    text: str
    in_channel: bool = False
    job: int | None = None

    def body(self) -> dict[str, Any]:
        return {
            "response_type": "in_channel" if self.in_channel else "ephemeral",
            "text": self.text,
        }


def handle(server: Any, form: dict[str, str]) -> Reply:
    """Answer a verified slash command."""
    command = parse(form.get("text", ""))
    if command is None:
        return Reply(f"I did not understand `{form.get('text', '')}`.\n\n{HELP}")
    if command.verb == "help":
        return Reply(HELP)
    slack_id = form.get("user_id", "")
    who = slack_user(server.db, slack_id, server.guarded)
    if who is None:
        return Reply(
            f"I do not know you (Slack user {slack_id}). Ask an admin to run "
            f"`stackyard server users add NAME --slack {slack_id} --scope read:*`."
        )
    handler = {
        "where": _where,
        "deploy": _deploy,
        "lock": _lock,
        "unlock": _unlock,
        "unlock_all": _unlock_all,
        "check": _check,
        "latest": _latest,
    }[command.verb]
    env = server.environment(command.env) if command.env else ""
    if env and not server.known_environment(env):
        names = ", ".join(server.environment_names())
        return Reply(f"There is no environment `{env}`. Environments: {names}.")
    return handler(server, who, command, env, form)


def _known_app(server: Any, app: str) -> bool:
    with server.db.session() as session:
        return session.scalars(select(App.id).where(App.name == app)).first() is not None


def _no_app(app: str) -> Reply:
    return Reply(f"There is no app `{app}`.")


def _refuse(who: Principal, action: str, env: str) -> Reply | None:
    if who.may(action, env):
        return None
    scope = f"{action}:{env.split('/')[0]}"
    return Reply(f"You may not {action} {env} (that needs the `{scope}` scope).")


def _where(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    with server.db.session() as session:
        rows = session.execute(
            select(Environment.name, Environment.current_release)
            .join(App, Environment.app_id == App.id)
            .where(App.name == c.app)
            .order_by(Environment.name)
        ).all()
        images = {
            (name, version): image
            for name, version, image in session.execute(
                select(Environment.name, Release.version, Release.image)
                .join(App, Environment.app_id == App.id)
                .join(Release, Release.environment_id == Environment.id)
                .where(App.name == c.app, Release.version == Environment.current_release)
            ).all()
        }
    shown = [(name, version) for name, version in rows if who.may("read", name)]
    if not shown:
        return Reply(f"{c.app} is not deployed anywhere you can see yet.")
    lines = [f"*{c.app}* is in:"]
    for name, version in shown:
        lock = envlocks.get(server.db, c.app, name)
        release = f"v{version} {images.get((name, version), '')}" if version else "no release"
        line = f"• `{name}`: {release.strip()}"
        if lock:
            line += f" — {lock.describe()}"
        lines.append(line)
    return Reply("\n".join(lines))


def _deploy(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    settings = server.settings.app(c.app)
    env = env or server.environment(settings.default_environment)
    if not server.known_environment(env):
        return Reply(f"There is no environment `{env}`.")
    ref = c.ref or settings.default_ref
    refused = _refuse(who, "deploy", env)
    if refused:
        return refused
    lock = envlocks.get(server.db, c.app, env)
    if lock is not None and lock.holder != who.name:
        return Reply(
            f"`{env}` on {c.app} is {lock.describe()}. Ask them, or steal it: "
            f"`lock {env} on {c.app}!`"
        )
    if not c.force:
        failing = _failing_checks(server, c.app, ref)
        if failing:
            return Reply(
                f"{c.app}@{ref} has checks that did not pass: {failing}. "
                f"Add `!` to deploy it anyway."
            )
    job = enqueue(
        server,
        app=c.app,
        env=env,
        actor=who.actor,
        ref=ref,
        options={"holder": who.name, "force": c.force},
        source="slack",
        response_url=form.get("response_url", ""),
    )
    return Reply(
        f"<@{form.get('user_id', '')}> is deploying {c.app}@{ref} to `{env}` (job {job}).",
        in_channel=True,
        job=job,
    )


def _failing_checks(server: Any, app: str, ref: str) -> str:
    """The required checks of a known commit that did not pass (empty: none, or unknown)."""
    settings = server.settings.app(app)
    if settings.cd is None or not settings.cd.required:
        return ""
    with server.db.session() as session:
        commit = session.scalars(
            select(Commit).where(Commit.app == app, Commit.sha.startswith(ref)).limit(1)
        ).first()
        if commit is None:
            return ""
        bad = [
            f"{name} ({commit.statuses.get(name, 'pending')})"
            for name in settings.cd.required
            if commit.statuses.get(name) != "success"
        ]
        return ", ".join(bad)


def _lock(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    refused = _refuse(who, "deploy", env)
    if refused:
        return refused
    outcome = envlocks.lock(
        server.db, c.app, env, who.name, c.message, steal=c.force, actor=who.actor
    )
    if outcome.outcome == "held":
        return Reply(
            f"`{env}` on {c.app} is already {outcome.lock.describe()}. "
            f"Steal it with `lock {env} on {c.app}!` (they will be told)."
        )
    if outcome.outcome == "stolen":
        assert outcome.previous is not None
        notify(
            server.settings.slack.notify_url,
            f"{_mention(server, outcome.previous.holder)}: {who.name} stole your lock on "
            f"`{env}` for {c.app}" + (f": {c.message}" if c.message else "."),
        )
        return Reply(
            f"Stole the lock on `{env}` for {c.app} from {outcome.previous.holder} "
            f"(they have been told).",
            in_channel=True,
        )
    if outcome.outcome == "renewed":
        return Reply(f"You already hold the lock on `{env}` for {c.app}; kept it.")
    why = f": {c.message}" if c.message else ""
    return Reply(f"Locked `{env}` on {c.app}{why}.", in_channel=True)


def _mention(server: Any, name: str) -> str:
    from stackyard.server.models import User

    with server.db.session() as session:
        slack_id = session.scalars(select(User.slack_id).where(User.name == name)).first()
    return f"<@{slack_id}>" if slack_id else name


def _unlock(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    refused = _refuse(who, "deploy", env)
    if refused:
        return refused
    removed = envlocks.unlock(server.db, c.app, env, who.actor)
    if removed is None:
        return Reply(f"`{env}` on {c.app} is not locked.")
    if removed.holder != who.name:
        notify(
            server.settings.slack.notify_url,
            f"{_mention(server, removed.holder)}: {who.name} removed your lock on `{env}` "
            f"for {c.app}.",
        )
        return Reply(
            f"Unlocked `{env}` on {c.app} (it was {removed.holder}'s; they have been told).",
            in_channel=True,
        )
    return Reply(f"Unlocked `{env}` on {c.app}.", in_channel=True)


def _unlock_all(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    removed = envlocks.unlock_all(server.db, who.name, who.actor)
    if not removed:
        return Reply("You hold no locks.")
    places = ", ".join(f"`{lock.environment}` on {lock.app}" for lock in removed)
    return Reply(f"Unlocked {len(removed)}: {places}.", in_channel=True)


def _check(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    refused = _refuse(who, "read", env)
    if refused:
        return refused
    lock = envlocks.get(server.db, c.app, env)
    if lock is None:
        return Reply(f"`{env}` on {c.app} is not locked.")
    return Reply(f"`{env}` on {c.app} is {lock.describe()}.")


def _latest(server: Any, who: Principal, c: Command, env: str, form: dict[str, str]) -> Reply:
    if not _known_app(server, c.app):
        return _no_app(c.app)
    env = env or server.environment(server.settings.app(c.app).default_environment)
    refused = _refuse(who, "read", env)
    if refused:
        return refused
    with server.db.session() as session:
        row = session.execute(
            select(Release)
            .join(Environment, Release.environment_id == Environment.id)
            .join(App, Environment.app_id == App.id)
            .where(App.name == c.app, Environment.name == env)
            .order_by(Release.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        if row is None:
            return Reply(f"{c.app} has no release in `{env}` yet.")
        job = session.scalars(
            select(Job)
            .where(Job.app == c.app, Job.environment == env, Job.release == row.version)
            .limit(1)
        ).first()
        ref = f" ({job.ref})" if job is not None and job.ref else ""
        return Reply(
            f"The latest release of {c.app} in `{env}` is v{row.version}{ref}: {row.image}, "
            f"{row.status}, by {row.created_by} at {row.created_at:%Y-%m-%d %H:%M} UTC."
        )
