"""Database schema of the store: SQLAlchemy 2 typed ORM models.

The models define the tables; the Alembic migrations in ``migrations/versions`` create
them, and a test checks that both agree. Writes and reads in ``patroli.store`` use Core
statements on ``Model.__table__`` (no ORM session, so memory stays flat on big scans).

Column types that work on both SQLite and PostgreSQL:

- ``UTCDateTime``: timezone-aware datetimes, stored as UTC; SQLite drops the offset, so
  values read back are made UTC-aware again. A naive datetime is taken to be UTC.
- ``JSONDoc``: JSON (JSONB on PostgreSQL).
- ``SafeText`` / ``SafeString``: text with NUL and lone surrogate code points replaced by
  U+FFFD (PostgreSQL and UTF-8 reject them; the replacement keeps string lengths, so span
  offsets into ``posts.text`` stay valid).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Replace NUL and lone surrogates by U+FFFD (same length; spans stay valid)."""
    if _BAD_CHARS.search(value) is None:
        return value
    return _BAD_CHARS.sub("\ufffd", value)


def to_utc(value: datetime) -> datetime:
    """A UTC-aware copy of ``value``; a naive datetime is taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always binds UTC and reads back UTC-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = to_utc(value)
        # SQLite keeps no offset: store the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)


class SafeText(TypeDecorator[str]):
    """``Text`` that replaces NUL and lone surrogates (see ``clean_text``)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(value)


class SafeString(TypeDecorator[str]):
    """``String`` that replaces NUL and lone surrogates (see ``clean_text``)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else clean_text(value)


#: JSON on SQLite, JSONB on PostgreSQL.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
#: 64-bit ids on PostgreSQL; SQLite needs INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class ScanRun(Base):
    """One scan of a source: options, status, counts (``posts_read``, ``posts_new``...)."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(SafeString(), index=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    #: running / completed / failed / interrupted
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class ScanError(Base):
    """A bad record or failure met during a run, with where it happened."""

    __tablename__ = "scan_errors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("scan_runs.id", ondelete="CASCADE"), index=True
    )
    location: Mapped[str] = mapped_column(SafeText())
    message: Mapped[str] = mapped_column(SafeText())


class PostRow(Base):
    """A post as read from its source; one row per (source, key)."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("source", "key", name="uq_posts_source_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(SafeString())
    key: Mapped[str] = mapped_column(SafeString())
    record_id: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    platform: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    url: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    author: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    text: Mapped[str] = mapped_column(SafeText())
    language: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    raw: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    #: where in the source it was read last, e.g. "posts.jsonl:12"
    location: Mapped[str | None] = mapped_column(SafeText(), nullable=True)
    first_seen_run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("scan_runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssessmentRow(Base):
    """The analysis of a post by one rule-set version and model version.

    ``model_version`` is ``''`` when there is no model (NULL would break the unique key).
    ``registry_version`` is the registry (and watch/allow lists) it was verified against;
    a re-verification against a newer one replaces the row (same unique key).
    ``run_id`` is the scan run that last wrote this assessment.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint(
            "post_id", "rule_set_version", "model_version", name="uq_assessments_post_version"
        ),
        Index("ix_assessments_risk_score", "risk_score"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("scan_runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    risk_score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(32))
    probabilities: Mapped[dict[str, float]] = mapped_column(JSONDoc)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc)
    verification: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    signals: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)
    rule_set_version: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64), default="")
    #: ``Verifier.version`` the post was checked against ("" without a registry check)
    registry_version: Mapped[str] = mapped_column(String(128), default="", server_default="")
    analyzed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EntityRow(Base):
    """An entity extracted by one assessment (replaced when the post is re-analysed)."""

    __tablename__ = "entities"
    __table_args__ = (Index("ix_entities_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(SafeString())
    span_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    span_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


scan_runs = ScanRun.__table__
scan_errors = ScanError.__table__
posts = PostRow.__table__
assessments = AssessmentRow.__table__
entities = EntityRow.__table__
