"""Review state of posts in the analyst queue: post_reviews, review_events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 00:00:00

Plain SQLAlchemy types, as in 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``post_reviews`` and ``review_events``; index ``posts`` on platform and
    posted_at (queue filters, dashboard)."""
    op.create_table(
        "post_reviews",
        sa.Column("post_id", _id(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("updated_by", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_post_reviews_status", "post_reviews", ["status"])
    op.create_index("ix_post_reviews_assignee", "post_reviews", ["assignee"])
    op.create_table(
        "review_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("post_id", _id(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_events_post_at", "review_events", ["post_id", "at"])
    op.create_index("ix_posts_platform", "posts", ["platform"])
    op.create_index("ix_posts_posted_at", "posts", ["posted_at"])


def downgrade() -> None:
    """Drop ``review_events``, ``post_reviews`` and the two ``posts`` indexes."""
    op.drop_index("ix_posts_posted_at", table_name="posts")
    op.drop_index("ix_posts_platform", table_name="posts")
    op.drop_index("ix_review_events_post_at", table_name="review_events")
    op.drop_table("review_events")
    op.drop_index("ix_post_reviews_assignee", table_name="post_reviews")
    op.drop_index("ix_post_reviews_status", table_name="post_reviews")
    op.drop_table("post_reviews")
