"""Public reports from the portal's *Lapor* form (issue 5).

One row per report. ``receipt_code`` is the reporter's unguessable handle to follow the
status (``/lapor/status/{code}``); ``contact_ciphertext`` is the reporter's optional
contact (name / phone / e-mail) as a Fernet token (``patroli.store.reports``), never
plain text; ``screenshot`` holds the re-encoded image bytes (metadata stripped), with
its MIME type and size. Each report is also stored as a ``posts`` row (source
``post_source`` = "portal-report", key ``post_key`` = the receipt code) with its
assessment, so it enters the analyst queue like any post.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, SafeString, SafeText, UTCDateTime


class Report(Base):
    """A citizen's report: what (kind, content, description, platform), the optional
    encrypted contact and screenshot, the status (``reports.REPORT_STATUSES``), when
    (UTC), and the stored post it became."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    #: url / account / phone / text
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(SafeText())
    description: Mapped[str] = mapped_column(SafeText(), default="")
    platform: Mapped[str | None] = mapped_column(SafeString(), nullable=True)
    #: Fernet token (ASCII) of the JSON contact dict, or None without contact
    contact_ciphertext: Mapped[str | None] = mapped_column(Text, nullable=True)
    screenshot: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    screenshot_mime: Mapped[str | None] = mapped_column(String(32), nullable=True)
    screenshot_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: received / in_review / actioned / closed
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    post_source: Mapped[str] = mapped_column(SafeString())
    post_key: Mapped[str] = mapped_column(SafeString())


reports = Report.__table__
