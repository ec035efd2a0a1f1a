"""Deploy locks, and why a release failed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the locks table and ``releases.reason`` (existing releases get an empty one)."""
    op.create_table(
        "locks",
        sa.Column("name", sa.String(160), primary_key=True),
        sa.Column("holder", sa.String(256), nullable=False),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("reason", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    """Remove them."""
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("reason")
    op.drop_table("locks")
