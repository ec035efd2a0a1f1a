"""The deploy lock: one deploy of an app environment at a time, held in the database.

On PostgreSQL a session advisory lock on a connection of its own (it dies with the
process that held it); on SQLite a row in ``locks`` whose primary key is the lock's name.
Either way the row names the holder, so the one who waits can say who it waits for. A
SQLite row left by a process of this host that no longer runs is taken over.
"""

from __future__ import annotations

import os
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from stackyard.apps.db.database import Database
from stackyard.apps.db.models import Lock, utcnow
from stackyard.errors import StackyardError


class LockHeld(StackyardError):
    """Another deploy of the same app environment holds the lock."""


def holder_id(actor: str) -> str:
    """Who holds a lock: the actor, and the process (``pid@host``) for stale detection."""
    return f"{actor} pid {os.getpid()}@{socket.gethostname()}"


def _stale(holder: str) -> bool:
    _, _, where = holder.rpartition(" pid ")
    pid, _, host = where.partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _key(name: str) -> int:
    # advisory locks take a signed 64-bit key; crc32 is stable across processes
    return zlib.crc32(name.encode())


def _current_holder(db: Database, name: str) -> str | None:
    with db.session() as session:
        row = session.get(Lock, name)
        return row.holder if row else None


def _try_row(db: Database, name: str, holder: str) -> bool:
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session() as session:
            row = session.get(Lock, name)
            if row is not None and not _stale(row.holder):
                return False
            if row is not None:
                session.delete(row)
                session.flush()
            session.add(Lock(name=name, holder=holder, acquired_at=utcnow()))
        return True
    except IntegrityError:
        return False


def _drop_row(db: Database, name: str, holder: str) -> None:
    with db.session() as session:
        row = session.get(Lock, name)
        if row is not None and row.holder == holder:
            session.delete(row)


@contextmanager
def deploy_lock(
    db: Database,
    name: str,
    holder: str,
    *,
    wait: float = 900.0,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock ``name`` for the block; waits up to ``wait`` seconds (0: refuse at once)
    for another holder, calling ``on_wait(holder)`` once, then raises :class:`LockHeld`."""
    started = clock()
    deadline = started + wait
    told = False
    acquired = False
    connection: Any = None
    try:
        while True:
            if db.dialect == "postgresql":
                from sqlalchemy import text

                if connection is None:
                    connection = db.engine.connect()
                got = connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)}
                ).scalar()
                connection.commit()
                if got:
                    with db.session() as session:
                        session.merge(Lock(name=name, holder=holder, acquired_at=utcnow()))
                    acquired = True
                    break
            elif _try_row(db, name, holder):
                acquired = True
                break
            holder_now = _current_holder(db, name)
            other = holder_now or "another deploy"
            if clock() >= deadline:
                raise LockHeld(
                    f"{name} is locked by {other}",
                    hint="wait for that deploy to finish, then try again",
                )
            # On PostgreSQL the holder writes its row just after taking the lock: name it
            # once it is there (or after a second without it).
            known = holder_now is not None or clock() >= started + 1.0
            if not told and on_wait is not None and known:
                on_wait(other)
                told = True
            sleep(0.2)
        yield
    finally:
        if acquired:
            _drop_row(db, name, holder)
        if connection is not None:
            from sqlalchemy import text

            try:
                connection.execute(text("SELECT pg_advisory_unlock_all()"))
                connection.commit()
            finally:
                connection.close()
