"""The server's tables, on the apps metadata (one database, one Alembic history).

Users and their API tokens (only a token's SHA-256 is stored), environment locks that people
take (``lock prod on api: migrating``; the deploy mutex stays in ``locks``), Slack request
signatures seen (replay protection shared by every server process), commits followed for
continuous delivery, and jobs: each deploy the server runs is a row that exactly one server
process claims.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stackyard.apps.db.models import Base, utcnow


class User(Base):
    """A person (or a robot) who acts through the server; its scopes say where."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    slack_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    github_login: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Token(Base):
    """An API token of a user: its SHA-256, a prefix to recognise it by, and its scopes."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class EnvLock(Base):
    """A lock a person holds on an app's environment, with why."""

    __tablename__ = "env_locks"
    __table_args__ = (UniqueConstraint("app", "environment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app: Mapped[str] = mapped_column(String(64))
    environment: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SlackNonce(Base):
    """A Slack request signature already answered (kept while its timestamp is fresh)."""

    __tablename__ = "slack_nonces"

    signature: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Commit(Base):
    """A pushed commit on an app's delivery branch, and where continuous delivery is with it."""

    __tablename__ = "cd_commits"
    __table_args__ = (UniqueConstraint("app", "environment", "sha"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app: Mapped[str] = mapped_column(String(64), index=True)
    environment: Mapped[str] = mapped_column(String(64))
    repository: Mapped[str] = mapped_column(String(256))
    branch: Mapped[str] = mapped_column(String(256))
    sha: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(256), default="")
    # pending, skipped, superseded, locked, failed-checks, deploying, deployed, failed
    state: Mapped[str] = mapped_column(String(24), default="pending")
    statuses: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    """A deploy (or restart) the server runs; exactly one server process claims each."""

    __tablename__ = "server_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="deploy")
    app: Mapped[str] = mapped_column(String(64), index=True)
    environment: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(256), default="")
    image: Mapped[str] = mapped_column(String(512), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(256), default="")
    source: Mapped[str] = mapped_column(String(16), default="api")  # api, slack, cd
    response_url: Mapped[str] = mapped_column(Text, default="")
    # queued, running, interrupted, succeeded, failed, held, superseded
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    runs: Mapped[int] = mapped_column(Integer, default=0)
    release: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(Text, default="")
    github_deployment: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
