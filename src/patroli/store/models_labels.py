"""Analyst labels: a person's decision on a post's label (issue 4, training from analysts).

One row per decision (never updated: a later decision adds a row, so the history stays);
the latest row per post is the post's current analyst label (``store.labels``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import Base, BigId, SafeString, SafeText, UTCDateTime


class AnalystLabel(Base):
    """One analyst decision: post, label (``types.LABELS``), who, when (UTC), a note."""

    __tablename__ = "analyst_labels"
    __table_args__ = (Index("ix_analyst_labels_post_decided", "post_id", "decided_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(32))
    decided_by: Mapped[str] = mapped_column(SafeString())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(SafeText(), default="")


analyst_labels = AnalystLabel.__table__
