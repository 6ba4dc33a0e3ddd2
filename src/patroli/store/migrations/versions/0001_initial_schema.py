"""Initial schema: scan_runs, scan_errors, posts, assessments, entities.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

Plain SQLAlchemy types only (the models' TypeDecorators are Python-side behaviour and
create the same columns): JSON is JSONB on PostgreSQL, ids are BIGINT on PostgreSQL and
INTEGER (rowid alias) on SQLite, datetimes are TIMESTAMP WITH TIME ZONE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create all tables and indexes."""
    op.create_table(
        "scan_runs",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("options", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts(), nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scan_runs_source", "scan_runs", ["source"])
    op.create_index("ix_scan_runs_status", "scan_runs", ["status"])

    op.create_table(
        "posts",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=True),
        sa.Column("platform", sa.String(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("posted_at", _ts(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("raw", _json(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("first_seen_run_id", _id(), nullable=True),
        sa.Column("first_seen_at", _ts(), nullable=False),
        sa.Column("last_seen_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["first_seen_run_id"], ["scan_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "key", name="uq_posts_source_key"),
    )
    op.create_index("ix_posts_first_seen_run_id", "posts", ["first_seen_run_id"])

    op.create_table(
        "scan_errors",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("run_id", _id(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["scan_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scan_errors_run_id", "scan_errors", ["run_id"])

    op.create_table(
        "assessments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("post_id", _id(), nullable=False),
        sa.Column("run_id", _id(), nullable=True),
        sa.Column("risk_score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("probabilities", _json(), nullable=False),
        sa.Column("findings", _json(), nullable=False),
        sa.Column("verification", _json(), nullable=False),
        sa.Column("signals", _json(), nullable=True),
        sa.Column("rule_set_version", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("analyzed_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["scan_runs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "post_id", "rule_set_version", "model_version", name="uq_assessments_post_version"
        ),
    )
    op.create_index("ix_assessments_risk_score", "assessments", ["risk_score"])
    op.create_index("ix_assessments_run_id", "assessments", ["run_id"])

    op.create_table(
        "entities",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", _id(), nullable=False),
        sa.Column("post_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("data", _json(), nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_entities_assessment_id", "entities", ["assessment_id"])
    op.create_index("ix_entities_kind_value", "entities", ["kind", "value"])
    op.create_index("ix_entities_post_id", "entities", ["post_id"])


def downgrade() -> None:
    """Drop all tables (data is lost)."""
    op.drop_table("entities")
    op.drop_table("assessments")
    op.drop_table("scan_errors")
    op.drop_table("posts")
    op.drop_table("scan_runs")
