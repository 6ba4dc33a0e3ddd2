"""Review state of posts in the analyst queue: triage (confirm / dismiss / reopen),
assignment, and the history of both (issue 5, console).

A post without a ``post_reviews`` row is ``open`` and unassigned. Every change adds a
``review_events`` row in the same transaction as the change; a change that changes
nothing (same status, same assignee) adds nothing. The web layer writes the audit log.

Dismissing a HIGH-risk post (its latest assessment's level is "high") is allowed, but the
event carries ``details = {"high_risk": True, "second_approval": "pending"}``: the
second-person approval of such dismissals comes with a later issue, and these events are
the ones it will ask a second person to approve (``pending_second_approvals``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from patroli.store.models import assessments, posts
from patroli.store.models_review import post_reviews, review_events

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "REVIEW_STATUSES",
    "ReviewChange",
    "ReviewError",
    "assign",
    "get_review",
    "pending_second_approvals",
    "review_history",
    "set_status",
]

#: Review statuses; "open" is the state of a post nobody has reviewed yet.
REVIEW_STATUSES: tuple[str, ...] = ("open", "confirmed", "dismissed")
#: The largest number of posts one bulk action may touch.
MAX_BULK = 500
_CHUNK = 900


class ReviewError(ValueError):
    """Unknown status, empty actor, too many posts, or a post id that is not stored."""


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """What a bulk change did.

    changed: post ids whose state changed (an event was written for each);
    unchanged: post ids already in the asked state;
    high_risk_dismissed: the changed post ids that were HIGH risk and dismissed (each
        event carries ``second_approval: pending``).
    """

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    high_risk_dismissed: list[int] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_ids(post_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in post_ids))
    if len(ids) > MAX_BULK:
        raise ReviewError(f"at most {MAX_BULK} posts per action, not {len(ids)}")
    return ids


def _current(conn: Any, ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
    """{post id: (status, assignee)} for stored posts among ``ids`` (missing review row =
    open, unassigned). Raises ReviewError when an id is not a stored post."""
    out: dict[int, tuple[str, str | None]] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        q = (select(posts.c.id, post_reviews.c.status, post_reviews.c.assignee)
             .select_from(posts.outerjoin(post_reviews, post_reviews.c.post_id == posts.c.id))
             .where(posts.c.id.in_(chunk)))
        for r in conn.execute(q):
            out[int(r.id)] = (r.status or "open", r.assignee)
    missing = [i for i in ids if i not in out]
    if missing:
        raise ReviewError(f"no stored post with id {missing[0]}")
    return out


def _high_risk(conn: Any, ids: Sequence[int]) -> set[int]:
    """Post ids among ``ids`` whose latest assessment is level "high"."""
    ranked = (select(assessments.c.post_id, assessments.c.level,
                     func.row_number().over(
                         partition_by=assessments.c.post_id,
                         order_by=(assessments.c.analyzed_at.desc(),
                                   assessments.c.id.desc())).label("rn"))
              .where(assessments.c.post_id.in_(list(ids))).subquery())
    q = select(ranked.c.post_id).where(ranked.c.rn == 1, ranked.c.level == "high")
    return {int(r.post_id) for r in conn.execute(q)}


def _upsert(conn: Any, post_id: int, exists: bool, status: str, assignee: str | None,
            actor: str, at: datetime) -> None:
    values = {"status": status, "assignee": assignee, "updated_by": actor, "updated_at": at}
    if exists:
        conn.execute(update(post_reviews).where(post_reviews.c.post_id == post_id)
                     .values(**values))
    else:
        conn.execute(insert(post_reviews).values(post_id=post_id, **values))


def _existing(conn: Any, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for i in range(0, len(ids), _CHUNK):
        q = select(post_reviews.c.post_id).where(post_reviews.c.post_id.in_(ids[i:i + _CHUNK]))
        found.update(int(r.post_id) for r in conn.execute(q))
    return found


def _check_actor(actor: str) -> str:
    if not actor or not actor.strip():
        raise ReviewError("actor must name the user making the change")
    return actor.strip()


def set_status(store: Store, post_ids: Iterable[int], status: str, *, actor: str,
               note: str = "") -> ReviewChange:
    """Set the review status of posts (one transaction; all or nothing).

    post_ids: stored post ids (at most ``MAX_BULK``; duplicates ignored);
    status: one of ``REVIEW_STATUSES`` (``"open"`` reopens); actor: the username.
    Keeps each post's assignee. Raises ReviewError for an unknown status, an empty actor,
    too many ids or an id that is not a stored post (then nothing is changed).
    """
    if status not in REVIEW_STATUSES:
        raise ReviewError(f"unknown status {status!r}; use one of {', '.join(REVIEW_STATUSES)}")
    actor = _check_actor(actor)
    ids = _check_ids(post_ids)
    result = ReviewChange()
    if not ids:
        return result
    at = _now()
    with store._write() as conn:
        current = _current(conn, ids)
        exists = _existing(conn, ids)
        high = _high_risk(conn, ids) if status == "dismissed" else set()
        events = []
        for pid in ids:
            old, assignee = current[pid]
            if old == status:
                result.unchanged.append(pid)
                continue
            details: dict[str, Any] | None = None
            if pid in high:
                details = {"high_risk": True, "second_approval": "pending"}
                result.high_risk_dismissed.append(pid)
            _upsert(conn, pid, pid in exists, status, assignee, actor, at)
            events.append({"post_id": pid, "action": "status", "from_status": old,
                           "to_status": status, "assignee": assignee, "actor": actor,
                           "at": at, "note": note, "details": details})
            result.changed.append(pid)
        if events:
            conn.execute(insert(review_events), events)
    return result


def assign(store: Store, post_ids: Iterable[int], assignee: str | None, *, actor: str,
           note: str = "") -> ReviewChange:
    """Assign posts to a user (``assignee``: a username) or unassign them (None or "").

    Keeps each post's status. The web layer checks that the assignee is an active user.
    Raises ReviewError for an empty actor, too many ids or an unknown post id.
    """
    actor = _check_actor(actor)
    who = (assignee or "").strip() or None
    ids = _check_ids(post_ids)
    result = ReviewChange()
    if not ids:
        return result
    at = _now()
    with store._write() as conn:
        current = _current(conn, ids)
        exists = _existing(conn, ids)
        events = []
        for pid in ids:
            status, old = current[pid]
            if old == who:
                result.unchanged.append(pid)
                continue
            _upsert(conn, pid, pid in exists, status, who, actor, at)
            events.append({"post_id": pid, "action": "assign", "from_status": status,
                           "to_status": status, "assignee": who, "actor": actor, "at": at,
                           "note": note, "details": {"previous_assignee": old}})
            result.changed.append(pid)
        if events:
            conn.execute(insert(review_events), events)
    return result


def get_review(store: Store, post_id: int) -> dict[str, Any]:
    """The review state of a post: dict of status, assignee (or None), updated_by and
    updated_at (UTC; both None for a post nobody has reviewed)."""
    with store.engine.connect() as conn:
        r = conn.execute(select(post_reviews).where(post_reviews.c.post_id == post_id)).first()
    if r is None:
        return {"status": "open", "assignee": None, "updated_by": None, "updated_at": None}
    return {"status": r.status, "assignee": r.assignee, "updated_by": r.updated_by,
            "updated_at": r.updated_at}


def _event(r: Any) -> dict[str, Any]:
    return {"id": int(r.id), "post_id": int(r.post_id), "action": r.action,
            "from_status": r.from_status, "to_status": r.to_status, "assignee": r.assignee,
            "actor": r.actor, "at": r.at, "note": r.note or "", "details": r.details or {}}


def review_history(store: Store, post_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Review events of a post, oldest first: dicts of id, post_id, action, from_status,
    to_status, assignee, actor, at (UTC), note, details."""
    q = (select(review_events).where(review_events.c.post_id == post_id)
         .order_by(review_events.c.at, review_events.c.id).limit(limit))
    with store.engine.connect() as conn:
        return [_event(r) for r in conn.execute(q)]


def pending_second_approvals(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """Dismissals of HIGH-risk posts still waiting for a second person, newest first
    (event dicts as ``review_history``)."""
    q = (select(review_events)
         .where(review_events.c.action == "status", review_events.c.to_status == "dismissed")
         .order_by(review_events.c.id.desc()))
    out: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for r in conn.execute(q):
            if (r.details or {}).get("second_approval") == "pending":
                out.append(_event(r))
                if len(out) >= limit:
                    break
    return out
