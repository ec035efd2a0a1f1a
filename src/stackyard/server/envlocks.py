"""Locks people take on an app's environment (``lock prod on api: migrating``).

Not the deploy mutex (``stackyard.apps.db.locks``: one deploy at a time, held for the length
of a deploy): a lock here says "nobody else deploys here until I unlock", held in the
database with its holder and message. Another person can steal it, and the one it was taken
from is told. Each change is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from stackyard.apps.db.database import Database
from stackyard.apps.db.models import Event, utcnow
from stackyard.server.models import EnvLock


@dataclass(frozen=True)
class LockInfo:
    """A held lock."""

    app: str
    environment: str
    holder: str
    message: str
    since: datetime

    def describe(self) -> str:
        why = f": {self.message}" if self.message else ""
        return f"locked by {self.holder}{why} (since {self.since:%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class LockOutcome:
    """What taking a lock did: ``taken``, ``renewed`` (already ours), ``held`` (another's,
    not stolen) or ``stolen`` (from ``previous``)."""

    outcome: str
    lock: LockInfo
    previous: LockInfo | None = None


def _info(row: EnvLock) -> LockInfo:
    return LockInfo(row.app, row.environment, row.holder, row.message, row.created_at)


def _event(session: object, app: str, env: str, kind: str, message: str, actor: str) -> None:
    session.add(  # type: ignore[attr-defined]
        Event(
            app=app, environment=env, kind=kind, message=message, actor=actor, created_at=utcnow()
        )
    )


def get(db: Database, app: str, env: str) -> LockInfo | None:
    """The lock on ``app`` in ``env``, if any."""
    with db.session() as session:
        row = session.scalars(
            select(EnvLock).where(EnvLock.app == app, EnvLock.environment == env)
        ).one_or_none()
        return _info(row) if row else None


def all_locks(db: Database) -> list[LockInfo]:
    """Every held lock, by app and environment."""
    with db.session() as session:
        rows = session.scalars(select(EnvLock).order_by(EnvLock.app, EnvLock.environment))
        return [_info(r) for r in rows]


def lock(
    db: Database, app: str, env: str, holder: str, message: str, *, steal: bool, actor: str
) -> LockOutcome:
    """Lock ``env`` of ``app`` for ``holder``; ``steal`` takes it from another."""
    for _ in range(3):  # a concurrent insert of the same lock: read it again
        try:
            with db.session() as session:
                row = session.scalars(
                    select(EnvLock).where(EnvLock.app == app, EnvLock.environment == env)
                ).one_or_none()
                if row is None:
                    row = EnvLock(
                        app=app,
                        environment=env,
                        holder=holder,
                        message=message,
                        created_at=utcnow(),
                    )
                    session.add(row)
                    session.flush()
                    _event(
                        session, app, env, "lock", f"locked {env}: {message}".rstrip(": "), actor
                    )
                    return LockOutcome("taken", _info(row))
                if row.holder == holder:
                    row.message = message or row.message
                    _event(session, app, env, "lock", f"renewed the lock on {env}", actor)
                    return LockOutcome("renewed", _info(row))
                previous = _info(row)
                if not steal:
                    return LockOutcome("held", previous)
                row.holder, row.message, row.created_at = holder, message, utcnow()
                _event(
                    session,
                    app,
                    env,
                    "lock",
                    f"stole the lock on {env} from {previous.holder}",
                    actor,
                )
                return LockOutcome("stolen", _info(row), previous)
        except IntegrityError:
            continue
    raise RuntimeError("the lock kept changing under us")  # pragma: no cover


def unlock(db: Database, app: str, env: str, actor: str) -> LockInfo | None:
    """Remove the lock on ``env`` of ``app``; the lock that was there (None: none was)."""
    with db.session() as session:
        row = session.scalars(
            select(EnvLock).where(EnvLock.app == app, EnvLock.environment == env)
        ).one_or_none()
        if row is None:
            return None
        info = _info(row)
        session.delete(row)
        _event(session, app, env, "unlock", f"unlocked {env} (held by {info.holder})", actor)
        return info


def unlock_all(db: Database, holder: str, actor: str) -> list[LockInfo]:
    """Remove every lock ``holder`` holds; those removed."""
    with db.session() as session:
        rows = session.scalars(select(EnvLock).where(EnvLock.holder == holder)).all()
        out = [_info(r) for r in rows]
        for row in rows:
            session.delete(row)
            _event(
                session, row.app, row.environment, "unlock", f"unlocked {row.environment}", actor
            )
        return out
