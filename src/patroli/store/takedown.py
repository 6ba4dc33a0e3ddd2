"""Takedown requests and items in the store: create, read, status transitions with UTC
timestamps, four-eyes approval, outcome-check records (issue 6, part B).

Status of an item (``ITEM_STATUSES``) moves only along ``TRANSITIONS`` (data: from-status
-> allowed to-statuses); anything else raises ``TransitionError``. Each change writes a
``takedown_events`` row and an audit-log entry in the same transaction as the change.

Four-eyes: ``approve_request`` moves every ``drafted`` item of a request to ``approved``
only when the approver is an active stored user with a role in ``APPROVER_ROLES``
(``takedowns.approve`` in ``patroli/web/permissions.yaml``) and is not the drafter;
otherwise it raises ``FourEyesError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from patroli.store.audit import append_entry
from patroli.store.models import to_utc
from patroli.store.models_takedown import (
    takedown_events,
    takedown_items,
    takedown_requests,
)
from patroli.store.users import get_user

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "APPROVER_ROLES",
    "ITEM_STATUSES",
    "PRIORITIES",
    "TRANSITIONS",
    "FourEyesError",
    "ItemSpec",
    "TakedownError",
    "TakedownNotFoundError",
    "TransitionError",
    "approve_request",
    "check_approver",
    "create_request",
    "get_request",
    "item_events",
    "list_items",
    "list_requests",
    "mark_sent",
    "record_check",
    "same_person",
    "set_item_status",
]

#: Item statuses, in the order a request normally moves.
ITEM_STATUSES: tuple[str, ...] = (
    "drafted", "approved", "sent", "acknowledged", "removed", "refused", "reappeared")
#: Allowed status changes: from -> to. "refused" may be sent again (escalation) or be
#: removed later anyway; a removed item can only reappear; a reappeared item stays so
#: (a new request is drafted for the new content).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "drafted": ("approved",),
    "approved": ("sent",),
    "sent": ("acknowledged", "removed", "refused"),
    "acknowledged": ("removed", "refused"),
    "refused": ("sent", "removed"),
    "removed": ("reappeared",),
    "reappeared": (),
}
#: Priorities: "4h" urgent (trafficking, scam compound, minors), "24h" otherwise
#: (Permenkominfo 5/2020).
PRIORITIES: dict[str, int] = {"4h": 4, "24h": 24}
#: Roles that may approve a takedown request (``takedowns.approve`` in permissions.yaml).
APPROVER_ROLES: tuple[str, ...] = ("admin", "supervisor")


class TakedownError(ValueError):
    """Invalid takedown input (unknown status, priority, empty actor, no items...)."""


class TakedownNotFoundError(TakedownError, KeyError):
    """No takedown request or item has that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class TransitionError(TakedownError):
    """A status change that ``TRANSITIONS`` does not allow."""


class FourEyesError(PermissionError):
    """The approver is the drafter / requester, or lacks the approving role."""


@dataclass(slots=True)
class ItemSpec:
    """One item to put in a request.

    url / account: at least one (the URL of the post or page; the account handle or
    profile URL); platform: ``Post.platform`` value ("web" for a website);
    category: a category key of ``recipients.yaml``; priority: "4h" or "24h";
    evidence_hashes: SHA-256 hex digests of the stored evidence;
    first_detected_at: when patroli first saw it (UTC-aware; a post's first_seen_at).
    """

    platform: str
    category: str
    priority: str
    url: str | None = None
    account: str | None = None
    post_id: int | None = None
    evidence_hashes: list[str] = field(default_factory=list)
    first_detected_at: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def same_person(a: str | None, b: str | None) -> bool:
    """True when two usernames name the same person (case and spaces ignored; a
    ``"cli:"`` prefix ignored)."""
    def norm(x: str | None) -> str:
        s = (x or "").strip().lower()
        return s[4:] if s.startswith("cli:") else s
    return bool(norm(a)) and norm(a) == norm(b)


def _actor(actor: str) -> str:
    if not actor or not actor.strip():
        raise TakedownError("actor must name the user making the change")
    return actor.strip()


def check_approver(store: Store, approver: str, requester: str, what: str) -> str:
    """The approver's username when they may approve ``what`` drafted/requested by
    ``requester``; raises FourEyesError (same person, unknown or disabled user, role not
    in ``APPROVER_ROLES``)."""
    approver = _actor(approver)
    if same_person(approver, requester):
        raise FourEyesError(
            f"empat mata: penyusun tidak boleh menyetujui sendiri / four-eyes: {requester!r} "
            f"drafted {what} and cannot approve it")
    user = get_user(store, approver[4:] if approver.lower().startswith("cli:") else approver)
    if user is None or user.disabled:
        raise FourEyesError(f"approver {approver!r} is not an active user")
    if user.role not in APPROVER_ROLES:
        raise FourEyesError(
            f"peran {user.role!r} tidak boleh menyetujui / role {user.role!r} cannot approve "
            f"(needs one of {', '.join(APPROVER_ROLES)})")
    if same_person(user.username, requester):
        raise FourEyesError(f"four-eyes: {requester!r} cannot approve {what}")
    return user.username


def create_request(store: Store, recipient: str, items: Sequence[ItemSpec], *,
                   drafted_by: str, language: str = "id", case_id: int | None = None,
                   title: str = "", note: str = "", at: datetime | None = None) -> int:
    """Store a drafted request with its items (status ``drafted``); returns its id.

    Raises TakedownError when there are no items, an item has neither url nor account, or
    a priority is not in ``PRIORITIES``. Audited as ``takedown.draft``.
    """
    drafted_by = _actor(drafted_by)
    if not items:
        raise TakedownError("a takedown request needs at least one item")
    if language not in ("id", "en"):
        raise TakedownError(f"language must be 'id' or 'en', not {language!r}")
    when = to_utc(at) if at else _now()
    rows = []
    for it in items:
        if not (it.url or it.account):
            raise TakedownError("every item needs a url or an account")
        if it.priority not in PRIORITIES:
            raise TakedownError(f"priority must be one of {tuple(PRIORITIES)}, not "
                                f"{it.priority!r}")
        rows.append({
            "post_id": it.post_id, "url": it.url, "account": it.account,
            "platform": it.platform or "web", "category": it.category,
            "priority": it.priority, "evidence_hashes": list(dict.fromkeys(it.evidence_hashes)),
            "first_detected_at": it.first_detected_at, "status": "drafted", "drafted_at": when,
        })
    with store._write() as conn:
        rid = int(conn.execute(insert(takedown_requests).values(
            recipient=recipient, language=language, case_id=case_id, title=title,
            drafted_by=drafted_by, drafted_at=when, note=note)).inserted_primary_key[0])
        for r in rows:
            iid = int(conn.execute(insert(takedown_items).values(request_id=rid, **r))
                      .inserted_primary_key[0])
            conn.execute(insert(takedown_events).values(
                item_id=iid, action="status", from_status="", to_status="drafted",
                actor=drafted_by, at=when, details={}))
        append_entry(conn, drafted_by, "takedown.draft", f"takedown:{rid}",
                     {"recipient": recipient, "items": len(rows), "case_id": case_id})
    return rid


def _item_dict(r: Any) -> dict[str, Any]:
    return {c: getattr(r, c) for c in takedown_items.c.keys()} | {  # noqa: SIM118
        "evidence_hashes": list(r.evidence_hashes or [])}


def _request_dict(r: Any) -> dict[str, Any]:
    return {c: getattr(r, c) for c in takedown_requests.c.keys()}  # noqa: SIM118


def get_request(store: Store, request_id: int) -> dict[str, Any]:
    """The request as a dict (columns of ``takedown_requests``) with ``items`` (dicts of
    ``takedown_items`` columns, by id). Raises TakedownNotFoundError."""
    with store.engine.connect() as conn:
        r = conn.execute(select(takedown_requests)
                         .where(takedown_requests.c.id == request_id)).first()
        if r is None:
            raise TakedownNotFoundError(f"no takedown request with id {request_id}")
        items = [_item_dict(i) for i in conn.execute(
            select(takedown_items).where(takedown_items.c.request_id == request_id)
            .order_by(takedown_items.c.id))]
    return _request_dict(r) | {"items": items}


def list_requests(store: Store, *, recipient: str | None = None,
                  limit: int = 100) -> list[dict[str, Any]]:
    """Newest requests first (dicts as ``get_request`` without items, plus ``n_items``
    and ``statuses``: {status: count})."""
    q = select(takedown_requests).order_by(takedown_requests.c.id.desc()).limit(limit)
    if recipient is not None:
        q = q.where(takedown_requests.c.recipient == recipient)
    with store.engine.connect() as conn:
        out = [_request_dict(r) for r in conn.execute(q)]
        for d in out:
            counts: dict[str, int] = {}
            for s in conn.execute(select(takedown_items.c.status)
                                  .where(takedown_items.c.request_id == d["id"])).scalars():
                counts[s] = counts.get(s, 0) + 1
            d["n_items"] = sum(counts.values())
            d["statuses"] = counts
    return out


def list_items(store: Store, *, statuses: Iterable[str] | None = None,
               request_id: int | None = None, platform: str | None = None
               ) -> list[dict[str, Any]]:
    """Items (dicts of ``takedown_items`` columns plus ``recipient``), by id; optional
    filters on status, request and platform."""
    q = (select(takedown_items, takedown_requests.c.recipient)
         .join_from(takedown_items, takedown_requests,
                    takedown_requests.c.id == takedown_items.c.request_id)
         .order_by(takedown_items.c.id))
    if statuses is not None:
        q = q.where(takedown_items.c.status.in_(list(statuses)))
    if request_id is not None:
        q = q.where(takedown_items.c.request_id == request_id)
    if platform is not None:
        q = q.where(takedown_items.c.platform == platform)
    with store.engine.connect() as conn:
        return [_item_dict(r) | {"recipient": r.recipient} for r in conn.execute(q)]


def _transition(conn: Any, item: Any, to_status: str, actor: str, at: datetime,
                details: Mapping[str, Any] | None) -> None:
    if to_status not in ITEM_STATUSES:
        raise TakedownError(f"unknown status {to_status!r}; use one of "
                            f"{', '.join(ITEM_STATUSES)}")
    if to_status not in TRANSITIONS[item.status]:
        allowed = ", ".join(TRANSITIONS[item.status]) or "none"
        raise TransitionError(f"item {item.id}: {item.status} -> {to_status} is not allowed "
                              f"(allowed: {allowed})")
    conn.execute(update(takedown_items).where(takedown_items.c.id == item.id)
                 .values(status=to_status, **{f"{to_status}_at": at}))
    conn.execute(insert(takedown_events).values(
        item_id=item.id, action="status", from_status=item.status, to_status=to_status,
        actor=actor, at=at, details=dict(details or {})))


def _load_item(conn: Any, item_id: int) -> Any:
    r = conn.execute(select(takedown_items).where(takedown_items.c.id == item_id)).first()
    if r is None:
        raise TakedownNotFoundError(f"no takedown item with id {item_id}")
    return r


def set_item_status(store: Store, item_id: int, status: str, *, actor: str,
                    at: datetime | None = None, details: Mapping[str, Any] | None = None
                    ) -> dict[str, Any]:
    """Move one item to ``status`` (sets ``<status>_at`` to ``at``, default now UTC);
    returns the updated item. "approved" goes through ``approve_request`` (four-eyes).

    Raises TransitionError (not allowed from the current status), TakedownError (unknown
    status), TakedownNotFoundError. Audited as ``takedown.status``.
    """
    actor = _actor(actor)
    if status == "approved":
        raise TransitionError("approval is four-eyes: use approve_request")
    when = to_utc(at) if at else _now()
    with store._write() as conn:
        item = _load_item(conn, item_id)
        _transition(conn, item, status, actor, when, details)
        append_entry(conn, actor, "takedown.status", f"takedown_item:{item_id}",
                     {"from": item.status, "to": status, "request_id": item.request_id,
                      **dict(details or {})})
        return _item_dict(_load_item(conn, item_id))


def approve_request(store: Store, request_id: int, approver: str, *,
                    at: datetime | None = None) -> dict[str, Any]:
    """Four-eyes approval: every ``drafted`` item becomes ``approved``; returns the request.

    Raises FourEyesError (approver is the drafter, not an active user, or not in
    ``APPROVER_ROLES``), TransitionError (no drafted item), TakedownNotFoundError.
    Audited as ``takedown.approve``.
    """
    req = get_request(store, request_id)
    who = check_approver(store, approver, req["drafted_by"], f"takedown request {request_id}")
    when = to_utc(at) if at else _now()
    with store._write() as conn:
        items = list(conn.execute(select(takedown_items).where(
            takedown_items.c.request_id == request_id, takedown_items.c.status == "drafted")))
        if not items:
            raise TransitionError(f"request {request_id} has no drafted item to approve")
        for it in items:
            _transition(conn, it, "approved", who, when, {"request_id": request_id})
        conn.execute(update(takedown_requests).where(takedown_requests.c.id == request_id)
                     .values(approved_by=who, approved_at=when))
        append_entry(conn, who, "takedown.approve", f"takedown:{request_id}",
                     {"drafted_by": req["drafted_by"], "items": len(items)})
    return get_request(store, request_id)


def mark_sent(store: Store, request_id: int, *, actor: str,
              at: datetime | None = None) -> dict[str, Any]:
    """Record that the request went out: every ``approved`` (or ``refused``, re-sent) item
    becomes ``sent`` at ``at`` (default now, UTC); the SLA clock starts. Returns the
    request. Raises TransitionError when no item is approved. Audited ``takedown.send``."""
    actor = _actor(actor)
    when = to_utc(at) if at else _now()
    with store._write() as conn:
        req = conn.execute(select(takedown_requests)
                           .where(takedown_requests.c.id == request_id)).first()
        if req is None:
            raise TakedownNotFoundError(f"no takedown request with id {request_id}")
        items = list(conn.execute(select(takedown_items).where(
            takedown_items.c.request_id == request_id,
            takedown_items.c.status.in_(("approved", "refused")))))
        if not items:
            raise TransitionError(f"request {request_id} has no approved item to send "
                                  "(approve it first: four-eyes)")
        for it in items:
            _transition(conn, it, "sent", actor, when, {"request_id": request_id})
        conn.execute(update(takedown_requests).where(takedown_requests.c.id == request_id)
                     .values(sent_by=actor, sent_at=when))
        append_entry(conn, actor, "takedown.send", f"takedown:{request_id}",
                     {"items": len(items), "recipient": req.recipient})
    return get_request(store, request_id)


def record_check(store: Store, item_id: int, outcome: str, *, actor: str,
                 content_hash: str | None = None, details: Mapping[str, Any] | None = None,
                 new_status: str | None = None, at: datetime | None = None
                 ) -> dict[str, Any]:
    """Record one outcome check of an item (``takedown_events`` action "check"), and move
    it to ``new_status`` when given (in the same transaction). ``content_hash`` becomes
    the item's baseline when it has none. Returns the updated item."""
    actor = _actor(actor)
    when = to_utc(at) if at else _now()
    with store._write() as conn:
        item = _load_item(conn, item_id)
        values: dict[str, Any] = {"last_checked_at": when, "last_outcome": outcome}
        if content_hash and not item.content_hash:
            values["content_hash"] = content_hash
        conn.execute(insert(takedown_events).values(
            item_id=item_id, action="check", from_status=item.status,
            to_status=item.status, actor=actor, at=when,
            details={"outcome": outcome, "content_hash": content_hash, **dict(details or {})}))
        if new_status is not None and new_status != item.status:
            _transition(conn, item, new_status, actor, when,
                        {"outcome": outcome, **dict(details or {})})
        conn.execute(update(takedown_items).where(takedown_items.c.id == item_id)
                     .values(**values))
        append_entry(conn, actor, "takedown.check", f"takedown_item:{item_id}",
                     {"outcome": outcome, "status": new_status or item.status})
        return _item_dict(_load_item(conn, item_id))


def item_events(store: Store, item_id: int) -> list[dict[str, Any]]:
    """History of an item in the order recorded: dicts of id, action, from_status, to_status,
    actor, at (UTC), details."""
    q = (select(takedown_events).where(takedown_events.c.item_id == item_id)
         .order_by(takedown_events.c.id))
    with store.engine.connect() as conn:
        return [{"id": int(r.id), "action": r.action, "from_status": r.from_status,
                 "to_status": r.to_status, "actor": r.actor, "at": r.at,
                 "details": r.details or {}} for r in conn.execute(q)]
