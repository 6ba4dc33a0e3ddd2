"""Review state of posts in the analyst queue (issue 5, console).

- ``post_reviews``: one row per post that an analyst touched: status (``open`` /
  ``confirmed`` / ``dismissed``), assignee (a username or NULL), who changed it last and
  when (UTC). A post without a row is ``open`` and unassigned.
- ``review_events``: the history, one row per change, never updated: action
  (``status`` / ``assign``), old and new status, assignee, actor, time, note and details
  (JSON; e.g. ``{"high_risk": true, "second_approval": "pending"}`` when a HIGH-risk item
  is dismissed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from patroli.store.models import (
    Base,
    BigId,
    JSONDoc,
    SafeString,
    SafeText,
    UTCDateTime,
    posts,
)


class PostReview(Base):
    """Current review state of one post (absent row = open, unassigned)."""

    __tablename__ = "post_reviews"
    __table_args__ = (
        Index("ix_post_reviews_status", "status"),
        Index("ix_post_reviews_assignee", "assignee"),
    )

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    #: open / confirmed / dismissed
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_by: Mapped[str] = mapped_column(SafeString())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewEvent(Base):
    """One change of a post's review state (append-only history)."""

    __tablename__ = "review_events"
    __table_args__ = (Index("ix_review_events_post_at", "post_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    #: status / assign
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(SafeString())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(SafeText(), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONDoc, nullable=True)


#: Queue filters and the dashboard's per-day and per-platform counts read these columns.
ix_posts_platform = Index("ix_posts_platform", posts.c.platform)
ix_posts_posted_at = Index("ix_posts_posted_at", posts.c.posted_at)

post_reviews = PostReview.__table__
review_events = ReviewEvent.__table__
