"""Database schema of the verification data: registry snapshots, agencies, permits and
watchlist / allowlist entries (same ``Base`` as ``store.models``; created by migration
``0002``).

Each registry import is a dated snapshot (``registry_snapshots``); its agencies and
permits belong to it (deleted with it). Watchlist entries are never deleted: removal sets
``removed_at`` / ``removed_by`` / ``removed_reason`` (soft delete, kept for the audit).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, JSONDoc, SafeString, SafeText, UTCDateTime


class RegistrySnapshotRow(Base):
    """One registry import: when (UTC), from which files, row counts, by whom."""

    __tablename__ = "registry_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sources: Mapped[list[str]] = mapped_column(JSONDoc)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    imported_by: Mapped[str] = mapped_column(SafeString(), default="")


class RegistryAgencyRow(Base):
    """A placement company (P3MI) as one snapshot lists it."""

    __tablename__ = "registry_agencies"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "agency_id", name="uq_registry_agencies_snapshot_agency"),
        Index("ix_registry_agencies_snapshot_name", "snapshot_id", "name_normalized"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registry_snapshots.id", ondelete="CASCADE"))
    agency_id: Mapped[str] = mapped_column(SafeString())
    name: Mapped[str] = mapped_column(SafeText())
    #: ``verify.matching.normalize_agency_name(name)``
    name_normalized: Mapped[str] = mapped_column(SafeString())
    licence_number: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    licence_valid_until: Mapped[date | None] = mapped_column(Date(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    status_since: Mapped[date | None] = mapped_column(Date(), nullable=True)
    aliases: Mapped[list[str]] = mapped_column(JSONDoc)
    province: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    city: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    address: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    phones: Mapped[list[str]] = mapped_column(JSONDoc)
    websites: Mapped[list[str]] = mapped_column(JSONDoc)
    emails: Mapped[list[str]] = mapped_column(JSONDoc)


class RegistryPermitRow(Base):
    """A recruitment permit (SIP2MI) as one snapshot lists it."""

    __tablename__ = "registry_permits"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "permit_number",
                         name="uq_registry_permits_snapshot_number"),
        Index("ix_registry_permits_snapshot_agency", "snapshot_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registry_snapshots.id", ondelete="CASCADE"))
    permit_number: Mapped[str] = mapped_column(SafeString())
    agency_id: Mapped[str] = mapped_column(SafeString())
    #: ISO 3166-1 alpha-2
    destination: Mapped[str] = mapped_column(String(2))
    destination_name: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    employer: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    position: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_on: Mapped[date | None] = mapped_column(Date(), nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date(), nullable=True)


class WatchEntryRow(Base):
    """A watchlist ("watch") or allowlist ("allow") entry; removal is a soft delete."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        Index("ix_watchlist_entries_kind_value", "kind", "value"),
        Index("ix_watchlist_entries_list_name", "list_name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(SafeString())
    list_name: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(SafeText(), default="")
    source: Mapped[str] = mapped_column(SafeText(), default="")
    added_by: Mapped[str] = mapped_column(SafeString(), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(SafeText(), nullable=True)


registry_snapshots = RegistrySnapshotRow.__table__
registry_agencies = RegistryAgencyRow.__table__
registry_permits = RegistryPermitRow.__table__
watchlist_entries = WatchEntryRow.__table__
