"""Where the apps database is, opening it, migrating it, and sessions scoped to one operation.

SQLite by default, one file under the project's state folder (``$STACKYARD_HOME/apps.db``,
else ``~/.stackyard/apps.db``); a team points ``STACKYARD_DATABASE_URL`` at PostgreSQL
(``postgresql+psycopg://user@host/db``). Every open runs Alembic to the head revision.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackyard.errors import StackyardError
from stackyard.home import state_home

URL_VARIABLE = "STACKYARD_DATABASE_URL"


class DatabaseError(StackyardError):
    """The apps database cannot be opened, migrated or written."""


def default_url() -> str:
    """``$STACKYARD_DATABASE_URL``, else the SQLite file under the state folder."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    return f"sqlite:///{state_home() / 'apps.db'}"


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "stackyard.apps.db:migrations")
    config.attributes["connection"] = connection
    return config


def migrate(engine: Any, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (from empty, or from where it is)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def current_revision(engine: Any) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        rev: str | None = MigrationContext.configure(connection).get_current_revision()
        return rev


def _make_engine(url: str) -> Any:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets a reader go on while a deploy writes; foreign keys make CASCADE real.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class Database:
    """An opened, migrated apps database; :meth:`session` gives one operation's session."""

    engine: Any
    url: str

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Database:
        """Open the database at ``url`` (default: :func:`default_url`), migrated to head."""
        from sqlalchemy.exc import SQLAlchemyError

        url = url or default_url()
        try:
            engine = _make_engine(url)
            if upgrade:
                migrate(engine)
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot open the apps database: {exc.__class__.__name__}: {exc.args[0]}",
                hint=f"check {URL_VARIABLE} (unset: a SQLite file under STACKYARD_HOME)",
            ) from exc
        return cls(engine, url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        name: str = self.engine.dialect.name
        return name

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A session for one operation: committed when the block ends, rolled back on error."""
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
