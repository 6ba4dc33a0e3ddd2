"""Cases and evidence (issue 6, part A): cases, case_items, case_comments, case_events,
evidence, custody_events; append-only triggers on case_events and custody_events.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 00:00:00

Plain SQLAlchemy types, as in 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = ("case_events", "custody_events")


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the case and evidence tables, their indexes and append-only triggers."""
    op.create_table(
        "cases",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("close_requested_by", sa.String(), nullable=True),
        sa.Column("close_requested_at", _ts(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_table(
        "case_items",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("case_id", _id(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("ref_kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("post_id", _id(), nullable=True),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "item_kind", "ref_kind", "ref",
                            name="uq_case_items_ref"),
    )
    op.create_index("ix_case_items_post", "case_items", ["post_id"])
    op.create_table(
        "case_comments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("case_id", _id(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_comments_case", "case_comments", ["case_id"])
    op.create_table(
        "case_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("case_id", _id(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_events_case_at", "case_events", ["case_id", "at"])
    op.create_table(
        "evidence",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("case_id", _id(), nullable=False),
        sa.Column("post_id", _id(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("text_size", sa.Integer(), nullable=True),
        sa.Column("text_path", sa.String(), nullable=True),
        sa.Column("captured_at", _ts(), nullable=False),
        sa.Column("captured_by", sa.String(), nullable=False),
        sa.Column("tool_version", sa.String(length=64), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_case", "evidence", ["case_id"])
    op.create_table(
        "custody_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("evidence_id", _id(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_custody_events_evidence", "custody_events", ["evidence_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION patroli_append_only() RETURNS trigger AS $$\n"
            "BEGIN\n    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;\nEND;\n"
            "$$ LANGUAGE plpgsql")
        for table in _APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "
                       f"{table} FOR EACH ROW EXECUTE FUNCTION patroli_append_only()")
    else:
        for table in _APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    """Drop the triggers, then the tables in reverse order."""
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS patroli_append_only()")
    else:
        for table in _APPEND_ONLY:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    for table, index in (("custody_events", "ix_custody_events_evidence"),
                         ("evidence", "ix_evidence_case"),
                         ("case_events", "ix_case_events_case_at"),
                         ("case_comments", "ix_case_comments_case"),
                         ("case_items", "ix_case_items_post"),
                         ("cases", "ix_cases_status")):
        op.drop_index(index, table_name=table)
        op.drop_table(table)
