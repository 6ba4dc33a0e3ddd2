"""Analyst labels in the store: record a decision, read the latest decision per post.

``add_label(store, source, key, label, decided_by, note="")`` records one decision on the
stored post (source, key); ``labeled_posts(store)`` returns ``(text, label)`` of every post
with at least one decision, its latest decision winning (ties: the later row).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from patroli.store import Store, StoreError
from patroli.store.models import posts
from patroli.store.models_labels import analyst_labels
from patroli.types import LABELS

__all__ = ["LabelError", "add_label", "labeled_posts"]


class LabelError(StoreError, ValueError):
    """Unknown label, empty decider, or no stored post with that source and key."""


def add_label(store: Store, source: str, key: str, label: str, decided_by: str,
              note: str = "", *, decided_at: datetime | None = None) -> int:
    """Record an analyst's label for the stored post ``(source, key)``; returns the row id.

    label: one of ``types.LABELS``; decided_by: the analyst's user name (non-empty);
    decided_at: timezone-aware time (default now, stored UTC).
    Raises ``LabelError`` for an unknown label, an empty ``decided_by`` or a missing post.
    """
    if label not in LABELS:
        raise LabelError(f"unknown label {label!r}; use one of {', '.join(LABELS)}")
    if not decided_by.strip():
        raise LabelError("decided_by must name the analyst")
    with store._write() as conn:
        post_id = conn.execute(select(posts.c.id).where(
            posts.c.source == source, posts.c.key == key)).scalar()
        if post_id is None:
            raise LabelError(f"no stored post with source {source!r} and key {key!r}")
        res = conn.execute(insert(analyst_labels).values(
            post_id=post_id, label=label, decided_by=decided_by.strip(),
            decided_at=decided_at or datetime.now(UTC), note=note))
        return int(res.inserted_primary_key[0])


def labeled_posts(store: Store) -> list[tuple[str, str]]:
    """``(text, label)`` per labeled post, the latest decision per post, in post id order."""
    ranked = select(
        analyst_labels.c.post_id, analyst_labels.c.label,
        func.row_number().over(partition_by=analyst_labels.c.post_id,
                               order_by=(analyst_labels.c.decided_at.desc(),
                                         analyst_labels.c.id.desc())).label("rn"),
    ).subquery()
    q = (select(posts.c.text, ranked.c.label)
         .join(ranked, ranked.c.post_id == posts.c.id)
         .where(ranked.c.rn == 1).order_by(posts.c.id))
    with store.engine.connect() as conn:
        return [(r.text, r.label) for r in conn.execute(q)]
