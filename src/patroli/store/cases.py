"""Cases and evidence rows in the store (issue 6, part A).

A case groups posts, entity values and public reports; every change writes one
``case_events`` row (the case timeline) AND one audit-log entry (``store.audit``) in the
same transaction. Status changes follow ``patroli.cases.model.TRANSITIONS``; closing a
case that never had a takedown request needs a second person (``request_close`` by one
user, ``approve_close`` by a different one).

A case "had a takedown request" when its timeline holds a ``status`` event to
``takedown_requested`` or any event whose kind starts with ``takedown`` (the takedown
module logs its own events with ``append_case_event``).

Evidence rows and the chain of custody (``custody_events``, append-only) are written
here too; the files themselves are written by ``patroli.cases.evidence``.

Functions raise ``CaseNotFoundError`` for an unknown case id and ``CaseError`` for a bad
argument or transition; nothing is changed then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from patroli.cases.model import (
    CASE_PRIORITIES,
    CUSTODY_ACTIONS,
    EVIDENCE_KINDS,
    PIVOT_KINDS,
    CaseError,
    CaseEvent,
    CaseInfo,
    CaseItem,
    CaseNotFoundError,
    Comment,
    CustodyEvent,
    EvidenceItem,
    FourEyesError,
    check_transition,
)
from patroli.store.audit import append_entry
from patroli.store.models import assessments, posts
from patroli.store.models_cases import (
    case_comments,
    case_events,
    case_items,
    cases,
    custody_events,
    evidence,
)
from patroli.store.models_reports import reports
from patroli.store.values import normalize_value, query_values

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "MAX_PIVOT_POSTS",
    "add_comment",
    "add_custody",
    "add_entity",
    "add_evidence",
    "add_posts",
    "add_report",
    "append_case_event",
    "approve_close",
    "assign",
    "case_detail",
    "case_from_entity",
    "case_posts",
    "create_case",
    "custody_log",
    "get_case",
    "had_takedown",
    "list_cases",
    "list_evidence",
    "request_close",
    "set_status",
    "timeline",
]

#: At most this many posts are pulled into a case by one pivot.
MAX_PIVOT_POSTS = 1000
_CHUNK = 900


def _now() -> datetime:
    return datetime.now(UTC)


def _actor(actor: str) -> str:
    if not actor or not actor.strip():
        raise CaseError("actor must name the user making the change")
    return actor.strip()


def append_case_event(conn: Connection, case_id: int, actor: str, kind: str,
                      details: Mapping[str, Any] | None = None,
                      at: datetime | None = None) -> int:
    """Write one timeline event and its audit-log entry (action ``"case.<kind>"``,
    target ``"case:<id>"``) inside the caller's write transaction; returns the event id."""
    when = at or _now()
    d = dict(details or {})
    eid = conn.execute(insert(case_events).values(
        case_id=case_id, at=when, actor=actor, kind=kind, details=d or None)
        .returning(case_events.c.id)).scalar_one()
    append_entry(conn, actor, f"case.{kind}", f"case:{case_id}", d, at=when)
    return int(eid)


def _case_row(conn: Connection, case_id: int) -> Any:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise CaseNotFoundError(f"no case with id {case_id}")
    return row


def _info(r: Any) -> CaseInfo:
    return CaseInfo(id=int(r.id), title=r.title, priority=r.priority, status=r.status,
                    assignee=r.assignee, created_by=r.created_by, created_at=r.created_at,
                    updated_at=r.updated_at, close_requested_by=r.close_requested_by,
                    close_requested_at=r.close_requested_at, close_reason=r.close_reason)


def _touch(conn: Connection, case_id: int, at: datetime, **values: Any) -> None:
    conn.execute(update(cases).where(cases.c.id == case_id).values(updated_at=at, **values))


def _existing_post_ids(conn: Connection, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for i in range(0, len(ids), _CHUNK):
        q = select(posts.c.id).where(posts.c.id.in_(ids[i:i + _CHUNK]))
        found.update(int(r.id) for r in conn.execute(q))
    return found


def _add_posts(conn: Connection, case_id: int, post_ids: Iterable[int], actor: str,
               at: datetime) -> list[int]:
    ids = list(dict.fromkeys(int(p) for p in post_ids))
    if not ids:
        return []
    missing = [p for p in ids if p not in _existing_post_ids(conn, ids)]
    if missing:
        raise CaseError(f"no stored post with id {missing[0]}")
    have = {int(r.post_id) for r in conn.execute(
        select(case_items.c.post_id).where(case_items.c.case_id == case_id,
                                           case_items.c.item_kind == "post"))
        if r.post_id is not None}
    new = [p for p in ids if p not in have]
    if new:
        conn.execute(insert(case_items), [
            {"case_id": case_id, "item_kind": "post", "ref_kind": "", "ref": str(p),
             "post_id": p, "added_by": actor, "added_at": at} for p in new])
        append_case_event(conn, case_id, actor, "post.add", {"post_ids": new}, at)
    return new


def _check_kind(kind: str) -> str:
    if kind not in PIVOT_KINDS:
        raise CaseError(f"unknown entity kind {kind!r}; use one of {', '.join(PIVOT_KINDS)}")
    return kind


def _add_entity(conn: Connection, case_id: int, kind: str, value: str, actor: str,
                at: datetime) -> bool:
    v = normalize_value(_check_kind(kind), value) if kind != "account" else value.strip()
    if not v:
        raise CaseError("an entity needs a value")
    exists = conn.execute(select(case_items.c.id).where(
        case_items.c.case_id == case_id, case_items.c.item_kind == "entity",
        case_items.c.ref_kind == kind, case_items.c.ref == v)).first()
    if exists:
        return False
    conn.execute(insert(case_items).values(case_id=case_id, item_kind="entity",
                                           ref_kind=kind, ref=v, post_id=None,
                                           added_by=actor, added_at=at))
    append_case_event(conn, case_id, actor, "entity.add", {"kind": kind, "value": v}, at)
    return True


def create_case(store: Store, *, title: str, actor: str, post_ids: Iterable[int] = (),
                priority: str = "normal", assignee: str | None = None) -> int:
    """Open a new case (status ``open``) holding ``post_ids``; returns its id.

    Raises CaseError for an empty title or actor, an unknown priority
    (``CASE_PRIORITIES``) or a post id that is not stored (nothing is created then).
    """
    actor = _actor(actor)
    title = (title or "").strip()
    if not title:
        raise CaseError("a case needs a title")
    if priority not in CASE_PRIORITIES:
        raise CaseError(f"unknown priority {priority!r}; use one of {', '.join(CASE_PRIORITIES)}")
    who = (assignee or "").strip() or None
    at = _now()
    with store._write() as conn:
        cid = int(conn.execute(insert(cases).values(
            title=title, priority=priority, status="open", assignee=who, created_by=actor,
            created_at=at, updated_at=at).returning(cases.c.id)).scalar_one())
        append_case_event(conn, cid, actor, "created",
                          {"title": title, "priority": priority, "assignee": who}, at)
        _add_posts(conn, cid, post_ids, actor, at)
    return cid


def _pivot_post_ids(conn: Connection, kind: str, value: str, limit: int) -> list[int]:
    from patroli.store.models import entities

    if kind == "account":
        v = value.strip()
        q = (select(posts.c.id).where(or_(posts.c.author == v,
                                          func.lower(posts.c.author) == v.lower().lstrip("@"),
                                          func.lower(posts.c.author) == "@" + v.lower().lstrip("@")))
             .order_by(posts.c.id).limit(limit))
    else:
        q = (select(entities.c.post_id).where(entities.c.kind == kind,
                                              entities.c.value.in_(query_values(kind, value)))
             .distinct().order_by(entities.c.post_id).limit(limit))
    return [int(r[0]) for r in conn.execute(q)]


def case_from_entity(store: Store, kind: str, value: str, *, actor: str,
                     title: str | None = None, priority: str = "normal",
                     assignee: str | None = None, limit: int = MAX_PIVOT_POSTS) -> int:
    """Open a case from a pivot: every stored post sharing the entity value (``kind`` in
    ``PIVOT_KINDS``; ``"account"`` matches the post author handle), plus the value itself.

    value: as stored or as typed ("0812-0000-3185" finds "+6281200003185").
    Raises CaseError when no stored post holds the value. Returns the case id.
    """
    actor = _actor(actor)
    _check_kind(kind)
    with store.engine.connect() as conn:
        ids = _pivot_post_ids(conn, kind, value, limit)
    if not ids:
        raise CaseError(f"tidak ada pos dengan / no stored post with {kind} {value!r}")
    cid = create_case(store, title=title or f"{kind} {value.strip()}", actor=actor,
                      post_ids=ids, priority=priority, assignee=assignee)
    with store._write() as conn:
        _add_entity(conn, cid, kind, value, actor, _now())
    return cid


def add_posts(store: Store, case_id: int, post_ids: Iterable[int], *, actor: str) -> list[int]:
    """Add stored posts to a case; returns the ids newly added (already held ones are
    skipped). Raises CaseError for an unknown post id (nothing added then)."""
    actor = _actor(actor)
    at = _now()
    with store._write() as conn:
        _case_row(conn, case_id)
        new = _add_posts(conn, case_id, post_ids, actor, at)
        if new:
            _touch(conn, case_id, at)
    return new


def add_entity(store: Store, case_id: int, kind: str, value: str, *, actor: str) -> bool:
    """Add an entity value (normalised, e.g. a phone to E.164) to a case; False when the
    case already holds it."""
    actor = _actor(actor)
    at = _now()
    with store._write() as conn:
        _case_row(conn, case_id)
        added = _add_entity(conn, case_id, kind, value, actor, at)
        if added:
            _touch(conn, case_id, at)
    return added


def add_report(store: Store, case_id: int, receipt_code: str, *, actor: str) -> bool:
    """Add a public report (by receipt code, any case / dashes) and the post it became.
    False when the case already holds it; CaseError when no report has the code."""
    from patroli.store.reports import normalize_receipt_code

    actor = _actor(actor)
    code = normalize_receipt_code(receipt_code)
    at = _now()
    with store._write() as conn:
        _case_row(conn, case_id)
        rep = None if code is None else conn.execute(
            select(reports.c.post_source, reports.c.post_key)
            .where(reports.c.receipt_code == code)).first()
        if rep is None or code is None:
            raise CaseError(f"no public report with receipt code {receipt_code!r}")
        if conn.execute(select(case_items.c.id).where(
                case_items.c.case_id == case_id, case_items.c.item_kind == "report",
                case_items.c.ref == code)).first():
            return False
        pid = conn.execute(select(posts.c.id).where(
            posts.c.source == rep.post_source, posts.c.key == rep.post_key)).scalar()
        conn.execute(insert(case_items).values(
            case_id=case_id, item_kind="report", ref_kind="", ref=code,
            post_id=int(pid) if pid is not None else None, added_by=actor, added_at=at))
        append_case_event(conn, case_id, actor, "report.add", {"receipt_code": code}, at)
        if pid is not None:
            _add_posts(conn, case_id, [int(pid)], actor, at)
        _touch(conn, case_id, at)
    return True


def add_comment(store: Store, case_id: int, text: str, *, actor: str) -> int:
    """Add a comment; returns its id. CaseError for empty text."""
    actor = _actor(actor)
    body = (text or "").strip()
    if not body:
        raise CaseError("a comment needs text")
    at = _now()
    with store._write() as conn:
        _case_row(conn, case_id)
        cid = int(conn.execute(insert(case_comments).values(
            case_id=case_id, author=actor, at=at, text=body)
            .returning(case_comments.c.id)).scalar_one())
        append_case_event(conn, case_id, actor, "comment", {"comment_id": cid, "text": body}, at)
        _touch(conn, case_id, at)
    return cid


def had_takedown(conn: Connection, case_id: int) -> bool:
    """True when the case's timeline shows a takedown request (see module docstring)."""
    rows = conn.execute(select(case_events.c.kind, case_events.c.details)
                        .where(case_events.c.case_id == case_id))
    for r in rows:
        if r.kind.startswith("takedown"):
            return True
        if r.kind == "status" and (r.details or {}).get("to") == "takedown_requested":
            return True
    return False


def set_status(store: Store, case_id: int, status: str, *, actor: str, note: str = "") -> str:
    """Change the status (``TRANSITIONS``); returns the previous status.

    Raises CaseError for a transition the table does not allow, and FourEyesError for
    ``closed`` on a case without a takedown request (use ``request_close``).
    """
    actor = _actor(actor)
    at = _now()
    with store._write() as conn:
        row = _case_row(conn, case_id)
        old = row.status
        check_transition(old, status)
        if status == "closed" and not had_takedown(conn, case_id):
            raise FourEyesError(
                "menutup kasus tanpa permintaan takedown perlu orang kedua / closing a case "
                "without a takedown request needs a second person: use request_close, then "
                "approve_close by another user")
        values: dict[str, Any] = {"status": status}
        if status == "closed":
            values.update(close_requested_by=None, close_requested_at=None, close_reason=None)
        _touch(conn, case_id, at, **values)
        append_case_event(conn, case_id, actor, "status",
                          {"from": old, "to": status, "note": note}, at)
    return str(old)


def assign(store: Store, case_id: int, assignee: str | None, *, actor: str) -> None:
    """Assign the case to a user (a username) or unassign it (None or "")."""
    actor = _actor(actor)
    who = (assignee or "").strip() or None
    at = _now()
    with store._write() as conn:
        row = _case_row(conn, case_id)
        if row.assignee == who:
            return
        _touch(conn, case_id, at, assignee=who)
        append_case_event(conn, case_id, actor, "assign",
                          {"from": row.assignee, "to": who}, at)


def request_close(store: Store, case_id: int, *, actor: str, reason: str = "") -> str:
    """Ask to close a case. Returns ``"closed"`` when the case had a takedown request
    (closed at once), else ``"close_pending"``: the close waits for ``approve_close`` by
    a different user. CaseError when the status may not go to ``closed``."""
    actor = _actor(actor)
    at = _now()
    with store._write() as conn:
        row = _case_row(conn, case_id)
        check_transition(row.status, "closed")
        if had_takedown(conn, case_id):
            _touch(conn, case_id, at, status="closed", close_requested_by=None,
                   close_requested_at=None, close_reason=None)
            append_case_event(conn, case_id, actor, "status",
                              {"from": row.status, "to": "closed", "note": reason}, at)
            return "closed"
        _touch(conn, case_id, at, close_requested_by=actor, close_requested_at=at,
               close_reason=reason)
        append_case_event(conn, case_id, actor, "close.request", {"reason": reason}, at)
    return "close_pending"


def approve_close(store: Store, case_id: int, *, actor: str) -> None:
    """Approve a pending close: the case becomes ``closed``.

    Raises CaseError when no close is pending (or the status may no longer close), and
    FourEyesError when ``actor`` is the user who requested it (case-insensitive).
    """
    actor = _actor(actor)
    at = _now()
    with store._write() as conn:
        row = _case_row(conn, case_id)
        if not row.close_requested_by:
            raise CaseError(f"case {case_id} has no pending close request")
        if row.close_requested_by.strip().lower() == actor.lower():
            raise FourEyesError(
                "penutupan harus disetujui orang lain / the close must be approved by a "
                f"different user than its requester ({row.close_requested_by})")
        check_transition(row.status, "closed")
        _touch(conn, case_id, at, status="closed", close_requested_by=None,
               close_requested_at=None, close_reason=None)
        append_case_event(conn, case_id, actor, "close.approve",
                          {"requested_by": row.close_requested_by,
                           "reason": row.close_reason or ""}, at)
        append_case_event(conn, case_id, actor, "status",
                          {"from": row.status, "to": "closed",
                           "approved": True, "requested_by": row.close_requested_by}, at)


# -- reads --------------------------------------------------------------------------------


def get_case(store: Store, case_id: int) -> CaseInfo:
    """The case row; CaseNotFoundError when absent."""
    with store.engine.connect() as conn:
        return _info(_case_row(conn, case_id))


def _items(conn: Connection, case_id: int) -> list[CaseItem]:
    q = select(case_items).where(case_items.c.case_id == case_id).order_by(case_items.c.id)
    return [CaseItem(id=int(r.id), case_id=int(r.case_id), item_kind=r.item_kind,
                     ref_kind=r.ref_kind, ref=r.ref,
                     post_id=None if r.post_id is None else int(r.post_id),
                     added_by=r.added_by, added_at=r.added_at) for r in conn.execute(q)]


def case_posts(store: Store, case_id: int) -> list[dict[str, Any]]:
    """The posts of a case with their latest assessment: dicts of post_id, key, source,
    platform, url, author, posted_at, text, raw, risk_score, level, label, indicators
    (list of indicator ids); risk fields None for a post never assessed. Case order."""
    with store.engine.connect() as conn:
        _case_row(conn, case_id)
        return _case_posts(conn, case_id)


def _case_posts(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    ranked = (select(assessments.c.post_id, assessments.c.risk_score, assessments.c.level,
                     assessments.c.label, assessments.c.findings,
                     func.row_number().over(
                         partition_by=assessments.c.post_id,
                         order_by=(assessments.c.analyzed_at.desc(),
                                   assessments.c.id.desc())).label("rn"))
              .where(assessments.c.post_id.in_(
                  select(case_items.c.post_id).where(case_items.c.case_id == case_id,
                                                     case_items.c.item_kind == "post")))
              .subquery())
    q = (select(posts, ranked.c.risk_score, ranked.c.level, ranked.c.label,
                ranked.c.findings, case_items.c.id.label("item_id"))
         .select_from(case_items.join(posts, posts.c.id == case_items.c.post_id)
                      .outerjoin(ranked, and_(ranked.c.post_id == posts.c.id, ranked.c.rn == 1)))
         .where(case_items.c.case_id == case_id, case_items.c.item_kind == "post")
         .order_by(case_items.c.id))
    out = []
    for r in conn.execute(q):
        out.append({
            "post_id": int(r.id), "key": r.key, "source": r.source, "platform": r.platform,
            "url": r.url, "author": r.author, "posted_at": r.posted_at, "text": r.text,
            "raw": r.raw, "risk_score": r.risk_score, "level": r.level, "label": r.label,
            "indicators": [f.get("indicator") for f in (r.findings or [])
                           if isinstance(f, dict) and f.get("indicator")],
        })
    return out


def timeline(store: Store, case_id: int) -> list[CaseEvent]:
    """The case's events, oldest first."""
    with store.engine.connect() as conn:
        _case_row(conn, case_id)
        return _timeline(conn, case_id)


def _timeline(conn: Connection, case_id: int) -> list[CaseEvent]:
    q = (select(case_events).where(case_events.c.case_id == case_id)
         .order_by(case_events.c.at, case_events.c.id))
    return [CaseEvent(id=int(r.id), case_id=int(r.case_id), at=r.at, actor=r.actor,
                      kind=r.kind, details=r.details or {}) for r in conn.execute(q)]


def _evidence(r: Any) -> EvidenceItem:
    return EvidenceItem(
        id=int(r.id), case_id=int(r.case_id),
        post_id=None if r.post_id is None else int(r.post_id), kind=r.kind, url=r.url,
        sha256=r.sha256, size=int(r.size), path=r.path, captured_at=r.captured_at,
        captured_by=r.captured_by, tool_version=r.tool_version, http_status=r.http_status,
        final_url=r.final_url, text_sha256=r.text_sha256, text_size=r.text_size,
        text_path=r.text_path, details=r.details or {})


def list_evidence(store: Store, case_id: int) -> list[EvidenceItem]:
    """The case's evidence items, oldest first."""
    with store.engine.connect() as conn:
        _case_row(conn, case_id)
        q = select(evidence).where(evidence.c.case_id == case_id).order_by(evidence.c.id)
        return [_evidence(r) for r in conn.execute(q)]


def case_detail(store: Store, case_id: int) -> dict[str, Any]:
    """Everything about a case: {"case": CaseInfo, "items": [CaseItem], "posts": [dict as
    ``case_posts``], "comments": [Comment], "evidence": [EvidenceItem], "events":
    [CaseEvent], "had_takedown": bool}. CaseNotFoundError when absent."""
    with store.engine.connect() as conn:
        info = _info(_case_row(conn, case_id))
        comments = [Comment(id=int(r.id), case_id=int(r.case_id), author=r.author, at=r.at,
                            text=r.text) for r in conn.execute(
            select(case_comments).where(case_comments.c.case_id == case_id)
            .order_by(case_comments.c.at, case_comments.c.id))]
        ev = [_evidence(r) for r in conn.execute(
            select(evidence).where(evidence.c.case_id == case_id).order_by(evidence.c.id))]
        return {"case": info, "items": _items(conn, case_id),
                "posts": _case_posts(conn, case_id), "comments": comments, "evidence": ev,
                "events": _timeline(conn, case_id),
                "had_takedown": had_takedown(conn, case_id)}


def list_cases(store: Store, *, status: str | None = None, assignee: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """Cases, most recently updated first: ``CaseInfo.to_dict()`` keys (datetimes kept as
    UTC datetimes) plus n_posts and n_evidence."""
    n_posts = (select(func.count()).select_from(case_items)
               .where(case_items.c.case_id == cases.c.id, case_items.c.item_kind == "post")
               .scalar_subquery())
    n_ev = (select(func.count()).select_from(evidence)
            .where(evidence.c.case_id == cases.c.id).scalar_subquery())
    q = (select(cases, n_posts.label("n_posts"), n_ev.label("n_evidence"))
         .order_by(cases.c.updated_at.desc(), cases.c.id.desc()).limit(limit))
    if status is not None:
        q = q.where(cases.c.status == status)
    if assignee is not None:
        q = q.where(cases.c.assignee == assignee)
    out = []
    with store.engine.connect() as conn:
        for r in conn.execute(q):
            info = _info(r)
            d = {k: getattr(info, k) for k in info.__slots__}  # type: ignore[attr-defined]
            d.update(n_posts=int(r.n_posts), n_evidence=int(r.n_evidence))
            out.append(d)
    return out


# -- evidence and custody -------------------------------------------------------------------


def add_evidence(store: Store, case_id: int, *, kind: str, sha256: str, size: int, path: str,
                 actor: str, tool_version: str, captured_at: datetime,
                 url: str | None = None, post_id: int | None = None,
                 http_status: int | None = None, final_url: str | None = None,
                 text_sha256: str | None = None, text_size: int | None = None,
                 text_path: str | None = None,
                 details: Mapping[str, Any] | None = None) -> int:
    """Record one stored artifact, its ``captured`` custody event and a case event, in one
    transaction; returns the evidence id. sha256: 64 hex chars; size: bytes."""
    actor = _actor(actor)
    if kind not in EVIDENCE_KINDS:
        raise CaseError(f"unknown evidence kind {kind!r}")
    if len(sha256) != 64:
        raise CaseError("sha256 must be 64 hex characters")
    at = _now()
    with store._write() as conn:
        _case_row(conn, case_id)
        eid = int(conn.execute(insert(evidence).values(
            case_id=case_id, post_id=post_id, kind=kind, url=url, sha256=sha256, size=size,
            path=path, text_sha256=text_sha256, text_size=text_size, text_path=text_path,
            captured_at=captured_at, captured_by=actor, tool_version=tool_version,
            http_status=http_status, final_url=final_url, details=dict(details or {}) or None)
            .returning(evidence.c.id)).scalar_one())
        conn.execute(insert(custody_events).values(
            evidence_id=eid, at=at, actor=actor, action="captured",
            details={"sha256": sha256, "size": size, "url": url}))
        append_case_event(conn, case_id, actor, "evidence.add",
                          {"evidence_id": eid, "kind": kind, "url": url, "sha256": sha256}, at)
        _touch(conn, case_id, at)
    return eid


def add_custody(store: Store, evidence_ids: Iterable[int], action: str, *, actor: str,
                details: Mapping[str, Any] | None = None) -> None:
    """Append one custody event (``CUSTODY_ACTIONS``) per evidence id (one transaction)."""
    actor = _actor(actor)
    if action not in CUSTODY_ACTIONS:
        raise CaseError(f"unknown custody action {action!r}; use one of "
                        f"{', '.join(CUSTODY_ACTIONS)}")
    ids = list(dict.fromkeys(int(i) for i in evidence_ids))
    if not ids:
        return
    at = _now()
    with store._write() as conn:
        conn.execute(insert(custody_events), [
            {"evidence_id": i, "at": at, "actor": actor, "action": action,
             "details": dict(details or {}) or None} for i in ids])
        append_entry(conn, actor, f"evidence.{action}", ",".join(f"evidence:{i}" for i in ids),
                     dict(details or {}), at=at)


def custody_log(store: Store, *, case_id: int | None = None,
                evidence_id: int | None = None) -> list[CustodyEvent]:
    """Custody events of one evidence item or of all items of a case, oldest first."""
    q = select(custody_events).order_by(custody_events.c.at, custody_events.c.id)
    if evidence_id is not None:
        q = q.where(custody_events.c.evidence_id == evidence_id)
    if case_id is not None:
        q = q.where(custody_events.c.evidence_id.in_(
            select(evidence.c.id).where(evidence.c.case_id == case_id)))
    with store.engine.connect() as conn:
        return [CustodyEvent(id=int(r.id), evidence_id=int(r.evidence_id), at=r.at,
                             actor=r.actor, action=r.action, details=r.details or {})
                for r in conn.execute(q)]
