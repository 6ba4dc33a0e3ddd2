"""Tables of takedown requests, outcome checks and second-person approvals (issue 6, part B).

- ``takedown_requests``: one batched request to one recipient (``recipient``: a key of
  ``patroli/data/takedown/recipients.yaml``), its language, the case it serves (or NULL),
  who drafted it and when, who approved it (four-eyes) and when, when it was sent.
- ``takedown_items``: one URL or account in a request: platform, category, priority
  (``"4h"`` urgent / ``"24h"``), evidence hashes (JSON list of SHA-256 hex), the post it
  came from (or NULL), first detection time, current status and the UTC time of each
  status reached (``drafted_at`` ... ``reappeared_at``; the latest time when a status is
  reached again), the content hash seen by the last outcome check.
- ``takedown_events``: the history (append-only): a status change (``action="status"``)
  or an outcome check (``action="check"``), with actor, time (UTC) and details.
- ``approvals``: changes that need a second person (dismissing a HIGH-risk post,
  allow-listing a contact): kind, reference, payload, requester, status
  (pending / approved / rejected), decider and time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, JSONDoc, SafeString, SafeText, UTCDateTime


class TakedownRequest(Base):
    """A batched takedown request to one recipient (platform, hosting or Komdigi)."""

    __tablename__ = "takedown_requests"
    __table_args__ = (Index("ix_takedown_requests_recipient", "recipient"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(32))
    #: "id" (Bahasa Indonesia) or "en"
    language: Mapped[str] = mapped_column(String(8))
    case_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("cases.id", ondelete="SET NULL"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(SafeText(), default="")
    drafted_by: Mapped[str] = mapped_column(SafeString())
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_by: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(SafeText(), default="")


class TakedownItem(Base):
    """One URL or account of a takedown request, with its status clock."""

    __tablename__ = "takedown_items"
    __table_args__ = (
        Index("ix_takedown_items_status", "status"),
        Index("ix_takedown_items_platform", "platform"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("takedown_requests.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), nullable=True, index=True)
    url: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    account: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    platform: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    #: "4h" (urgent) or "24h"
    priority: Mapped[str] = mapped_column(String(8))
    evidence_hashes: Mapped[list[str]] = mapped_column(JSONDoc)
    first_detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reappeared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)


class TakedownEvent(Base):
    """One status change or outcome check of a takedown item (append-only history)."""

    __tablename__ = "takedown_events"
    __table_args__ = (Index("ix_takedown_events_item_at", "item_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("takedown_items.id", ondelete="CASCADE"))
    #: status / check
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(SafeString())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


class Approval(Base):
    """A change waiting for (or decided by) a second person."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status", "status"),
                      Index("ix_approvals_kind_ref", "kind", "ref"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: review_dismissal / allowlist
    kind: Mapped[str] = mapped_column(String(32))
    #: what it is about, e.g. the review event id or "phone:+62812..."
    ref: Mapped[str] = mapped_column(SafeString())
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    requested_by: Mapped[str] = mapped_column(SafeString())
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: pending / approved / rejected
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(SafeText(), default="")


takedown_requests = TakedownRequest.__table__
takedown_items = TakedownItem.__table__
takedown_events = TakedownEvent.__table__
approvals = Approval.__table__
