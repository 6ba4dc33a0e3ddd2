"""Takedown requests, outcome checks and second-person approvals (issue 6, part B):
takedown_requests, takedown_items, takedown_events (append-only), approvals.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 00:00:00

Plain SQLAlchemy types, as in 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.JSON().with_variant(JSONB(), "postgresql")


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the takedown and approval tables, their indexes, and the append-only
    triggers of ``takedown_events``."""
    op.create_table(
        "takedown_requests",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("case_id", _id(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("drafted_by", sa.String(), nullable=False),
        sa.Column("drafted_at", _ts(), nullable=False),
        sa.Column("approved_by", sa.String(), nullable=True),
        sa.Column("approved_at", _ts(), nullable=True),
        sa.Column("sent_by", sa.String(), nullable=True),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_takedown_requests_recipient", "takedown_requests", ["recipient"])
    op.create_index("ix_takedown_requests_case_id", "takedown_requests", ["case_id"])
    op.create_table(
        "takedown_items",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("request_id", _id(), nullable=False),
        sa.Column("post_id", _id(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("evidence_hashes", _json(), nullable=False),
        sa.Column("first_detected_at", _ts(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("drafted_at", _ts(), nullable=False),
        sa.Column("approved_at", _ts(), nullable=True),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("acknowledged_at", _ts(), nullable=True),
        sa.Column("removed_at", _ts(), nullable=True),
        sa.Column("refused_at", _ts(), nullable=True),
        sa.Column("reappeared_at", _ts(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("last_checked_at", _ts(), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_takedown_items_request_id", "takedown_items", ["request_id"])
    op.create_index("ix_takedown_items_post_id", "takedown_items", ["post_id"])
    op.create_index("ix_takedown_items_status", "takedown_items", ["status"])
    op.create_index("ix_takedown_items_platform", "takedown_items", ["platform"])
    op.create_table(
        "takedown_events",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("item_id", _id(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("details", _json(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["takedown_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_takedown_events_item_at", "takedown_events", ["item_id", "at"])
    op.create_table(
        "approvals",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_at", _ts(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approvals_status", "approvals", ["status"])
    op.create_index("ix_approvals_kind_ref", "approvals", ["kind", "ref"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION patroli_append_only() RETURNS trigger AS $$\n"
            "BEGIN\n    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;\nEND;\n"
            "$$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER takedown_events_append_only BEFORE UPDATE OR DELETE ON "
                   "takedown_events FOR EACH ROW EXECUTE FUNCTION patroli_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER takedown_events_no_{event.lower()} BEFORE {event} ON "
                "takedown_events BEGIN SELECT RAISE(ABORT, 'takedown_events is append-only'); "
                "END")


def downgrade() -> None:
    """Drop the triggers, then the tables in reverse order (the shared
    ``patroli_append_only()`` function of 0007 stays)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS takedown_events_append_only ON takedown_events")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS takedown_events_no_{event}")
    op.drop_index("ix_approvals_kind_ref", table_name="approvals")
    op.drop_index("ix_approvals_status", table_name="approvals")
    op.drop_table("approvals")
    op.drop_index("ix_takedown_events_item_at", table_name="takedown_events")
    op.drop_table("takedown_events")
    for index in ("ix_takedown_items_platform", "ix_takedown_items_status",
                  "ix_takedown_items_post_id", "ix_takedown_items_request_id"):
        op.drop_index(index, table_name="takedown_items")
    op.drop_table("takedown_items")
    op.drop_index("ix_takedown_requests_case_id", table_name="takedown_requests")
    op.drop_index("ix_takedown_requests_recipient", table_name="takedown_requests")
    op.drop_table("takedown_requests")
