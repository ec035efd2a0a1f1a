"""The apps database's tables, as SQLAlchemy 2 declarative models.

What CloudFormation cannot hold lives here: apps, their environments, numbered releases,
config vars (secret values never: only ``secret:/path`` references), formation, audit
events, deploy locks, and canary rollouts. A schema change is an Alembic migration in
``migrations/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, in UTC (stored without a zone: every timestamp in this database is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The declarative base of every apps table."""


class App(Base):
    """An app: a name and its manifest (the extended Procfile, as parsed data)."""

    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256), default="")


class Environment(Base):
    """An app in one environment (``stage``, ``prod``): the unit that deploys and locks."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("app_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    current_release: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Release(Base):
    """An immutable, numbered release of an app in an environment."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("environment_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    image: Mapped[str] = mapped_column(String(512))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    formation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256), default="")


class ConfigVar(Base):
    """One config var of an app in an environment; a secret is stored as its reference."""

    __tablename__ = "config_vars"
    __table_args__ = (UniqueConstraint("environment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(256))
    value: Mapped[str] = mapped_column(Text)


class Formation(Base):
    """How many tasks of a process run, and their size."""

    __tablename__ = "formation"
    __table_args__ = (UniqueConstraint("environment_id", "process"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    process: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    cpu: Mapped[int | None] = mapped_column(Integer, nullable=True)
    memory: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Event(Base):
    """An audit event: what changed, who did it (their AWS identity), when, which release."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app: Mapped[str] = mapped_column(String(64), index=True)
    environment: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(256), default="")
    release: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Lock(Base):
    """A held deploy lock of one app environment (SQLite; PostgreSQL adds an advisory lock)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(256))
    acquired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CanaryRollout(Base):
    """A stepped canary rollout of a release in a sub-environment: its steps, the step and
    weight it reached, and how it ended (``running``, ``succeeded``, ``rolled_back``)."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    release: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[int]] = mapped_column(JSON, default=list)
    bake_seconds: Mapped[float] = mapped_column(Float)
    step: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(256), default="")
