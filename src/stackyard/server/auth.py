"""Users, API tokens and scopes.

A token is ``sy_`` and 43 random URL-safe characters; the database keeps its SHA-256 (a
token has 256 bits of entropy, so a fast hash is enough: there is nothing to brute-force)
and its first characters to recognise it by. A scope is ``ACTION:ENV``: the actions are
``read`` < ``deploy`` < ``admin`` (each implies those before it), ENV an environment or
``*``. ``*`` never grants ``deploy`` or ``admin`` on ``prod``, its sub-environments
(``prod/canary``) or any environment apps.yaml marks protected: those need their own
scope (``deploy:prod`` covers ``prod`` and ``prod/canary``). Server-wide administration
(users, tokens, apps) needs ``admin:*``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from stackyard.apps.db.database import Database
from stackyard.apps.db.models import Event, utcnow
from stackyard.errors import UsageError
from stackyard.server.models import Token, User

ACTIONS = ("read", "deploy", "admin")
TOKEN_PREFIX = "sy_"
GUARDED = frozenset({"prod", "production"})


class Forbidden(UsageError):
    """The caller lacks the scope an operation needs."""


def new_token() -> str:
    """A fresh API token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_scope(scope: str) -> str:
    """``scope`` if well formed, else UsageError."""
    action, sep, env = scope.partition(":")
    if not sep or action not in ACTIONS or not env:
        raise UsageError(
            f"bad scope {scope!r}", hint="ACTION:ENV with ACTION read, deploy or admin; ENV or *"
        )
    return scope


def root(env: str) -> str:
    """The environment a sub-environment belongs to (``prod/canary`` → ``prod``)."""
    return env.split("/", 1)[0]


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    name: str
    scopes: tuple[str, ...]
    via: str = ""  # "token ci", "slack U123"
    guarded: Callable[[str], bool] = lambda env: root(env) in GUARDED

    @property
    def actor(self) -> str:
        """How audit events name this caller."""
        return f"{self.name} ({self.via})" if self.via else self.name

    def may(self, action: str, env: str = "*") -> bool:
        """Whether a scope grants ``action`` on ``env`` (``*``: server-wide)."""
        need = ACTIONS.index(action)
        for scope in self.scopes:
            have, _, pattern = scope.partition(":")
            if have not in ACTIONS or ACTIONS.index(have) < need:
                continue
            if pattern == "*":
                if env == "*" or action == "read" or not self.guarded(env):
                    return True
            elif env != "*" and pattern in (env, root(env)):
                return True
        return False

    def require(self, action: str, env: str = "*") -> None:
        """Raise :class:`Forbidden` unless :meth:`may`."""
        if not self.may(action, env):
            where = "the server" if env == "*" else env
            raise Forbidden(
                f"{self.name} may not {action} {where}",
                hint=f"that needs the {action}:{root(env) if env != '*' else '*'} scope",
            )


def _audit(session: object, actor: str, kind: str, message: str) -> None:
    session.add(  # type: ignore[attr-defined]
        Event(app="", environment="", kind=kind, message=message, actor=actor, created_at=utcnow())
    )


def add_user(
    db: Database,
    name: str,
    scopes: Iterable[str],
    *,
    slack_id: str | None = None,
    github_login: str | None = None,
    actor: str = "admin",
) -> None:
    """Create user ``name`` (again: replace its scopes and ids)."""
    scopes = [check_scope(s) for s in scopes]
    with db.session() as session:
        user = session.scalars(select(User).where(User.name == name)).one_or_none()
        if user is None:
            user = User(name=name, created_at=utcnow())
            session.add(user)
        user.scopes = scopes
        user.slack_id = slack_id or user.slack_id
        user.github_login = github_login or user.github_login
        _audit(session, actor, "user", f"user {name}: scopes {' '.join(scopes) or '-'}")
    forget_tokens()


def create_token(
    db: Database, user: str, name: str, scopes: Iterable[str] | None = None, actor: str = "admin"
) -> str:
    """A new token of ``user`` with ``scopes`` (default: the user's); returned once."""
    token = new_token()
    with db.session() as session:
        row = session.scalars(select(User).where(User.name == user)).one_or_none()
        if row is None:
            raise UsageError(f"no user {user!r}", hint="add one: stackyard server users add NAME")
        granted = [check_scope(s) for s in scopes] if scopes is not None else list(row.scopes)
        session.add(
            Token(
                user_id=row.id,
                name=name,
                digest=digest(token),
                prefix=token[:10],
                scopes=granted,
                created_at=utcnow(),
            )
        )
        _audit(session, actor, "token", f"token {name} of {user}: {' '.join(granted) or '-'}")
    return token


def revoke_token(db: Database, prefix: str, actor: str = "admin") -> int:
    """Revoke the tokens starting ``prefix``; how many."""
    with db.session() as session:
        rows = session.scalars(
            select(Token).where(Token.prefix == prefix[:10], Token.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at = utcnow()
            _audit(session, actor, "token", f"revoked token {row.name} ({row.prefix}…)")
        count = len(rows)
    forget_tokens()
    return count


# Recently checked tokens: digest -> (principal, when). A revocation takes effect at once in
# the process that made it and within CACHE_SECONDS in the others.
CACHE_SECONDS = 5.0
_cache: dict[str, tuple[Principal | None, float]] = {}
_cache_lock = threading.Lock()


def forget_tokens() -> None:
    """Empty the cache of checked tokens."""
    with _cache_lock:
        _cache.clear()


def peek(token: str) -> Principal | None:
    """The principal of a token checked in the last few seconds (no database read)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with _cache_lock:
        hit = _cache.get(digest(token))
    if hit is not None and time.monotonic() - hit[1] < CACHE_SECONDS:
        return hit[0]
    return None


def authenticate(
    db: Database, token: str, guarded: Callable[[str], bool] | None = None
) -> Principal | None:
    """The principal of an API token, or None (unknown, revoked, malformed)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    wanted = digest(token)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(wanted)
    if hit is not None and now - hit[1] < CACHE_SECONDS:
        return hit[0]
    found = _authenticate(db, wanted, guarded)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        if found is not None:  # an unknown token may be created a moment later
            _cache[wanted] = (found, now)
    return found


def _authenticate(
    db: Database, wanted: str, guarded: Callable[[str], bool] | None
) -> Principal | None:
    with db.session() as session:
        row = session.scalars(select(Token).where(Token.digest == wanted)).one_or_none()
        # the lookup is by digest; compare again in constant time all the same
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, wanted):
            return None
        user = session.get(User, row.user_id)
        if user is None:
            return None
        now = utcnow()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            row.last_used_at = now
        return _principal(user.name, tuple(row.scopes), f"token {row.name}", guarded)


def _principal(
    name: str, scopes: tuple[str, ...], via: str, guarded: Callable[[str], bool] | None
) -> Principal:
    if guarded is None:
        return Principal(name, scopes, via)
    return Principal(name, scopes, via, guarded)


def slack_user(
    db: Database, slack_id: str, guarded: Callable[[str], bool] | None = None
) -> Principal | None:
    """The principal of a Slack user, or None when no user has that Slack id."""
    with db.session() as session:
        user = session.scalars(select(User).where(User.slack_id == slack_id)).one_or_none()
        if user is None:
            return None
        return _principal(user.name, tuple(user.scopes), f"slack {slack_id}", guarded)


def users(db: Database) -> list[dict[str, object]]:
    """Every user with its tokens (names and prefixes only)."""
    with db.session() as session:
        out: list[dict[str, object]] = []
        for user in session.scalars(select(User).order_by(User.name)):
            tokens = session.scalars(select(Token).where(Token.user_id == user.id))
            out.append(
                {
                    "name": user.name,
                    "slack_id": user.slack_id,
                    "github_login": user.github_login,
                    "scopes": list(user.scopes),
                    "tokens": [
                        {
                            "name": t.name,
                            "prefix": t.prefix,
                            "scopes": list(t.scopes),
                            "revoked": t.revoked_at is not None,
                        }
                        for t in tokens
                    ],
                }
            )
        return out
