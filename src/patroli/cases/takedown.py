"""Takedown requests: batching per recipient, rendering and export, outcome checks,
reappearance, and the insider safeguards (issue 6, part B).

Recipients, legal bases, categories and "content is gone" page patterns are data
(``patroli/data/takedown/recipients.yaml``); letters are Jinja2 templates
(``patroli/cases/templates/letter_<lang>.txt.j2``). Storage and the status machine are in
``patroli.store.takedown``.

Typical flow::

    ids = draft_requests(store, items_from_posts(store, [1, 2, 3]), drafted_by="ana")
    approve_request(store, ids[0], "sri")          # four-eyes: a supervisor, not "ana"
    mark_sent(store, ids[0], actor="sri")
    path = export_request(store, ids[0], out_dir)  # the file the recipient expects
    verify_request(store, ids[0], fetcher)         # removed / still up / changed
    detect_reappearance(store)                     # same phone or near-identical text
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import jinja2
import numpy as np
import yaml
from rapidfuzz import fuzz, process
from sqlalchemy import func, insert, select, update

from patroli.store.audit import append_entry
from patroli.store.models import assessments, entities, posts
from patroli.store.models_review import review_events
from patroli.store.models_takedown import approvals
from patroli.store.takedown import (
    PRIORITIES,
    FourEyesError,
    ItemSpec,
    TakedownError,
    TakedownNotFoundError,
    check_approver,
    create_request,
    get_request,
    item_events,
    list_items,
    record_check,
)

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "CHECKED_STATUSES",
    "DNS_CONFIRM_HOURS",
    "EXPORT_FORMATS",
    "FetchOutcome",
    "Fetcher",
    "approve",
    "check_outcome",
    "detect_reappearance",
    "draft_requests",
    "export_request",
    "host_can_vanish",
    "items_from_posts",
    "load_config",
    "pending_approvals",
    "recipient_for",
    "reject",
    "render_request",
    "request_allowlist",
    "request_allowlist_many",
    "request_items",
    "unusual_dismissals",
    "verify_request",
]

EXPORT_FORMATS: tuple[str, ...] = ("csv", "json", "text")
_EXT = {"csv": "csv", "json": "json", "text": "txt"}
_WIB = ZoneInfo("Asia/Jakarta")


# -- configuration ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load(path: str | None) -> dict[str, Any]:
    if path is None:
        text = (resources.files("patroli") / "data" / "takedown" / "recipients.yaml"
                ).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    for key in ("legal_basis", "categories", "recipients", "default_category",
                "default_recipient"):
        if key not in cfg:
            raise TakedownError(f"recipients.yaml: missing {key!r}")
    for name, cat in cfg["categories"].items():
        if cat.get("priority") not in PRIORITIES:
            raise TakedownError(f"recipients.yaml: category {name}: bad priority")
        for b in cat.get("legal_basis", []):
            if b not in cfg["legal_basis"]:
                raise TakedownError(f"recipients.yaml: category {name}: unknown basis {b}")
    for name, rec in cfg["recipients"].items():
        if not rec.get("formats") or set(rec["formats"]) - set(EXPORT_FORMATS):
            raise TakedownError(f"recipients.yaml: recipient {name}: bad formats")
    return cfg


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The recipients file as a dict (bundled one by default); raises TakedownError when a
    required key, a priority, a legal basis or an export format is wrong."""
    return _load(None if path is None else str(path))


def recipient_for(platform: str | None, cfg: Mapping[str, Any] | None = None) -> str:
    """The recipient key that handles ``platform`` (``default_recipient`` when none does)."""
    cfg = cfg or load_config()
    p = (platform or "").strip().lower()
    for key, rec in cfg["recipients"].items():
        if p and p in (rec.get("platforms") or []):
            return str(key)
    return str(cfg["default_recipient"])


def category_for(indicators: Iterable[str], cfg: Mapping[str, Any] | None = None) -> str:
    """The first category (file order) whose indicators meet ``indicators``, else the
    default category."""
    cfg = cfg or load_config()
    have = set(indicators)
    for key, cat in cfg["categories"].items():
        if have & set(cat.get("indicators") or []):
            return str(key)
    return str(cfg["default_category"])


# -- building and drafting ----------------------------------------------------------------


def _evidence_by_post(store: Store, post_ids: Sequence[int]) -> dict[int, list[str]]:
    """SHA-256 hashes of part A's evidence rows per post id (empty without that table)."""
    try:
        from patroli.store.models_cases import evidence
    except ImportError:  # pragma: no cover - part A not installed
        return {}
    out: dict[int, list[str]] = {}
    if not post_ids:
        return out
    with store.engine.connect() as conn:
        q = (select(evidence.c.post_id, evidence.c.sha256, evidence.c.text_sha256)
             .where(evidence.c.post_id.in_(list(post_ids))).order_by(evidence.c.id))
        for r in conn.execute(q):
            hashes = out.setdefault(int(r.post_id), [])
            hashes.extend(h for h in (r.sha256, r.text_sha256) if h and h not in hashes)
    return out


def items_from_posts(store: Store, post_ids: Iterable[int], *, category: str | None = None,
                     priority: str | None = None,
                     evidence: Mapping[int, Sequence[str]] | None = None,
                     cfg: Mapping[str, Any] | None = None) -> list[ItemSpec]:
    """Item specs for stored posts: url (else the author as account), platform,
    category (given, else from the latest assessment's findings via ``category_for``),
    priority (given, else the category's), evidence hashes (``evidence`` {post id:
    hashes} given, else part A's evidence rows of the post), first_detected_at (the post's
    first_seen_at). Raises TakedownNotFoundError for an unknown post id, TakedownError for
    an unknown category or priority."""
    cfg = cfg or load_config()
    ids = list(dict.fromkeys(int(i) for i in post_ids))
    if category is not None and category not in cfg["categories"]:
        raise TakedownError(f"unknown category {category!r}; use one of "
                            f"{', '.join(cfg['categories'])}")
    if priority is not None and priority not in PRIORITIES:
        raise TakedownError(f"priority must be one of {tuple(PRIORITIES)}")
    rows: dict[int, Any] = {}
    findings: dict[int, list[str]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(posts).where(posts.c.id.in_(ids))):
            rows[int(r.id)] = r
        ranked = (select(assessments.c.post_id, assessments.c.findings,
                         func.row_number().over(
                             partition_by=assessments.c.post_id,
                             order_by=(assessments.c.analyzed_at.desc(),
                                       assessments.c.id.desc())).label("rn"))
                  .where(assessments.c.post_id.in_(ids)).subquery())
        for r in conn.execute(select(ranked).where(ranked.c.rn == 1)):
            findings[int(r.post_id)] = [f.get("indicator", "") for f in (r.findings or [])]
    missing = [i for i in ids if i not in rows]
    if missing:
        raise TakedownNotFoundError(f"no stored post with id {missing[0]}")
    ev = dict(evidence) if evidence is not None else _evidence_by_post(store, ids)
    out = []
    for pid in ids:
        r = rows[pid]
        cat = category or category_for(findings.get(pid, []), cfg)
        out.append(ItemSpec(
            platform=(r.platform or "web").lower(), category=cat,
            priority=priority or cfg["categories"][cat]["priority"],
            url=r.url or None, account=None if r.url else (r.author or None), post_id=pid,
            evidence_hashes=list(ev.get(pid, [])), first_detected_at=r.first_seen_at))
    return out


def draft_requests(store: Store, items: Sequence[ItemSpec], *, drafted_by: str,
                   recipient: str | None = None, language: str = "id",
                   case_id: int | None = None, title: str = "",
                   cfg: Mapping[str, Any] | None = None) -> list[int]:
    """Batch ``items`` into one drafted request per recipient (``recipient_for`` of each
    item's platform, or every item to ``recipient`` when given, e.g. "komdigi"); returns
    the request ids in recipient order. Each category must exist in the config.
    With ``case_id``, the case's timeline gets a ``takedown_drafted`` event.
    Raises TakedownError (no items, unknown recipient or category)."""
    cfg = cfg or load_config()
    if not items:
        raise TakedownError("no items to request")
    if recipient is not None and recipient not in cfg["recipients"]:
        raise TakedownError(f"unknown recipient {recipient!r}; use one of "
                            f"{', '.join(cfg['recipients'])}")
    groups: dict[str, list[ItemSpec]] = {}
    for it in items:
        if it.category not in cfg["categories"]:
            raise TakedownError(f"unknown category {it.category!r}")
        groups.setdefault(recipient or recipient_for(it.platform, cfg), []).append(it)
    ids = []
    for rec in sorted(groups):
        rid = create_request(store, rec, groups[rec], drafted_by=drafted_by,
                             language=language, case_id=case_id, title=title)
        ids.append(rid)
    if case_id is not None:
        _case_event(store, case_id, drafted_by, "takedown_drafted", {"requests": ids})
    return ids


def _case_event(store: Store, case_id: int, actor: str, kind: str,
                details: dict[str, Any]) -> None:
    try:
        from patroli.store.cases import append_case_event
    except ImportError:  # pragma: no cover - part A not installed
        return
    with store._write() as conn:
        append_case_event(conn, case_id, actor, kind, details, datetime.now(UTC))


# -- rendering and export -----------------------------------------------------------------


def _target(it: Mapping[str, Any]) -> tuple[str, str]:
    if it.get("url"):
        kind = "site" if it.get("platform") == "web" else "content"
        return str(it["url"]), kind
    return str(it.get("account") or ""), "account"


def request_items(req: Mapping[str, Any], cfg: Mapping[str, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """Per-item export rows of a request (from ``get_request``). Keys:
    item_no, target (URL or account), target_kind (content / site / account), url, account,
    platform, category (title in the request's language), category_id, category_title_id,
    category_title_en, priority ("4h" / "24h"), priority_id / priority_en (words),
    deadline_hours (4 / 24), legal_basis (list of basis ids), legal_basis_text (texts in
    the request's language), evidence_sha256 (list), first_detected_at (ISO UTC or "")."""
    cfg = cfg or load_config()
    lang = req.get("language", "id")
    out = []
    for n, it in enumerate(req["items"], 1):
        cat = cfg["categories"].get(it["category"], {})
        basis = list(cat.get("legal_basis") or [])
        target, kind = _target(it)
        hours = PRIORITIES[it["priority"]]
        out.append({
            "item_no": n, "target": target, "target_kind": kind, "url": it.get("url") or "",
            "account": it.get("account") or "", "platform": it["platform"],
            "category": cat.get(lang, it["category"]), "category_id": it["category"],
            "category_title_id": cat.get("id", it["category"]),
            "category_title_en": cat.get("en", it["category"]),
            "priority": it["priority"], "deadline_hours": hours,
            "priority_id": f"{'mendesak' if hours == 4 else 'biasa'} ({hours} jam)",
            "priority_en": f"{'urgent' if hours == 4 else 'regular'} ({hours} hours)",
            "legal_basis": basis,
            "legal_basis_text": [cfg["legal_basis"][b][lang] for b in basis],
            "evidence_sha256": list(it.get("evidence_hashes") or []),
            "first_detected_at": it["first_detected_at"].isoformat()
            if it.get("first_detected_at") else "",
        })
    return out


def _cell(v: Any) -> str:
    s = " ".join(str(x) for x in v) if isinstance(v, list) else str(v)
    # spreadsheet formula guard
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("patroli.cases", "templates"), autoescape=False,
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render_request(store: Store, request_id: int, fmt: str | None = None, *,
                   language: str | None = None, now: datetime | None = None,
                   cfg: Mapping[str, Any] | None = None) -> str:
    """The request as the text of an export file.

    fmt: "csv" (header = the recipient's ``csv_columns``; lists joined by spaces), "json"
    (object with request metadata, legal basis texts and ``items``: the recipient's
    ``json_fields``) or "text" (the filled letter); default: the recipient's first format.
    language: "id" / "en" (default: the request's). Raises TakedownError for an unknown
    format, TakedownNotFoundError for an unknown request.
    """
    cfg = cfg or load_config()
    req = get_request(store, request_id)
    if language is not None:
        req["language"] = language
    rec = cfg["recipients"].get(req["recipient"])
    if rec is None:
        raise TakedownError(f"recipient {req['recipient']!r} is not in recipients.yaml")
    fmt = fmt or rec["formats"][0]
    if fmt not in EXPORT_FORMATS:
        raise TakedownError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    rows = request_items(req, cfg)
    when = now or datetime.now(UTC)
    bases = list(dict.fromkeys(b for r in rows for b in r["legal_basis"]))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(rec["csv_columns"])
        for r in rows:
            w.writerow([_cell(r[c]) for c in rec["csv_columns"]])
        return buf.getvalue()
    if fmt == "json":
        doc = {
            "reference": f"PATROLI-TD-{req['id']}", "recipient": req["recipient"],
            "language": req["language"], "generated_at": when.astimezone(UTC).isoformat(),
            "drafted_by": req["drafted_by"], "approved_by": req["approved_by"],
            "legal_basis": {b: cfg["legal_basis"][b][req["language"]] for b in bases},
            "items": [{f: r[f] for f in rec["json_fields"]} for r in rows],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    template = _ENV.get_template(f"letter_{req['language']}.txt.j2")
    return template.render(
        request=req, recipient=rec, items=rows,
        legal_basis=[cfg["legal_basis"][b] for b in bases],
        n_urgent=sum(r["deadline_hours"] == 4 for r in rows),
        n_normal=sum(r["deadline_hours"] == 24 for r in rows),
        generated_at_local=when.astimezone(_WIB).strftime("%Y-%m-%d %H:%M WIB"))


def export_request(store: Store, request_id: int, out_dir: str | Path, fmt: str | None = None,
                   *, actor: str = "", language: str | None = None) -> Path:
    """Write ``render_request`` to ``out_dir/takedown-<id>-<recipient>.<ext>`` (UTF-8);
    returns the path. Only an approved request (approved_by set) is exported: a draft
    raises FourEyesError. Audited as ``takedown.export`` when ``actor`` is given."""
    req = get_request(store, request_id)
    if not req["approved_by"]:
        raise FourEyesError(f"request {request_id} is not approved yet (four-eyes)")
    cfg = load_config()
    fmt = fmt or cfg["recipients"][req["recipient"]]["formats"][0]
    text = render_request(store, request_id, fmt, language=language, cfg=cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"takedown-{request_id}-{req['recipient']}.{_EXT[fmt]}"
    path.write_text(text, encoding="utf-8", newline="")
    if actor:
        with store._write() as conn:
            append_entry(conn, actor, "takedown.export", f"takedown:{request_id}",
                         {"format": fmt, "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return path


# -- outcome checks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What a re-fetch returned: HTTP status (None when the fetch failed), the page text
    (decoded body or extracted text), the final URL, and an error kind ("dns" when the
    host no longer resolves, "timeout", "blocked", ...) or None."""

    status: int | None
    text: str = ""
    final_url: str | None = None
    error: str | None = None


class Fetcher(Protocol):
    """Anything with ``fetch(url) -> result``; the result is a ``FetchOutcome`` or any
    object with ``status`` / ``status_code``, ``text`` / ``body`` / ``content``,
    ``final_url`` and ``error`` attributes (part A's safe fetcher, a test fake)."""

    def fetch(self, url: str) -> Any: ...


def _as_outcome(res: Any) -> FetchOutcome:
    if isinstance(res, FetchOutcome):
        return res
    status = getattr(res, "status", None)
    if status is None:
        status = getattr(res, "status_code", None)
    text: Any = getattr(res, "text", None)
    if text is None:
        text = getattr(res, "body", None) or getattr(res, "content", None) or ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return FetchOutcome(status=status, text=str(text or ""),
                        final_url=getattr(res, "final_url", None),
                        error=getattr(res, "error", None))


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " "})


def page_text(body: str) -> str:
    """Visible text of an HTML page (scripts, styles and tags removed, entities decoded),
    whitespace-collapsed and lower-cased, curly apostrophes folded: what patterns and
    content hashes see."""
    text = html.unescape(_TAGS.sub(" ", body)).translate(_APOS).lower()
    return " ".join(text.split())


def check_outcome(outcome: FetchOutcome, platform: str, baseline_hash: str | None,
                  cfg: Mapping[str, Any] | None = None) -> tuple[str, str | None]:
    """Classify one re-fetch: ``(outcome, content_hash)``.

    outcome: "removed" (HTTP 404 / 410 / 451, or a page that shows a gone pattern of the
    platform's recipient or the global list), "unresolved" (error "dns": DNS says the
    host does not exist, for a site of its own (``host_can_vanish``); ``verify_request``
    counts it as removed once confirmed), "error" (no answer: fetch failed otherwise, a
    platform's host not resolving (our resolver, not the platform, is wrong), or HTTP
    5xx / 429), "changed" (the content hash differs from ``baseline_hash``), else
    "still_up". content_hash: SHA-256 hex of ``page_text`` (None unless the page answered).
    """
    cfg = cfg or load_config()
    if outcome.error == "dns":
        return ("unresolved" if host_can_vanish(platform, cfg) else "error"), None
    if outcome.status in (404, 410, 451):
        return "removed", None
    if outcome.status is None or outcome.error or outcome.status >= 500 or \
            outcome.status == 429:
        return "error", None
    text = page_text(outcome.text)
    rec = cfg["recipients"].get(recipient_for(platform, cfg), {})
    patterns = [*(rec.get("gone_patterns") or []), *(cfg.get("gone_patterns") or [])]
    if any(p.translate(_APOS).lower() in text for p in patterns):
        return "removed", None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if baseline_hash and digest != baseline_hash:
        return "changed", digest
    return "still_up", digest


def host_can_vanish(platform: str | None, cfg: Mapping[str, Any] | None = None) -> bool:
    """Whether a failed DNS lookup can mean the item is gone: True for a site of its own
    (platform "web", unknown or missing: the recruiter's domain can lapse or be blocked),
    False for an item on a platform a recipient handles (facebook.com does not vanish)."""
    cfg = cfg or load_config()
    p = (platform or "").strip().lower()
    if not p or p == "web":
        return True
    return not any(p in (rec.get("platforms") or []) for rec in cfg["recipients"].values())


#: Hours a site's host must keep failing DNS ("unresolved" checks) before the item
#: counts as removed (the ``dns_confirm_hours`` key of the recipients file overrides it):
#: one failed lookup may be a resolver's or a registrar's hiccup.
DNS_CONFIRM_HOURS: float = 6.0


def _unresolved_since(store: Store, item_id: int) -> datetime | None:
    """When the item's current run of "unresolved" checks began (None: the last check
    was not unresolved)."""
    since = None
    for ev in reversed(item_events(store, item_id)):
        if ev["action"] != "check":
            continue
        if (ev["details"] or {}).get("outcome") != "unresolved":
            break
        since = ev["at"]
    return since


#: Item statuses an outcome check looks at, and the status each outcome moves them to.
_CHECK_MOVES: dict[str, dict[str, str]] = {
    "sent": {"removed": "removed"},
    "acknowledged": {"removed": "removed"},
    "refused": {"removed": "removed"},
    "removed": {"still_up": "reappeared", "changed": "reappeared"},
}
#: Item statuses whose URL an outcome check re-fetches.
CHECKED_STATUSES: frozenset[str] = frozenset(_CHECK_MOVES)


def verify_request(store: Store, request_id: int | None, fetcher: Fetcher, *,
                   actor: str = "patroli-verify", now: datetime | None = None
                   ) -> list[dict[str, Any]]:
    """Re-fetch the URLs of sent / acknowledged / refused / removed items (one request,
    or every request when ``request_id`` is None) and record each outcome.

    A live item that is gone becomes ``removed``; a removed URL that answers with content
    again becomes ``reappeared``. Items without a URL are skipped. Fetch errors are
    recorded as "error" and change nothing. A site whose host DNS says does not exist is
    "unresolved" (recorded, nothing changes) until it has been so for
    ``DNS_CONFIRM_HOURS`` (checks at least that far apart, none in between answering),
    then "removed". Returns dicts of item_id, url, outcome, status (after the check),
    http_status.
    """
    from patroli.cases.fetch import HostNotFoundError

    cfg = load_config()
    confirm = timedelta(hours=float(cfg.get("dns_confirm_hours", DNS_CONFIRM_HOURS)))
    when = now or datetime.now(UTC)
    items = list_items(store, statuses=_CHECK_MOVES, request_id=request_id)
    if request_id is not None and not items:
        get_request(store, request_id)  # raises TakedownNotFoundError when unknown
    out = []
    for it in items:
        if not it["url"]:
            continue
        try:
            res = _as_outcome(fetcher.fetch(it["url"]))
        except HostNotFoundError:  # DNS: no such host (not a resolver failure)
            res = FetchOutcome(status=None, error="dns")
        except Exception as exc:  # noqa: BLE001 - a refused/failed fetch is an outcome
            res = FetchOutcome(status=None, error=f"{type(exc).__name__}: {exc}"[:200])
        outcome, digest = check_outcome(res, it["platform"], it["content_hash"], cfg)
        details: dict[str, Any] = {"http_status": res.status, "error": res.error,
                                   "final_url": res.final_url}
        if outcome == "unresolved":
            since = _unresolved_since(store, it["id"])
            if since is not None and when - since >= confirm:
                outcome = "removed"
                details["unresolved_since"] = since.isoformat()
        new = _CHECK_MOVES[it["status"]].get(outcome)
        updated = record_check(store, it["id"], outcome, actor=actor, content_hash=digest,
                               new_status=new, at=when, details=details)
        if new == "reappeared":
            _reopen_case(store, it["request_id"], actor, {"item_id": it["id"],
                                                          "reason": "url_back"})
        out.append({"item_id": it["id"], "url": it["url"], "outcome": outcome,
                    "status": updated["status"], "http_status": res.status})
    return out


def _reopen_case(store: Store, request_id: int, actor: str, details: dict[str, Any]) -> None:
    case_id = get_request(store, request_id)["case_id"]
    if case_id is None:
        return
    try:
        from patroli.cases.model import CaseError
        from patroli.store.cases import set_status
    except ImportError:  # pragma: no cover - part A not installed
        return
    try:
        set_status(store, case_id, "reappeared", actor=actor, note=json.dumps(details))
    except CaseError:
        _case_event(store, case_id, actor, "takedown_reappeared", details)


def _norm_text(text: str) -> str:
    return " ".join((text or "").lower().split())


#: Removed items compared with the candidates at once (rows of one ``cdist`` matrix).
_REAPPEAR_ROWS = 64


def detect_reappearance(store: Store, *, threshold: float = 90.0, actor: str = "patroli",
                        since: datetime | None = None, max_candidates: int = 20000
                        ) -> list[dict[str, Any]]:
    """Mark removed items whose content came back on a later stored post as
    ``reappeared`` (and reopen their case).

    A post stored after the item's removal (``first_seen_at`` > ``removed_at``, and after
    ``since`` when given) matches when it carries a phone of the item's original post
    (phones on the active allowlist never count) or its text has a rapidfuzz ``ratio`` of
    at least ``threshold`` (0–100) with the original text (case and whitespace folded).
    At most ``max_candidates`` newest posts are compared: each candidate text is folded
    once and compared with the items' texts by ``rapidfuzz.process.cdist`` (C, 64 items
    at a time). A shared phone wins (the newest such post), else the best text match
    (the newest of equals). Returns dicts of item_id, post_id (the new post), reason
    ("phone" / "text"), score.
    """
    removed = [i for i in list_items(store, statuses=("removed",))
               if i["post_id"] is not None and i["removed_at"] is not None]
    if not removed:
        return []
    from patroli.store.models_registry import watchlist_entries as wl

    earliest = min(i["removed_at"] for i in removed)
    if since is not None:
        earliest = max(earliest, since)
    src_ids = list({i["post_id"] for i in removed})
    with store.engine.connect() as conn:
        allowed = set(conn.execute(select(wl.c.value).where(
            wl.c.list_name == "allow", wl.c.kind == "phone", wl.c.removed_at.is_(None))
        ).scalars())
        texts = {int(r.id): _norm_text(r.text) for r in conn.execute(
            select(posts.c.id, posts.c.text).where(posts.c.id.in_(src_ids)))}
        phones: dict[int, set[str]] = {}
        for r in conn.execute(select(entities.c.post_id, entities.c.value).where(
                entities.c.post_id.in_(src_ids), entities.c.kind == "phone")):
            if r.value not in allowed:
                phones.setdefault(int(r.post_id), set()).add(r.value)
        cands = list(conn.execute(
            select(posts.c.id, posts.c.text, posts.c.first_seen_at)
            .where(posts.c.first_seen_at > earliest)
            .order_by(posts.c.first_seen_at.desc()).limit(max_candidates)))
        cand_phones: dict[int, set[str]] = {}
        cand_ids = [int(c.id) for c in cands]
        for k in range(0, len(cand_ids), 900):
            for r in conn.execute(select(entities.c.post_id, entities.c.value).where(
                    entities.c.post_id.in_(cand_ids[k:k + 900]), entities.c.kind == "phone")):
                cand_phones.setdefault(int(r.post_id), set()).add(r.value)
    # newest first; texts folded once; phone -> candidate positions (ascending = newest)
    cand_ids_arr = np.asarray(cand_ids, dtype=np.int64)
    cand_seen = np.array([c.first_seen_at.timestamp() for c in cands], dtype=np.float64)
    cand_texts = [_norm_text(c.text) for c in cands]
    by_phone: dict[str, list[int]] = {}
    for k, cid in enumerate(cand_ids):
        for ph in cand_phones.get(cid, ()):
            by_phone.setdefault(ph, []).append(k)
    found = []
    for lo in range(0, len(removed), _REAPPEAR_ROWS):
        rows = removed[lo:lo + _REAPPEAR_ROWS]
        # text similarity of these items' posts with every candidate, in C (rapidfuzz)
        scores = process.cdist([texts.get(it["post_id"], "") for it in rows], cand_texts,
                               scorer=fuzz.ratio, score_cutoff=threshold, dtype=np.float64,
                               workers=1) if cand_texts else np.zeros((len(rows), 0))
        for it, row in zip(rows, scores, strict=True):
            pid = it["post_id"]
            cutoff = it["removed_at"] if since is None else max(it["removed_at"], since)
            eligible = (cand_seen > cutoff.timestamp()) & (cand_ids_arr != pid)
            best: tuple[str, float, int] | None = None
            hits = [k for ph in phones.get(pid, ()) for k in by_phone.get(ph, ()) if eligible[k]]
            if hits:
                best = ("phone", 100.0, cand_ids[min(hits)])
            else:
                row = np.where(eligible, row, 0.0)
                k = int(np.argmax(row)) if row.size else 0
                if row.size and row[k] >= threshold:
                    best = ("text", float(row[k]), cand_ids[k])
            if best is None:
                continue
            reason, score, cid = best
            record_check(store, it["id"], "reappeared", actor=actor, new_status="reappeared",
                         details={"post_id": cid, "reason": reason, "score": round(score, 1)})
            _reopen_case(store, it["request_id"], actor, {"item_id": it["id"],
                                                          "post_id": cid, "reason": reason})
            found.append({"item_id": it["id"], "post_id": cid, "reason": reason,
                          "score": round(score, 1)})
    return found


# -- insider safeguards -------------------------------------------------------------------

#: Kinds of changes that need a second person.
APPROVAL_KINDS: tuple[str, ...] = ("review_dismissal", "allowlist")


def request_allowlist(store: Store, kind: str, value: str, *, reason: str, requested_by: str,
                      source: str = "") -> int:
    """Ask to allow-list a contact (kind: a watchlist kind, e.g. "phone"); nothing is
    allow-listed until a second person ``approve``s. Returns the approval id. Raises
    WatchValueError (``patroli.store.registry``) for a value that does not normalise,
    TakedownError for an empty reason or requester. Audited ``approval.request``."""
    return request_allowlist_many(store, [(kind, value, reason, source)],
                                  requested_by=requested_by)[0]


def request_allowlist_many(store: Store, entries: Sequence[tuple[str, str, str, str]], *,
                           requested_by: str) -> list[int]:
    """``request_allowlist`` for many ``(kind, value, reason, source)`` entries in ONE
    transaction (a bulk ``patroli watchlist import --allow``): every entry, or none, gets
    its pending approval. Returns the approval ids in order. Raises as
    ``request_allowlist`` (nothing is stored then)."""
    from patroli.store.registry import normalize_watch_value

    if not requested_by.strip():
        raise TakedownError("allow-listing needs a reason and the requesting user")
    rows = []
    for kind, value, reason, source in entries:
        if not reason.strip():
            raise TakedownError(f"allow-listing needs a reason ({kind} {value})")
        rows.append((kind, normalize_watch_value(kind, value), reason.strip(),
                     (source or "").strip()))
    ids: list[int] = []
    with store._write() as conn:
        for kind, norm, reason, source in rows:
            aid = int(conn.execute(insert(approvals).values(
                kind="allowlist", ref=f"{kind}:{norm}",
                payload={"kind": kind, "value": norm, "reason": reason, "source": source},
                requested_by=requested_by.strip(), requested_at=datetime.now(UTC),
                status="pending", note="")).inserted_primary_key[0])
            append_entry(conn, requested_by.strip(), "approval.request", f"approval:{aid}",
                         {"kind": "allowlist", "ref": f"{kind}:{norm}"})
            ids.append(aid)
    return ids


def _sync_dismissals(conn: Any) -> None:
    """Create a pending approval for each HIGH-risk dismissal event of store/review.py
    that has none yet (ref = the review event id)."""
    have = set(conn.execute(select(approvals.c.ref)
                            .where(approvals.c.kind == "review_dismissal")).scalars())
    q = (select(review_events).where(review_events.c.action == "status",
                                     review_events.c.to_status == "dismissed")
         .order_by(review_events.c.id))
    for r in conn.execute(q):
        if (r.details or {}).get("second_approval") != "pending" or str(r.id) in have:
            continue
        conn.execute(insert(approvals).values(
            kind="review_dismissal", ref=str(r.id),
            payload={"post_id": int(r.post_id), "from_status": r.from_status,
                     "note": r.note or ""},
            requested_by=r.actor, requested_at=r.at, status="pending", note=""))


def _approval(r: Any) -> dict[str, Any]:
    return {"id": int(r.id), "kind": r.kind, "ref": r.ref, "payload": r.payload or {},
            "requested_by": r.requested_by, "requested_at": r.requested_at,
            "status": r.status, "decided_by": r.decided_by, "decided_at": r.decided_at,
            "note": r.note or ""}


def pending_approvals(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Changes waiting for a second person, oldest first: HIGH-risk dismissals (from the
    review events that carry ``second_approval: pending``) and allow-list requests.
    Dicts of id, kind, ref, payload, requested_by, requested_at (UTC), status, ..."""
    with store._write() as conn:
        _sync_dismissals(conn)
    q = select(approvals).where(approvals.c.status == "pending").order_by(approvals.c.id)
    if kind is not None:
        q = q.where(approvals.c.kind == kind)
    with store.engine.connect() as conn:
        return [_approval(r) for r in conn.execute(q)]


def _decide(store: Store, approval_id: int, approver: str, status: str, note: str
            ) -> dict[str, Any]:
    with store._write() as conn:
        _sync_dismissals(conn)
    with store.engine.connect() as conn:
        r = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
    if r is None:
        raise TakedownNotFoundError(f"no approval with id {approval_id}")
    if r.status != "pending":
        raise TakedownError(f"approval {approval_id} is already {r.status}")
    who = check_approver(store, approver, r.requested_by, f"{r.kind} {r.ref}")
    when = datetime.now(UTC)
    with store._write() as conn:
        res = conn.execute(update(approvals).where(
            approvals.c.id == approval_id, approvals.c.status == "pending").values(
            status=status, decided_by=who, decided_at=when, note=note))
        if res.rowcount != 1:
            raise TakedownError(f"approval {approval_id} was decided meanwhile")
        if status == "approved" and r.kind == "allowlist":
            from patroli.store.registry import _add_watch, _check_entry
            from patroli.verify.model import WatchEntry

            p = r.payload
            _add_watch(conn, _check_entry(WatchEntry(
                kind=p["kind"], value=p["value"], list_name="allow",
                reason=f"{p['reason']} (approved by {who})", source=p.get("source", ""),
                added_by=r.requested_by, added_at=when)))
        append_entry(conn, who, "approval.approve" if status == "approved" else "approval.reject",
                     f"approval:{approval_id}",
                     {"kind": r.kind, "ref": r.ref, "requested_by": r.requested_by,
                      "note": note})
    if status == "rejected" and r.kind == "review_dismissal":
        from patroli.store.review import set_status

        # A rejected dismissal puts the post back in the queue.
        set_status(store, [int(r.payload["post_id"])], "open", actor=who,
                   note=f"dismissal rejected (approval {approval_id})")
    with store.engine.connect() as conn:
        return _approval(conn.execute(select(approvals)
                                      .where(approvals.c.id == approval_id)).one())


def approve(store: Store, approval_id: int, approver: str, note: str = "") -> dict[str, Any]:
    """Second-person approval of a pending change; returns the approval dict.

    The approver must be another person than the requester and an active user with a
    role in ``APPROVER_ROLES`` (else FourEyesError). An approved allow-list request adds
    the entry to the allowlist in the same transaction. Raises TakedownNotFoundError,
    TakedownError (already decided). Audited ``approval.approve``.
    """
    return _decide(store, approval_id, approver, "approved", note)


def reject(store: Store, approval_id: int, approver: str, note: str = "") -> dict[str, Any]:
    """Second-person rejection (same checks as ``approve``); a rejected HIGH-risk dismissal
    reopens the post in the queue. Audited ``approval.reject``."""
    return _decide(store, approval_id, approver, "rejected", note)


def unusual_dismissals(store: Store, window_days: int = 7, threshold: int = 10, *,
                       peer_factor: float = 3.0, now: datetime | None = None
                       ) -> list[dict[str, Any]]:
    """Users whose HIGH-risk dismissals in the last ``window_days`` look unusual.

    Rule (documented, both parts): a user is flagged when their count of HIGH-risk
    dismissals in the window is more than ``threshold`` (rule "threshold"), or more than
    ``peer_factor`` times the median count of the *other* users who dismissed any post in
    the window, with at least 3 such dismissals (rule "peers"). Returns dicts of user,
    high_risk_dismissals, total_dismissals, peer_median, rules (list), most first.
    """
    end = now or datetime.now(UTC)
    start = end - timedelta(days=window_days)
    high: dict[str, int] = {}
    total: dict[str, int] = {}
    q = select(review_events.c.actor, review_events.c.details).where(
        review_events.c.action == "status", review_events.c.to_status == "dismissed",
        review_events.c.at > start, review_events.c.at <= end)
    with store.engine.connect() as conn:
        for r in conn.execute(q):
            total[r.actor] = total.get(r.actor, 0) + 1
            if (r.details or {}).get("high_risk"):
                high[r.actor] = high.get(r.actor, 0) + 1
    out = []
    for user in total:
        n = high.get(user, 0)
        peers = [high.get(u, 0) for u in total if u != user]
        median = float(statistics.median(peers)) if peers else 0.0
        rules = []
        if n > threshold:
            rules.append("threshold")
        if peers and n >= 3 and n > peer_factor * median:
            rules.append("peers")
        if rules:
            out.append({"user": user, "high_risk_dismissals": n,
                        "total_dismissals": total[user], "peer_median": median,
                        "rules": rules})
    return sorted(out, key=lambda d: (-d["high_risk_dismissals"], d["user"]))
