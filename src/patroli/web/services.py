"""Services the portal, the console and the API share (one place, one behaviour).

- ``app_verifier(app)``: the registry / watchlist verifier built from the store, cached
  on ``app.state`` for ``VERIFIER_TTL`` seconds so registry imports and new watchlist
  entries reach the web within that time; None when no registry is available.
- ``contact_key(app)``: the key that encrypts reporters' contact data (see
  ``patroli.store.reports.contact_key``), loaded once per app.
- ``intake_report(app, ...)``: a public report (portal *Lapor* form or ``POST
  /api/v1/reports``) analysed like any post and stored: the post and its assessment in a
  scan run of its own (source ``portal-report``, key = the receipt code), then the report
  row with the contact encrypted. The caller writes the audit entry.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from patroli.analysis import analyze
from patroli.store import reports as reports_store
from patroli.types import Assessment, Post

#: Seconds a built verifier is reused before the store is read again.
VERIFIER_TTL = 300.0

_lock = threading.Lock()


def app_verifier(app: Any) -> Any:
    """The app's ``patroli.verify.Verifier`` (cached ``VERIFIER_TTL`` seconds) or None."""
    cached = getattr(app.state, "verifier_cache", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < VERIFIER_TTL:
        return cached[1]
    with _lock:
        cached = getattr(app.state, "verifier_cache", None)
        if cached is None or now - cached[0] >= VERIFIER_TTL:
            from patroli.verify.verifier import build_verifier

            cached = (now, build_verifier(app.state.store))
            app.state.verifier_cache = cached
    return cached[1]


def contact_key(app: Any) -> bytes:
    """The reporter-contact encryption key of this app's store (loaded once)."""
    key = getattr(app.state, "contact_key", None)
    if key is None:
        key = reports_store.contact_key(app.state.store)
        app.state.contact_key = key
    return key  # type: ignore[no-any-return]


def intake_report(app: Any, *, kind: str, content: str, description: str,
                  platform: str | None, contact: dict[str, str] | None,
                  screenshot: bytes | None = None, screenshot_mime: str | None = None,
                  via: str, location: str) -> tuple[dict[str, Any], Assessment]:
    """Analyse and store one public report; returns (the report row, the assessment).

    kind: url / account / phone / text; content: what is reported; description: the
    reporter's words (may be empty); platform: None or a platform name ("other" = None);
    contact: name/phone/email (stored encrypted, only when something is filled in);
    via: "portal" or "api"; location: where it came in (kept with the post).
    Raises ``ValueError`` for a report the store refuses (its message says why).
    """
    store = app.state.store
    code = reports_store.new_receipt_code()
    now = datetime.now(UTC)
    text = content + ("\n\n" + description if description.strip() else "")
    post = Post(key=code, text=text, source=reports_store.POST_SOURCE,
                platform=None if platform == "other" else platform,
                url=content if kind == "url" else None,
                author=content if kind == "account" else None, posted_at=now,
                raw={"via": via, "kind": kind}, location=location)
    assessment = analyze(post, verifier=app_verifier(app))
    has_contact = bool(contact) and any(v.strip() for v in contact.values())
    report = reports_store.create_report(
        store, kind=kind, content=content, description=description, platform=platform,
        contact=contact if has_contact else None,
        key=contact_key(app) if has_contact else None,
        screenshot=screenshot, screenshot_mime=screenshot_mime, receipt_code=code, now=now)
    run = store.start_run(reports_store.POST_SOURCE, {"via": via, "kind": kind})
    try:
        store.save_batch(run, [(post, assessment)])
    except BaseException:
        store.finish_run(run, status="failed", counts={"posts_read": 1, "errors": 1})
        raise
    store.finish_run(run, status="completed", counts={
        "posts_read": 1, "posts_new": 1, "by_level": {assessment.level: 1}})
    return report, assessment
