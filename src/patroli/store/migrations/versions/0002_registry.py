"""Registry snapshots, agencies, permits; watchlist and allowlist entries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:00:00

Plain SQLAlchemy types, as in 0001 (JSON is JSONB on PostgreSQL, ids BIGINT on
PostgreSQL and INTEGER on SQLite, datetimes TIMESTAMP WITH TIME ZONE, dates DATE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _ts() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the registry and watchlist tables."""
    op.create_table(
        "registry_snapshots",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("imported_at", _ts(), nullable=False),
        sa.Column("sources", _json(), nullable=False),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("imported_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_registry_snapshots_imported_at", "registry_snapshots", ["imported_at"])

    op.create_table(
        "registry_agencies",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", _id(), nullable=False),
        sa.Column("agency_id", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_normalized", sa.String(), nullable=False),
        sa.Column("licence_number", sa.String(), nullable=True),
        sa.Column("licence_valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=True),
        sa.Column("aliases", _json(), nullable=False),
        sa.Column("province", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phones", _json(), nullable=False),
        sa.Column("websites", _json(), nullable=False),
        sa.Column("emails", _json(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["registry_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "agency_id",
                            name="uq_registry_agencies_snapshot_agency"),
    )
    op.create_index("ix_registry_agencies_snapshot_name", "registry_agencies",
                    ["snapshot_id", "name_normalized"])

    op.create_table(
        "registry_permits",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", _id(), nullable=False),
        sa.Column("permit_number", sa.String(), nullable=False),
        sa.Column("agency_id", sa.String(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("destination_name", sa.Text(), nullable=True),
        sa.Column("employer", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["snapshot_id"], ["registry_snapshots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("snapshot_id", "permit_number",
                            name="uq_registry_permits_snapshot_number"),
    )
    op.create_index("ix_registry_permits_snapshot_agency", "registry_permits",
                    ["snapshot_id", "agency_id"])

    op.create_table(
        "watchlist_entries",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("list_name", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", _ts(), nullable=False),
        sa.Column("removed_at", _ts(), nullable=True),
        sa.Column("removed_by", sa.String(), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_watchlist_entries_kind_value", "watchlist_entries", ["kind", "value"])
    op.create_index("ix_watchlist_entries_list_name", "watchlist_entries", ["list_name"])


def downgrade() -> None:
    """Drop the registry and watchlist tables (data is lost)."""
    op.drop_table("watchlist_entries")
    op.drop_table("registry_permits")
    op.drop_table("registry_agencies")
    op.drop_table("registry_snapshots")
