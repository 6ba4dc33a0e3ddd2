"""The public portal (issue 5): landing page, *Cek Lowongan*, *Lapor*, report status.

No login; mobile-first pages in Bahasa Indonesia (English with ``?lang=en``); every POST
carries the CSRF token (``CSRFMiddleware``) and takes a token from the "public" rate
limiter (429 when empty); bodies above the app limit get 413 (``BodySizeLimitMiddleware``).

Routes:

- ``GET /``: landing page (links to the check, the report form, the status form, and
  the analysts' sign-in).
- ``GET /cek``, ``POST /cek`` (field ``q``, at most ``CHECK_MAX_CHARS`` characters, else
  413): the input is analysed (``patroli.analysis.analyze`` with the registry verifier)
  and shown as one of three checks, chosen by ``classify_input``:

  * an ad: the verdict (level badge and a sentence), each red flag's reason, the text
    with evidence highlighted, the registry summary, what to do next, a report button;
  * an agency name, licence or permit number: registered / lookalike / revoked /
    suspended / expired / not found, with the registry's official contacts and valid
    permits;
  * a phone number or link: watchlist / allowlist, and *how many* stored posts and
    reports hold it (counts only: the public never sees other posts).

  Nothing typed into the check is stored.
- ``GET /lapor``, ``POST /lapor``: the report form. A POST with ``prefill=1`` (the
  check page's report button) only fills the form. A real report is sanitised
  (``portal_images.sanitize_image``), its contact encrypted (``store.reports``), stored
  as a report row and as a post (source ``"portal-report"``, key = the receipt code,
  text = content + description) analysed like any post, in a scan run of its own (one
  run per report: a report is committed whole or not at all, and the run shows when and
  how it entered the queue); then 303 to its status page.
- ``GET /lapor/status`` (``?code=``) and ``GET /lapor/status/{code}``: status and dates
  only.

The verifier (registry snapshot + watch/allow lists) is built once and rebuilt after
``services.VERIFIER_TTL`` seconds, so registry imports and new watch entries show up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from patroli.analysis import analyze
from patroli.report.files import highlight
from patroli.store import Store
from patroli.store import reports as reports_store
from patroli.types import Assessment, Post, content_key
from patroli.verify.model import Agency
from patroli.verify.verifier import Verifier
from patroli.web import (
    audit,
    portal_i18n,  # noqa: F401  (registers the portal's messages)
    services,
)
from patroli.web.app import rate_limit, render
from patroli.web.i18n import translator
from patroli.web.portal_images import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_SIDE,
    ImageRejected,
    sanitize_image,
)

__all__ = [
    "CHECK_MAX_CHARS",
    "PLATFORMS",
    "CheckResult",
    "check_text",
    "classify_input",
    "portal_verifier",
    "router",
]

router = APIRouter(include_in_schema=False)

#: Largest text accepted by the check and as report content, in characters.
CHECK_MAX_CHARS = 10_000
#: Largest report description, in characters.
DESCRIPTION_MAX_CHARS = 2_000
#: Largest contact field, in characters.
CONTACT_MAX_CHARS = 200
#: Platforms offered on the report form (``Post.platform`` values).
PLATFORMS: tuple[str, ...] = ("facebook", "instagram", "tiktok", "whatsapp", "telegram",
                              "x", "web", "other")
_PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "tiktok": "TikTok",
                   "whatsapp": "WhatsApp", "telegram": "Telegram", "x": "X (Twitter)",
                   "web": "Web"}
_WIB = ZoneInfo("Asia/Jakarta")
_CONTACT_KINDS = ("phone", "telegram", "url", "domain", "email")
_AGENCY_KINDS = ("agency_name", "licence_number", "permit_number")
#: Words that may stand beside a bare number or link ("WA 0812...", "link: ...").
_CONTACT_LABELS = frozenset({"wa", "whatsapp", "hp", "tel", "telp", "telepon", "no", "nomor",
                             "nomer", "link", "tautan", "akun", "tg", "telegram", "email",
                             "e", "mail", "phone", "number", "contact", "kontak", "call"})
_EMAIL_RX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SEVERITY = {"danger": 4, "warn": 3, "unknown": 2, "info": 1, "ok": 0}


# -- verifier -------------------------------------------------------------------------------


def portal_verifier(app: Any) -> Verifier | None:
    """The app's verifier (``services.app_verifier``: the store's registry and watch
    lists, cached). None when no registry is available."""
    return services.app_verifier(app)  # type: ignore[no-any-return]


# -- the check ------------------------------------------------------------------------------


def _outside_alnum_words(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Words of ``text`` left when the characters inside ``spans`` are blanked."""
    chars = list(text)
    for s, e in spans:
        for i in range(max(0, s), min(len(chars), e)):
            chars[i] = " "
    return re.findall(r"[^\W_]+", "".join(chars).lower())


def classify_input(text: str, assessment: Assessment) -> str:
    """Which check fits the input: "contact" (only phone numbers / links / handles /
    e-mails, possibly with a label such as "WA"; or digits nothing recognised), "agency"
    (only company names, licence or permit numbers; or a few words without any red
    flag, taken as a company name) or "ad" (anything else, and every multi-line text).
    ``text`` is the analysed text (entity spans index into it)."""
    t = text.strip()
    words = t.split()
    if "\n" in t or len(words) > 12:
        return "ad"
    contact = [tuple(e.span) for e in assessment.entities if e.kind in _CONTACT_KINDS]
    agency = [tuple(e.span) for e in assessment.entities if e.kind in _AGENCY_KINDS]
    if contact and all(w in _CONTACT_LABELS
                       for w in _outside_alnum_words(t, contact)):  # type: ignore[arg-type]
        return "contact"
    if agency and not _outside_alnum_words(t, agency + contact):  # type: ignore[arg-type]
        return "agency"
    if not any(c.isalpha() for c in t):
        return "contact"
    if not assessment.findings and len(words) <= 8:
        return "agency"
    return "ad"


@dataclass(slots=True)
class CheckResult:
    """What the check page shows (all strings already in the page's language).

    mode: "ad" / "agency" / "contact"; badge: "danger" / "warn" / "ok" / "info" /
    "unknown"; message: the verdict sentence; score / level: the assessment's (ad mode);
    reasons: dicts of title, reason, evidence (list of quoted snippets); marked: the text
    as HTML with evidence in ``<mark>`` (escaped by ``highlight``); verification: the
    registry summary line or ""; agency: an agency view dict or None; contacts: dicts of
    kind, value, badge, message, notes (list of str); text: the checked text.
    """

    mode: str
    badge: str
    message: str
    text: str
    score: int | None = None
    level: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    marked: Any = None
    verification: str = ""
    agency: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)


def _agency_status_key(a: Agency, on: date) -> str:
    if a.status in ("suspended", "revoked"):
        return a.status
    if a.licence_valid_until is not None and a.licence_valid_until < on:
        return "expired"
    return "active" if a.status == "active" else a.status


def _agency_view(verifier: Verifier, a: Agency, on: date, t: Any) -> dict[str, Any]:
    key = _agency_status_key(a, on)
    status = (t(f"portal.agency.status.{key}")
              if key in ("active", "suspended", "revoked", "expired") else key)
    permits = [p for p in verifier.snapshot.permits if p.agency_id == a.agency_id
               and p.valid_on(on)]
    return {
        "name": a.name, "licence_number": a.licence_number or "—",
        "licence_valid_until": a.licence_valid_until.isoformat()
        if a.licence_valid_until else "—",
        "status": status, "good": a.in_good_standing(on),
        "address": ", ".join(x for x in (a.address, a.city, a.province) if x),
        "phones": list(a.phones), "websites": list(a.websites),
        "permits": [{"number": p.permit_number,
                     "destination": p.destination_name or p.destination,
                     "position": p.position or "", "valid_until":
                     p.valid_until.isoformat() if p.valid_until else "—"}
                    for p in sorted(permits, key=lambda p: p.permit_number)][:20],
    }


def _today() -> date:
    return datetime.now(_WIB).date()


def _agency_check(text: str, a: Assessment, verifier: Verifier | None, lang: str
                  ) -> CheckResult:
    t = translator(lang)
    written = " ".join(text.split())
    if verifier is None:
        return CheckResult("agency", "unknown", t("portal.agency.not_found", written=written),
                           text)
    on = _today()
    v = a.verification or {}
    status = v.get("status")
    agency: Agency | None = None
    lookalike: Agency | None = None
    if v.get("agency") and v["agency"].get("agency_id"):
        agency = verifier.index.by_id.get(v["agency"]["agency_id"])
    if status == "lookalike" and v.get("lookalike_of"):
        lookalike = verifier.index.by_id.get(v["lookalike_of"].get("agency_id", ""))
        written = v["lookalike_of"].get("written") or written
    if agency is None and lookalike is None and status in (None, "no_agency", "not_found"):
        for q in (written, "PT " + written):
            m = verifier.index.match_name(q)
            if m.kind == "exact" and m.agency is not None:
                agency = m.agency
                break
            if m.kind == "lookalike" and m.agency is not None and lookalike is None:
                lookalike = m.agency
    summary = str(v.get("summary_id" if lang == "id" else "summary_en") or "")
    if agency is not None:
        view = _agency_view(verifier, agency, on, t)
        if view["good"] and status != "permit_invalid":
            return CheckResult("agency", "ok", t("portal.agency.verified", name=agency.name),
                               text, agency=view)
        if view["good"]:  # a cited number does not check out
            return CheckResult("agency", "danger", summary, text, agency=view)
        return CheckResult("agency", "danger", t("portal.agency.bad_status", name=agency.name,
                                                 status=view["status"]), text, agency=view)
    if lookalike is not None:
        return CheckResult("agency", "danger",
                           t("portal.agency.lookalike", written=written, name=lookalike.name),
                           text, agency=_agency_view(verifier, lookalike, on, t))
    return CheckResult("agency", "warn", t("portal.agency.not_found", written=written), text)


def _why_official(why: str, agency: str | None, t: Any) -> str:
    if why == "official hotline":
        return t("portal.contact.why.hotline")
    if why == "official government domain":
        return t("portal.contact.why.gov")
    if why == "registered agency contact":
        return t("portal.contact.why.agency", agency=agency or "")
    return t("portal.contact.why.list")


def _overlaps(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and a[0] < b[1] and b[0] < a[1]


def _contact_check(text: str, a: Assessment, store: Store, lang: str) -> CheckResult:
    t = translator(lang)
    v = a.verification or {}
    urls = [e for e in a.entities if e.kind == "url"]
    items = []
    seen: set[tuple[str, str]] = set()
    for e in a.entities:
        if e.kind not in _CONTACT_KINDS or (e.kind, e.value) in seen:
            continue
        if e.kind == "domain" and any(_overlaps(e.span, u.span) for u in urls):
            continue
        seen.add((e.kind, e.value))
        value = e.value
        notes: list[str] = []
        watch = [h for h in v.get("watchlist") or ()
                 if h.get("value") == value or _overlaps(h.get("span"), e.span)]
        allowed = next((x for x in v.get("allowlisted") or ()
                        if x.get("kind") == e.kind and x.get("value") == value), None)
        owner = next((c.get("agency") for c in v.get("contacts") or ()
                      if c.get("value") == value), None)
        n_seen = reports_store.count_posts_with_entity(
            store, e.kind, value, exclude_source=reports_store.POST_SOURCE)
        n_reported = reports_store.count_posts_with_entity(
            store, e.kind, value, source=reports_store.POST_SOURCE)
        if watch:
            badge, message = "danger", t("portal.contact.watch", value=value)
        elif allowed is not None:
            badge = "ok"
            message = t("portal.contact.official", value=value,
                        why=_why_official(str(allowed.get("why") or ""), owner, t))
        elif n_seen or n_reported:
            badge, message = "warn", ""
        else:
            badge, message = "unknown", t("portal.contact.unknown", value=value)
        if n_seen:
            notes.append(t("portal.contact.seen", value=value, n=n_seen))
        if n_reported:
            notes.append(t("portal.contact.reported", value=value, n=n_reported))
        if any(f.indicator == "suspicious_shortlink" and any(_overlaps(s, e.span)
                                                              for s in f.spans)
               for f in a.findings):
            notes.append(t("portal.contact.shortlink"))
            if badge == "unknown":
                badge = "warn"
        if not message:
            message, notes = notes[0], notes[1:]
        items.append({"kind": e.kind, "value": value, "badge": badge, "message": message,
                      "notes": notes})
    if not items:
        return CheckResult("contact", "unknown", t("portal.contact.none"), text)
    worst = max(items, key=lambda i: _SEVERITY[i["badge"]])
    return CheckResult("contact", worst["badge"], worst["message"], text, contacts=items)


def _ad_check(text: str, a: Assessment, lang: str) -> CheckResult:
    t = translator(lang)
    if a.label == "awareness" and a.level != "high":
        badge, key = "info", "portal.ad.awareness"
    elif a.level == "high":
        badge, key = "danger", "portal.ad.high"
    elif a.level == "medium":
        badge, key = "warn", "portal.ad.medium"
    else:
        badge, key = "ok", "portal.ad.low"
    reasons = []
    marks: list[tuple[int, int, str]] = []
    for f in a.findings:
        title = (f.title_id if lang == "id" else f.title_en) or f.indicator
        reason = (f.explanation_id if lang == "id" else f.explanation_en) or ""
        spans = [(int(s), int(e)) for s, e in f.spans if 0 <= s < e <= len(text)]
        marks.extend((s, e, title) for s, e in spans)
        reasons.append({"title": title, "reason": reason,
                        "evidence": [text[s:e] for s, e in spans[:3]]})
    v = a.verification or {}
    summary = ""
    if v and v.get("status") != "no_agency":
        summary = str(v.get("summary_id" if lang == "id" else "summary_en") or "")
    return CheckResult("ad", badge, t(key), text, score=a.risk_score, level=a.level,
                       reasons=reasons, marked=highlight(text, marks), verification=summary)


def check_text(text: str, *, store: Store, verifier: Verifier | None,
               lang: str = "id") -> CheckResult:
    """Analyse ``text`` (stripped; at most ``CHECK_MAX_CHARS`` characters, else
    ValueError) with ``verifier`` and describe it for the public in ``lang``. Reads only
    counts from ``store``; stores nothing."""
    text = text.strip()
    if len(text) > CHECK_MAX_CHARS:
        raise ValueError(f"text longer than {CHECK_MAX_CHARS} characters")
    post = Post(key=content_key(text, "portal-check"), text=text, source="portal-check")
    a = analyze(post, verifier=verifier)
    mode = classify_input(text, a)
    if mode == "contact":
        return _contact_check(text, a, store, lang)
    if mode == "agency":
        return _agency_check(text, a, verifier, lang)
    return _ad_check(text, a, lang)


def _lang_of(request: Request) -> str:
    from patroli.web.app import _lang

    return _lang(request)[0]


# -- routes: landing and check ----------------------------------------------------------------


@router.get("/cek", response_class=HTMLResponse)
def check_form(request: Request) -> HTMLResponse:
    return render(request, "portal/check.html", {"q": "", "error": None, "result": None,
                                                 "limit": CHECK_MAX_CHARS})


@router.post("/cek", response_class=HTMLResponse,
             dependencies=[Depends(rate_limit("public"))])
def check(request: Request, q: Annotated[str, Form()] = "") -> HTMLResponse:
    lang = _lang_of(request)
    t = translator(lang)
    ctx: dict[str, Any] = {"q": q, "error": None, "result": None, "limit": CHECK_MAX_CHARS}
    if len(q) > CHECK_MAX_CHARS:
        ctx.update(q=q[:CHECK_MAX_CHARS],
                   error=t("portal.check.too_long", limit=f"{CHECK_MAX_CHARS:,}".replace(
                       ",", ".")))
        return render(request, "portal/check.html", ctx, status_code=413)
    if not q.strip():
        ctx["error"] = t("portal.check.empty")
        return render(request, "portal/check.html", ctx, status_code=422)
    store: Store = request.app.state.store
    ctx["result"] = check_text(q, store=store, verifier=portal_verifier(request.app),
                               lang=lang)
    return render(request, "portal/check.html", ctx)


# -- routes: report ---------------------------------------------------------------------------


def _report_ctx(values: dict[str, str] | None = None, errors: list[str] | None = None
                ) -> dict[str, Any]:
    vals = {"kind": "", "content": "", "description": "", "platform": "",
            "contact_name": "", "contact_phone": "", "contact_email": ""}
    vals.update({k: v for k, v in (values or {}).items() if k in vals})
    return {"v": vals, "errors": errors or [], "platforms": PLATFORMS,
            "platform_names": _PLATFORM_NAMES, "kinds": reports_store.REPORT_KINDS,
            "limit": CHECK_MAX_CHARS, "desc_limit": DESCRIPTION_MAX_CHARS,
            "px": MAX_IMAGE_SIDE}


@router.get("/lapor", response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    return render(request, "portal/report.html", _report_ctx())


@router.post("/lapor", response_class=HTMLResponse,
             dependencies=[Depends(rate_limit("public"))])
def report_submit(
    request: Request,
    kind: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    platform: Annotated[str, Form()] = "",
    contact_name: Annotated[str, Form()] = "",
    contact_phone: Annotated[str, Form()] = "",
    contact_email: Annotated[str, Form()] = "",
    prefill: Annotated[str, Form()] = "",
    screenshot: Annotated[UploadFile | None, File()] = None,
) -> Any:
    lang = _lang_of(request)
    t = translator(lang)
    values = {"kind": kind, "content": content, "description": description,
              "platform": platform, "contact_name": contact_name,
              "contact_phone": contact_phone, "contact_email": contact_email}
    if prefill:
        values["kind"] = kind if kind in reports_store.REPORT_KINDS else "text"
        values["content"] = content[:CHECK_MAX_CHARS]
        return render(request, "portal/report.html", _report_ctx(values))
    errors: list[str] = []
    content = content.strip()
    description = description.strip()
    if kind not in reports_store.REPORT_KINDS:
        errors.append(t("portal.report.err.kind"))
    if not content:
        errors.append(t("portal.report.err.content"))
    for name, val, limit in (("portal.report.content", content, CHECK_MAX_CHARS),
                             ("portal.report.description", description,
                              DESCRIPTION_MAX_CHARS),
                             ("portal.report.contact_name", contact_name, CONTACT_MAX_CHARS),
                             ("portal.report.contact_phone", contact_phone, CONTACT_MAX_CHARS),
                             ("portal.report.contact_email", contact_email, CONTACT_MAX_CHARS)):
        if len(val) > limit:
            errors.append(t("portal.report.err.too_long", field=t(name).rstrip(" *"),
                            limit=limit))
    if contact_email.strip() and not _EMAIL_RX.match(contact_email.strip()):
        errors.append(t("portal.report.err.email"))
    if platform and platform not in PLATFORMS:
        platform = "other"
    image = None
    if screenshot is not None and screenshot.filename:
        data = screenshot.file.read(MAX_IMAGE_BYTES + 1)  # +1: oversize is recognised
        if data:
            try:
                image = sanitize_image(data)
            except ImageRejected as exc:
                errors.append(t(f"portal.report.err.image_{exc.reason}", px=MAX_IMAGE_SIDE))
    if errors:
        values["content"] = values["content"][:CHECK_MAX_CHARS]
        values["description"] = values["description"][:DESCRIPTION_MAX_CHARS]
        return render(request, "portal/report.html", _report_ctx(values, errors),
                      status_code=422)
    code = _save_report(request, kind=kind, content=content, description=description,
                        platform=platform or None,
                        contact={"name": contact_name, "phone": contact_phone,
                                 "email": contact_email.strip()},
                        image=image)
    return RedirectResponse(f"/lapor/status/{code}?baru=1", status_code=303)


def _save_report(request: Request, *, kind: str, content: str, description: str,
                 platform: str | None, contact: dict[str, str], image: Any) -> str:
    """Analyse and store one report (``services.intake_report``), audit it; returns the
    receipt code."""
    report, assessment = services.intake_report(
        request.app, kind=kind, content=content, description=description, platform=platform,
        contact=contact, screenshot=image.data if image else None,
        screenshot_mime=image.mime if image else None, via="portal", location="portal:/lapor")
    has_contact = any(v.strip() for v in contact.values())
    audit.record(request, "report.create", f"report:{report['id']}",
                 {"kind": kind, "platform": platform, "has_contact": has_contact,
                  "has_screenshot": image is not None, "level": assessment.level},
                 actor="anonymous")
    return str(report["receipt_code"])


# -- routes: status ---------------------------------------------------------------------------


def _status_page(request: Request, raw: str, new: bool) -> HTMLResponse:
    lang = _lang_of(request)
    t = translator(lang)
    ctx: dict[str, Any] = {"code": raw.strip()[:32], "view": None, "error": None, "new": new,
                           "statuses": reports_store.REPORT_STATUSES}
    if not raw.strip():
        return render(request, "portal/status.html", ctx)
    try:
        ctx["view"] = reports_store.report_status(request.app.state.store, raw)
    except reports_store.ReportNotFoundError:
        ctx["error"] = t("portal.status.not_found")
        return render(request, "portal/status.html", ctx, status_code=404)
    resp = render(request, "portal/status.html", ctx)
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp


@router.get("/lapor/status", response_class=HTMLResponse,
            dependencies=[Depends(rate_limit("public"))])
def status_form(request: Request, code: str = "") -> HTMLResponse:
    return _status_page(request, code, new=False)


@router.get("/lapor/status/{code}", response_class=HTMLResponse,
            dependencies=[Depends(rate_limit("public"))])
def status(request: Request, code: str, baru: str = "") -> HTMLResponse:
    return _status_page(request, code, new=bool(baru))
