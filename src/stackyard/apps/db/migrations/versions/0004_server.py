"""The server: users, hashed API tokens, environment locks, Slack replay protection,
continuous-delivery commits and server jobs.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the server's tables."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("slack_id", sa.String(64), nullable=True, unique=True),
        sa.Column("github_login", sa.String(64), nullable=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "env_locks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("app", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("app", "environment"),
    )
    op.create_table(
        "slack_nonces",
        sa.Column("signature", sa.String(80), primary_key=True),
        sa.Column("seen_at", sa.DateTime, nullable=False, index=True),
    )
    op.create_table(
        "cd_commits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("app", sa.String(64), nullable=False, index=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("repository", sa.String(256), nullable=False),
        sa.Column("branch", sa.String(256), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("statuses", sa.JSON, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("app", "environment", "sha"),
    )
    op.create_table(
        "server_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("app", sa.String(64), nullable=False, index=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(256), nullable=False),
        sa.Column("image", sa.String(512), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("response_url", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("release", sa.Integer, nullable=True),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("github_deployment", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("heartbeat_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("server_jobs", "cd_commits", "slack_nonces", "env_locks", "tokens", "users"):
        op.drop_table(table)
