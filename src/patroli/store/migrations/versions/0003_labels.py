"""Analyst labels (decisions that train the model).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:00:00

Plain SQLAlchemy types, as in 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``analyst_labels``."""
    op.create_table(
        "analyst_labels",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("post_id", _id(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_analyst_labels_post_decided", "analyst_labels", ["post_id", "decided_at"])


def downgrade() -> None:
    """Drop ``analyst_labels``."""
    op.drop_index("ix_analyst_labels_post_decided", table_name="analyst_labels")
    op.drop_table("analyst_labels")
