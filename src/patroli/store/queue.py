"""Read side of the analyst console: the queue (filters, search, pages, counts), one
post with everything about it, and the dashboard's counts (issue 5, console).

SQLAlchemy Core, the same statements on SQLite and PostgreSQL (JSON arrays are unnested
per dialect: ``json_each`` / ``jsonb_array_elements``). Each post is shown with its
*latest* assessment (newest ``analyzed_at``, then highest id). The *item date* of a post
is ``posted_at`` when known, else ``first_seen_at``; date filters and the per-day counts
use it, with days in Asia/Jakarta (WIB, UTC+7, no daylight saving).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql import Select

from patroli.store.models import assessments, entities, posts
from patroli.store.models_labels import analyst_labels
from patroli.store.models_review import post_reviews
from patroli.store.models_web import audit_log

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "PAGE_SIZE",
    "PIVOT_KINDS",
    "QueueFilters",
    "QueuePage",
    "dashboard_counts",
    "filter_options",
    "like_pattern",
    "post_detail",
    "post_target",
    "queue_page",
]

#: Rows per queue page.
PAGE_SIZE = 50
#: Entity kinds the console links to a pivot (every post sharing the value).
PIVOT_KINDS: tuple[str, ...] = ("phone", "telegram", "url", "domain", "email", "bank_account",
                                "ewallet", "agency_name", "licence_number", "permit_number")
WIB = timezone(timedelta(hours=7), "WIB")
_EXCERPT = 280


def post_target(post_id: int) -> str:
    """The audit-log ``target`` naming a post: ``"post:<id>"``."""
    return f"post:{post_id}"


def like_pattern(text: str) -> str:
    """A SQL LIKE pattern matching ``text`` anywhere, with ``\\``, ``%`` and ``_``
    escaped by ``\\`` (use ``escape="\\\\"``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(slots=True)
class QueueFilters:
    """Queue filters; None or "" means "any". Equality filters except ``q``.

    level: high / medium / low; label: the model label (illegal / legitimate / awareness
    / other); platform; destination: ISO country code of a ``country`` entity; indicator:
    a finding's indicator id; source; date_from / date_to: item date (WIB days,
    inclusive); status: review status (open / confirmed / dismissed); assignee: username
    (``"-"``: unassigned); q: text searched in the post text (case-insensitive for ASCII,
    ``%`` and ``_`` taken literally).
    """

    level: str | None = None
    label: str | None = None
    platform: str | None = None
    destination: str | None = None
    indicator: str | None = None
    source: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    assignee: str | None = None
    q: str | None = None

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query-string parameters (dates ISO)."""
        out: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None or v == "":
                continue
            out[f.name] = v.isoformat() if isinstance(v, date) else str(v)
        return out


@dataclass(slots=True)
class QueuePage:
    """One page of the queue: items (dicts, see ``queue_page``), total matching items,
    page number (from 1), pages (at least 1), page_size."""

    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    page_size: int = PAGE_SIZE
    counts: dict[str, int] = field(default_factory=dict)


def _latest() -> Any:
    """Subquery: the latest assessment of every post (``rn == 1`` applied)."""
    a = assessments
    ranked = select(
        a.c.id, a.c.post_id, a.c.risk_score, a.c.level, a.c.label, a.c.findings,
        a.c.analyzed_at,
        func.row_number().over(partition_by=a.c.post_id,
                               order_by=(a.c.analyzed_at.desc(), a.c.id.desc())).label("rn"),
    ).subquery("ranked")
    return (select(ranked.c.id, ranked.c.post_id, ranked.c.risk_score, ranked.c.level,
                   ranked.c.label, ranked.c.findings, ranked.c.analyzed_at)
            .where(ranked.c.rn == 1).subquery("latest"))


def _item_date() -> Any:
    return func.coalesce(posts.c.posted_at, posts.c.first_seen_at)


def _wib_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=WIB).astimezone(UTC)


def _indicator_elements(dialect: str, findings_col: Any) -> tuple[Any, Any]:
    """(table-valued FROM of the findings array's elements, the element's indicator)."""
    if dialect == "postgresql":
        elems = func.jsonb_array_elements(findings_col).table_valued("value").alias("f")
        return elems, elems.c.value.op("->>")("indicator")
    elems = func.json_each(findings_col).table_valued("value").alias("f")
    return elems, func.json_extract(elems.c.value, "$.indicator")


def _status_col() -> Any:
    return func.coalesce(post_reviews.c.status, "open")


def _filtered(store: Store, f: QueueFilters, latest: Any) -> Select[Any]:
    """SELECT FROM posts JOIN latest LEFT JOIN post_reviews WHERE <filters> (no columns
    chosen yet beyond post id: callers add theirs with ``with_only_columns``)."""
    dialect = store.engine.dialect.name
    q = (select(posts.c.id)
         .select_from(posts.join(latest, latest.c.post_id == posts.c.id)
                      .outerjoin(post_reviews, post_reviews.c.post_id == posts.c.id)))
    if f.level:
        q = q.where(latest.c.level == f.level)
    if f.label:
        q = q.where(latest.c.label == f.label)
    if f.platform:
        q = q.where(posts.c.platform == f.platform)
    if f.source:
        q = q.where(posts.c.source == f.source)
    if f.status:
        if f.status == "open":
            q = q.where(or_(post_reviews.c.status.is_(None), post_reviews.c.status == "open"))
        else:
            q = q.where(post_reviews.c.status == f.status)
    if f.assignee:
        if f.assignee == "-":
            q = q.where(post_reviews.c.assignee.is_(None))
        else:
            q = q.where(post_reviews.c.assignee == f.assignee)
    if f.destination:
        q = q.where(exists().where(entities.c.assessment_id == latest.c.id,
                                   entities.c.kind == "country",
                                   entities.c.value == f.destination.strip().upper()))
    if f.indicator:
        elems, ind = _indicator_elements(dialect, latest.c.findings)
        q = q.where(exists(select(literal(1)).select_from(elems).where(ind == f.indicator)))
    if f.date_from:
        q = q.where(_item_date() >= _wib_start(f.date_from))
    if f.date_to:
        q = q.where(_item_date() < _wib_start(f.date_to + timedelta(days=1)))
    if f.q and f.q.strip():
        q = q.where(posts.c.text.ilike(like_pattern(f.q.strip()), escape="\\"))
    return q


def _excerpt(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= _EXCERPT else text[:_EXCERPT - 1] + "…"


def queue_page(store: Store, filters: QueueFilters | None = None, page: int = 1,
               page_size: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue: the matching posts, highest risk first (ties: newest post
    id first; a stable order, so pages never overlap).

    page: from 1 (values below 1 mean 1; past the last page gives no items).
    Each item: post_id, key, source, platform, url, author, posted_at, first_seen_at
    (UTC), excerpt (first 280 characters), assessment_id, risk_score, level, label,
    indicators (ids, in finding order), status, assignee, analyst_label (the latest
    analyst decision or None).
    """
    f = filters or QueueFilters()
    page = max(1, int(page))
    latest = _latest()
    base = _filtered(store, f, latest)
    count_q = select(func.count()).select_from(base.subquery())
    last_label = (select(analyst_labels.c.label)
                  .where(analyst_labels.c.post_id == posts.c.id)
                  .order_by(analyst_labels.c.decided_at.desc(), analyst_labels.c.id.desc())
                  .limit(1).correlate(posts).scalar_subquery())
    q = (base.with_only_columns(
        posts.c.id, posts.c.key, posts.c.source, posts.c.platform, posts.c.url,
        posts.c.author, posts.c.posted_at, posts.c.first_seen_at,
        func.substr(posts.c.text, 1, _EXCERPT + 1).label("text_head"),
        latest.c.id.label("assessment_id"), latest.c.risk_score, latest.c.level,
        latest.c.label, latest.c.findings, _status_col().label("status"),
        post_reviews.c.assignee, last_label.label("analyst_label"))
        .order_by(latest.c.risk_score.desc(), posts.c.id.desc())
        .limit(page_size).offset((page - 1) * page_size))
    with store.engine.connect() as conn:
        total = int(conn.scalar(count_q) or 0)
        items = [{
            "post_id": int(r.id), "key": r.key, "source": r.source, "platform": r.platform,
            "url": r.url, "author": r.author, "posted_at": r.posted_at,
            "first_seen_at": r.first_seen_at, "excerpt": _excerpt(r.text_head),
            "assessment_id": int(r.assessment_id), "risk_score": r.risk_score,
            "level": r.level, "label": r.label,
            "indicators": list(dict.fromkeys(
                str(x.get("indicator")) for x in (r.findings or []) if isinstance(x, dict))),
            "status": r.status, "assignee": r.assignee, "analyst_label": r.analyst_label,
        } for r in conn.execute(q)]
    pages = max(1, math.ceil(total / page_size))
    return QueuePage(items=items, total=total, page=page, pages=pages, page_size=page_size)


def filter_options(store: Store, limit: int = 200) -> dict[str, list[str]]:
    """Values offered in the queue's filter lists: platforms, sources, destinations
    (country codes found in latest assessments), indicators (ids found), assignees
    (usernames holding an assignment); each sorted, at most ``limit`` values."""
    latest = _latest()
    dialect = store.engine.dialect.name
    elems, ind = _indicator_elements(dialect, latest.c.findings)
    with store.engine.connect() as conn:
        platforms = [r[0] for r in conn.execute(
            select(posts.c.platform).where(posts.c.platform.is_not(None)).distinct()
            .order_by(posts.c.platform).limit(limit))]
        sources = [r[0] for r in conn.execute(
            select(posts.c.source).distinct().order_by(posts.c.source).limit(limit))]
        countries = [r[0] for r in conn.execute(
            select(entities.c.value).join(latest, latest.c.id == entities.c.assessment_id)
            .where(entities.c.kind == "country").distinct().order_by(entities.c.value)
            .limit(limit))]
        indicators = [r[0] for r in conn.execute(
            select(ind.label("ind")).select_from(latest).join(elems, true()).distinct()
            .order_by("ind").limit(limit)) if r[0]]
        assignees = [r[0] for r in conn.execute(
            select(post_reviews.c.assignee).where(post_reviews.c.assignee.is_not(None))
            .distinct().order_by(post_reviews.c.assignee).limit(limit))]
    return {"platforms": platforms, "sources": sources, "destinations": countries,
            "indicators": indicators, "assignees": assignees}


def post_detail(store: Store, post_id: int) -> dict[str, Any] | None:
    """Everything the post view shows, or None when no post has that id.

    Keys: post (id, key, source, platform, url, author, posted_at, first_seen_at,
    last_seen_at, text, language, location), assessment (the latest: id, risk_score,
    level, label, probabilities, findings, verification, signals, rule_set_version,
    model_version, analyzed_at; None when never assessed), entities (dicts of kind,
    value, span (start, end) or None, data), labels (analyst decisions, oldest first:
    label, decided_by, decided_at, note), audit (audit-log entries whose target is
    ``post_target(post_id)``, oldest first: id, at, actor, action, details).
    """
    with store.engine.connect() as conn:
        p = conn.execute(select(posts).where(posts.c.id == post_id)).first()
        if p is None:
            return None
        a = conn.execute(select(assessments).where(assessments.c.post_id == post_id)
                         .order_by(assessments.c.analyzed_at.desc(), assessments.c.id.desc())
                         .limit(1)).first()
        ents: list[dict[str, Any]] = []
        if a is not None:
            for e in conn.execute(select(entities).where(entities.c.assessment_id == a.id)
                                  .order_by(entities.c.span_start, entities.c.id)):
                span = ((e.span_start, e.span_end)
                        if e.span_start is not None and e.span_end is not None else None)
                ents.append({"kind": e.kind, "value": e.value, "span": span,
                             "data": e.data or {}})
        labels = [{"label": r.label, "decided_by": r.decided_by, "decided_at": r.decided_at,
                   "note": r.note or ""}
                  for r in conn.execute(select(analyst_labels)
                                        .where(analyst_labels.c.post_id == post_id)
                                        .order_by(analyst_labels.c.decided_at,
                                                  analyst_labels.c.id))]
        audit = [{"id": int(r.id), "at": r.at, "actor": r.actor, "action": r.action,
                  "details": r.details or {}}
                 for r in conn.execute(select(audit_log)
                                       .where(audit_log.c.target == post_target(post_id))
                                       .order_by(audit_log.c.id).limit(500))]
    post = {"id": int(p.id), "key": p.key, "source": p.source, "platform": p.platform,
            "url": p.url, "author": p.author, "posted_at": p.posted_at,
            "first_seen_at": p.first_seen_at, "last_seen_at": p.last_seen_at,
            "text": p.text or "", "language": p.language, "location": p.location}
    assessment = None
    if a is not None:
        assessment = {"id": int(a.id), "risk_score": a.risk_score, "level": a.level,
                      "label": a.label, "probabilities": a.probabilities or {},
                      "findings": a.findings or [], "verification": a.verification or {},
                      "signals": a.signals or {}, "rule_set_version": a.rule_set_version,
                      "model_version": a.model_version or None, "analyzed_at": a.analyzed_at}
    return {"post": post, "assessment": assessment, "entities": ents, "labels": labels,
            "audit": audit}


def _day_expr(dialect: str) -> Any:
    """The item date's WIB day as 'YYYY-MM-DD' text."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Jakarta", _item_date()), "YYYY-MM-DD")
    return func.date(_item_date(), "+7 hours")


def dashboard_counts(store: Store, *, days: int = 30, top: int = 12) -> dict[str, Any]:
    """Counts for the dashboard, over posts with an assessment (latest one each).

    days: length of the per-day series, ending on the newest item date (WIB), so an
    archive of old posts still shows its last month; top: at most this many bars per
    breakdown (largest first, ties by name).
    Returns: total (posts), per_day (list of (day 'YYYY-MM-DD', n) for every day of the
    window, zeros included), by_platform, by_destination, by_indicator, by_label,
    by_level, by_status (lists of (name, n); a missing platform is "unknown"),
    open / closed (review status open vs confirmed + dismissed).
    """
    dialect = store.engine.dialect.name
    latest = _latest()
    joined = (posts.join(latest, latest.c.post_id == posts.c.id)
              .outerjoin(post_reviews, post_reviews.c.post_id == posts.c.id))
    n = func.count().label("n")

    def grouped(col: Any, frm: Any = joined, *extra_where: Any) -> list[tuple[str, int]]:
        q = (select(col.label("k"), n).select_from(frm).where(*extra_where)
             .group_by(col).order_by(n.desc(), col).limit(top))
        return [(str(r.k) if r.k is not None else "unknown", int(r.n))
                for r in conn.execute(q)]

    with store.engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(joined)) or 0)
        day = _day_expr(dialect)
        per_day_raw = {str(r.k): int(r.n) for r in conn.execute(
            select(day.label("k"), n).select_from(joined).group_by(day))}
        by_platform = grouped(func.coalesce(posts.c.platform, "unknown"))
        dest_from = joined.join(entities, and_(entities.c.assessment_id == latest.c.id,
                                               entities.c.kind == "country"))
        dest_col = entities.c.value
        by_destination = [(k, v) for k, v in (
            (str(r.k), int(r.n)) for r in conn.execute(
                select(dest_col.label("k"), func.count(posts.c.id.distinct()).label("n"))
                .select_from(dest_from).group_by(dest_col)
                .order_by(func.count(posts.c.id.distinct()).desc(), dest_col).limit(top)))]
        elems, ind = _indicator_elements(dialect, latest.c.findings)
        ind_col = cast(ind, String)
        by_indicator = [(str(r.k), int(r.n)) for r in conn.execute(
            select(ind_col.label("k"), func.count(posts.c.id.distinct()).label("n"))
            .select_from(joined.join(elems, true())).group_by(ind_col)
            .order_by(func.count(posts.c.id.distinct()).desc(), ind_col).limit(top))
            if r.k]
        by_label = grouped(latest.c.label)
        by_level = grouped(latest.c.level)
        status = _status_col()
        by_status = grouped(status)
        closed = int(conn.scalar(select(func.count()).select_from(joined).where(
            case((post_reviews.c.status.in_(("confirmed", "dismissed")), 1), else_=0) == 1))
            or 0)
    per_day: list[tuple[str, int]] = []
    if per_day_raw:
        end = max(date.fromisoformat(k) for k in per_day_raw)
        for i in range(days - 1, -1, -1):
            d = (end - timedelta(days=i)).isoformat()
            per_day.append((d, per_day_raw.get(d, 0)))
    return {"total": total, "per_day": per_day, "by_platform": by_platform,
            "by_destination": by_destination, "by_indicator": by_indicator,
            "by_label": by_label, "by_level": by_level, "by_status": by_status,
            "open": total - closed, "closed": closed}
