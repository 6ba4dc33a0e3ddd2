"""Tables of cases and evidence (issue 6, part A).

- ``cases``: one investigation: title, priority (high / normal / low), status
  (``patroli.cases.model.CASE_STATUSES``), assignee, who created it and when (UTC), and a
  pending four-eyes close (``close_requested_by`` / ``close_requested_at`` /
  ``close_reason``; all NULL when no close is pending).
- ``case_items``: what a case groups: ``item_kind`` post (``post_id`` set, ``ref`` = the
  post id as text), entity (``ref_kind`` = entity kind, ``ref`` = normalised value) or
  report (``ref`` = receipt code). Unique per (case, item_kind, ref_kind, ref).
- ``case_comments``: analysts' comments.
- ``case_events``: the case timeline (append-only): at (UTC), actor, kind, details JSON.
- ``evidence``: one stored artifact: kind ``warc`` (a captured URL) or ``source_record``
  (a post's stored text and raw record as JSON), its SHA-256 and size, the file name
  under the evidence directory (content-addressed), the extracted text's SHA-256 / size /
  file name, capture time (UTC), capturing user, tool version, HTTP status and final URL.
- ``custody_events``: chain of custody of an evidence item (append-only): captured /
  exported / verified / accessed, with actor, time and details.

``case_events`` and ``custody_events`` refuse UPDATE and DELETE (triggers of
migration 0007).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, JSONDoc, SafeString, SafeText, UTCDateTime


class Case(Base):
    """A case: a group of posts, entity values and reports under investigation."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(SafeText())
    #: high / normal / low
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(SafeString())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    close_requested_by: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    close_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(SafeText(), nullable=True)


class CaseItem(Base):
    """One post, entity value or public report grouped in a case."""

    __tablename__ = "case_items"
    __table_args__ = (
        UniqueConstraint("case_id", "item_kind", "ref_kind", "ref", name="uq_case_items_ref"),
        Index("ix_case_items_post", "post_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    #: post / entity / report
    item_kind: Mapped[str] = mapped_column(String(16))
    #: entity kind for item_kind "entity"; "" otherwise
    ref_kind: Mapped[str] = mapped_column(String(32), default="")
    ref: Mapped[str] = mapped_column(SafeString())
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), nullable=True)
    added_by: Mapped[str] = mapped_column(SafeString())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseComment(Base):
    """An analyst's comment on a case."""

    __tablename__ = "case_comments"
    __table_args__ = (Index("ix_case_comments_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(SafeString())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(SafeText())


class CaseEvent(Base):
    """One entry of a case's timeline (append-only)."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(SafeString())
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


class Evidence(Base):
    """One stored evidence artifact of a case (WARC capture or source record)."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"))
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), nullable=True)
    #: warc / source_record
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    #: file name under the evidence directory ("<sha256>.warc.gz" / "<sha256>.json")
    path: Mapped[str] = mapped_column(SafeString())
    text_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text_path: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    captured_by: Mapped[str] = mapped_column(SafeString())
    tool_version: Mapped[str] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    final_url: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


class CustodyEvent(Base):
    """One chain-of-custody entry of an evidence item (append-only)."""

    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_events_evidence", "evidence_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_id: Mapped[int] = mapped_column(BigId, ForeignKey("evidence.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(SafeString())
    #: captured / exported / verified / accessed
    action: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


cases = Case.__table__
case_items = CaseItem.__table__
case_comments = CaseComment.__table__
case_events = CaseEvent.__table__
evidence = Evidence.__table__
custody_events = CustodyEvent.__table__
