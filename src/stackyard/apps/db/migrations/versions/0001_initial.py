"""Apps, environments, releases, config vars, formation and audit events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first tables."""
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
    )
    op.create_table(
        "environments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("current_release", sa.Integer, nullable=True),
        sa.UniqueConstraint("app_id", "name"),
    )
    env_fk = sa.ForeignKey("environments.id", ondelete="CASCADE")
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("environment_id", sa.Integer, env_fk, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("image", sa.String(512), nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("formation", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.UniqueConstraint("environment_id", "version"),
    )
    op.create_table(
        "config_vars",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer,
            sa.ForeignKey("environments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.UniqueConstraint("environment_id", "key"),
    )
    op.create_table(
        "formation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "environment_id",
            sa.Integer,
            sa.ForeignKey("environments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("cpu", sa.Integer, nullable=True),
        sa.Column("memory", sa.Integer, nullable=True),
        sa.UniqueConstraint("environment_id", "process"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("app", sa.String(64), nullable=False, index=True),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("release", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("events", "formation", "config_vars", "releases", "environments", "apps"):
        op.drop_table(table)
