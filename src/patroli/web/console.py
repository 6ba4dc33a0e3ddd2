"""The analyst console (issue 5): queue, post view, pivots, label decisions, dashboard.

Routes (all need a signed-in user; permissions from ``permissions.yaml``):

- ``GET /console/queue``: posts ordered by risk with filters, text search and pages of
  50 (``patroli.store.queue``). With HTMX (``HX-Request``) only the results block is
  sent back; without JS the page is a plain GET form.
- ``POST /console/queue/bulk``: dismiss / confirm / reopen (``queue.triage``) or assign
  (``queue.assign``) the checked posts; CSRF-checked; every change audited, HIGH-risk
  dismissals with ``second_approval: pending``. HTMX gets the refreshed results; a plain
  form gets a 303 back to the same queue view with a message.
- ``GET /console/posts/{id}``: text with evidence highlighted, indicators and reasons,
  entities (pivot links), verification, rules vs model, history (review events, label
  decisions, audit entries for the post).
- ``POST /console/posts/{id}/label`` (``labels.write``): a label decision
  (``patroli.store.labels.add_label``, used by ``patroli train --from-db``), audited.
- ``POST /console/posts/{id}/review`` (``queue.triage``): one post's review status.
- ``GET /console/pivot?kind=&value=``: every post sharing an entity value.
- ``GET /console/dashboard``: counts per day, platform, destination, indicator, label,
  level and review status, drawn as server-rendered SVG bars with the numbers as text.

The console shows what the store holds; it never computes a risk score.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from patroli.report.files import highlight
from patroli.store import Store
from patroli.store import queue as queue_store
from patroli.store import reports as reports_store
from patroli.store import review as review_store
from patroli.store import users as users_store
from patroli.store.labels import LabelError, add_label
from patroli.store.users import UserRecord
from patroli.types import LABELS, LEVELS
from patroli.web import audit
from patroli.web.console_i18n import CONSOLE_MESSAGES
from patroli.web.i18n import MESSAGES, translator
from patroli.web.security import has_permission, require

MESSAGES.update(CONSOLE_MESSAGES)

__all__ = ["BULK_ACTIONS", "bar_chart", "filters_from_params", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)

#: Bulk action -> (review status it sets or None for assign, permission needed).
BULK_ACTIONS: dict[str, tuple[str | None, str]] = {
    "dismiss": ("dismissed", "queue.triage"),
    "confirm": ("confirmed", "queue.triage"),
    "reopen": ("open", "queue.triage"),
    "assign": (None, "queue.assign"),
}
_MAX_FIELD = 200
_MAX_NOTE = 2000
_FLASH = "console_flash"
#: Query parameters of the queue view (filters and page).
_QUERY_KEYS = frozenset({f.name for f in fields(queue_store.QueueFilters)} | {"page"})


# -- helpers ----------------------------------------------------------------------------


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _lang_of(request: Request) -> str:
    from patroli.web.app import _lang

    return _lang(request)[0]


def _t(request: Request) -> Any:
    return translator(_lang_of(request))


def _render(request: Request, template: str, ctx: dict[str, Any],
            status_code: int = 200) -> HTMLResponse:
    from patroli.web.app import render

    return render(request, template, ctx, status_code=status_code)


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()[:_MAX_FIELD]
    return v or None


def filters_from_params(params: Any) -> queue_store.QueueFilters:
    """Queue filters from query (or form) parameters; values outside the known sets
    (level, label, status) and unreadable dates are ignored, text is trimmed to 200
    characters."""
    g = params.get

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        v = _clean(g(name))
        return v if v in allowed else None

    return queue_store.QueueFilters(
        level=choice("level", LEVELS),
        label=choice("label", LABELS),
        platform=_clean(g("platform")),
        destination=(_clean(g("destination")) or "").upper() or None,
        indicator=_clean(g("indicator")),
        source=_clean(g("source")),
        date_from=_parse_date(g("date_from")),
        date_to=_parse_date(g("date_to")),
        status=choice("status", review_store.REVIEW_STATUSES),
        assignee=_clean(g("assignee")),
        q=_clean(g("q")),
    )


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1_000_000))
    except ValueError:
        return 1


def _is_htmx(request: Request) -> bool:
    return (request.headers.get("hx-request") == "true"
            and request.headers.get("hx-history-restore-request") != "true")


def _pop_flash(request: Request) -> list[str]:
    msgs = request.session.pop(_FLASH, None)
    return [str(m) for m in msgs] if isinstance(msgs, list) else []


def _queue_context(request: Request, f: queue_store.QueueFilters, page: int,
                   user: UserRecord, messages: list[str]) -> dict[str, Any]:
    store = _store(request)
    result = queue_store.queue_page(store, f, page)
    params = f.as_params()
    query = urlencode(params)

    def page_url(n: int) -> str:
        return "/console/queue?" + urlencode({**params, "page": str(n)})

    users = [u.username for u in users_store.list_users(store) if not u.disabled] \
        if has_permission(user.role, "queue.assign") else []
    return {
        "result": result, "filters": f, "filter_params": params,
        "back": urlencode({**params, "page": str(result.page)}),
        "query": query, "page_url": page_url, "options": queue_store.filter_options(store),
        "levels": LEVELS, "labels": LABELS, "statuses": review_store.REVIEW_STATUSES,
        "can_triage": has_permission(user.role, "queue.triage"),
        "can_assign": has_permission(user.role, "queue.assign"),
        "assignable": users, "messages": messages,
    }


# -- queue --------------------------------------------------------------------------------


@router.get("/queue", response_class=HTMLResponse)
def queue_view(request: Request,
               user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """The queue page (or, for HTMX, its results block)."""
    f = filters_from_params(request.query_params)
    page = _page_number(request.query_params.get("page"))
    ctx = _queue_context(request, f, page, user, _pop_flash(request))
    template = "console/_queue_results.html" if _is_htmx(request) else "console/queue.html"
    resp = _render(request, template, ctx)
    resp.headers["Vary"] = "HX-Request"
    return resp


@router.post("/queue/bulk", response_class=HTMLResponse)
async def queue_bulk(request: Request,
                     user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """Apply a bulk action to the checked posts (form fields: ``post_id`` (repeated),
    ``action`` (dismiss / confirm / reopen / assign), ``assignee``, ``back`` (the queue's
    query string)). 403 when the role may not run that action; 400 for an unknown action;
    unknown post ids are refused as a whole (400)."""
    form = await request.form()
    t = _t(request)
    action = str(form.get("action") or "")
    back_raw = str(form.get("back") or "")[:2000]
    back_params = [(k, v) for k, v in parse_qsl(back_raw, keep_blank_values=False)
                   if k in _QUERY_KEYS]
    if action not in BULK_ACTIONS:
        raise HTTPException(status_code=400, detail=t("bulk.bad_action"))
    status, permission = BULK_ACTIONS[action]
    if not has_permission(user.role, permission):
        raise HTTPException(status_code=403, detail="forbidden")
    ids: list[int] = []
    for raw in form.getlist("post_id"):
        try:
            ids.append(int(str(raw)))
        except ValueError:
            raise HTTPException(status_code=400, detail="post_id must be an integer") from None
    messages: list[str] = []
    store = _store(request)
    if not ids:
        messages.append(t("bulk.none"))
    else:
        try:
            if status is not None:
                change = review_store.set_status(store, ids, status, actor=user.username)
            else:
                who = str(form.get("assignee") or "").strip()
                target = users_store.get_user(store, who) if who else None
                if who and (target is None or target.disabled):
                    raise HTTPException(status_code=400, detail=t("bulk.bad_assignee"))
                change = review_store.assign(store, ids, target.username if target else None,
                                             actor=user.username)
        except review_store.ReviewError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        high = set(change.high_risk_dismissed)
        for pid in change.changed:
            details: dict[str, Any] = {"bulk": len(ids)}
            if status is not None:
                details["status"] = status
            else:
                details["assignee"] = str(form.get("assignee") or "").strip() or None
            if pid in high:
                details.update(high_risk=True, second_approval="pending")
            audit.record(request, f"queue.{action}", queue_store.post_target(pid), details)
        messages.append(t("bulk.done", action=t("action." + action),
                          changed=len(change.changed), unchanged=len(change.unchanged)))
        if high:
            messages.append(t("bulk.high_risk", n=len(high)))
    if _is_htmx(request):
        params = dict(back_params)
        f = filters_from_params(params)
        ctx = _queue_context(request, f, _page_number(params.get("page")), user, messages)
        return _render(request, "console/_queue_results.html", ctx)
    request.session[_FLASH] = messages
    return RedirectResponse("/console/queue?" + urlencode(back_params), status_code=303)


# -- post view --------------------------------------------------------------------------


def _model_view(assessment: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rules vs model: each side's label and probabilities, and whether they disagree."""
    if assessment is None:
        return None
    signals = assessment.get("signals") or {}
    rules = signals.get("rules") if isinstance(signals.get("rules"), dict) else None
    model = signals.get("model") if isinstance(signals.get("model"), dict) else None
    if not rules or not model:
        return {"has_model": False}
    model_probs = {k: float(v) for k, v in (model.get("probabilities") or {}).items()
                   if isinstance(v, (int, float))}
    model_label = max(model_probs, key=lambda k: model_probs[k]) if model_probs else None
    rules_probs = {k: float(v) for k, v in (rules.get("probabilities") or {}).items()
                   if isinstance(v, (int, float))}
    return {
        "has_model": True,
        "version": model.get("version") or assessment.get("model_version"),
        "rules_label": rules.get("label"), "rules_score": rules.get("risk_score"),
        "model_label": model_label,
        "rows": [(lab, rules_probs.get(lab), model_probs.get(lab),
                  (assessment.get("probabilities") or {}).get(lab)) for lab in LABELS],
        "disagree": bool(model_label and rules.get("label") and model_label != rules.get("label")),
    }


def _history(detail: dict[str, Any], events: list[dict[str, Any]], t: Any) -> list[dict[str, Any]]:
    """Review events, label decisions and audit entries of a post, oldest first."""
    out: list[dict[str, Any]] = []
    for e in events:
        if e["action"] == "assign":
            what = t("history.assign", who=e["assignee"] or "—")
        else:
            what = t("history.status", from_=t("status." + e["from_status"]),
                     to=t("status." + e["to_status"]))
        if (e["details"] or {}).get("second_approval") == "pending":
            what += " (" + t("history.second_approval") + ")"
        out.append({"at": e["at"], "who": e["actor"], "what": what, "note": e["note"]})
    for lab in detail["labels"]:
        out.append({"at": lab["decided_at"], "who": lab["decided_by"],
                    "what": t("history.label", label=t("label." + lab["label"])),
                    "note": lab["note"]})
    for a in detail["audit"]:
        out.append({"at": a["at"], "who": a["actor"], "what": t("history.audit",
                                                                  action=a["action"]),
                    "note": ""})
    out.sort(key=lambda h: h["at"])
    return out


def _post_context(request: Request, post_id: int, user: UserRecord) -> dict[str, Any]:
    store = _store(request)
    detail = queue_store.post_detail(store, post_id)
    if detail is None:
        raise HTTPException(status_code=404, detail="no such post")
    lang_en = _lang_of(request) == "en"
    a = detail["assessment"]
    spans: list[tuple[int, int, str]] = []
    findings = []
    if a is not None:
        for fd in a["findings"]:
            if not isinstance(fd, dict):
                continue
            title = str(fd.get("title_en") if lang_en else fd.get("title_id")) \
                or str(fd.get("indicator"))
            for sp in fd.get("spans") or []:
                if isinstance(sp, (list, tuple)) and len(sp) == 2:
                    spans.append((int(sp[0]), int(sp[1]), title))
            findings.append(fd)
    text = detail["post"]["text"]
    events = review_store.review_history(store, post_id)
    labels = detail["labels"]
    verification = a["verification"] if a else {}
    return {
        "detail": detail, "post": detail["post"], "assessment": a,
        "highlighted": highlight(text, spans) if spans else Markup.escape(text),
        "findings": findings, "entities": detail["entities"],
        "pivot_kinds": queue_store.PIVOT_KINDS,
        "verification": verification,
        "verification_json": json.dumps(verification, ensure_ascii=False, indent=1,
                                        default=str) if verification else "",
        "model_view": _model_view(a), "review": review_store.get_review(store, post_id),
        "history": _history(detail, events, _t(request)),
        "current_label": labels[-1]["label"] if labels else None,
        "labels": LABELS, "statuses": review_store.REVIEW_STATUSES,
        "can_label": has_permission(user.role, "labels.write"),
        "can_triage": has_permission(user.role, "queue.triage"),
        "messages": _pop_flash(request), "lang_en": lang_en,
        "report": _report_of(store, detail["post"]),
        "report_statuses": reports_store.REPORT_STATUSES,
        "can_see_contact": has_permission(user.role, "reports.contact.view"),
        "contact": None,
    }


def _report_of(store: Store, post: dict[str, Any]) -> dict[str, Any] | None:
    """The public report behind a post of source ``portal-report`` (else None)."""
    if post.get("source") != reports_store.POST_SOURCE:
        return None
    try:
        return reports_store.report_by_code(store, str(post["key"]))
    except reports_store.ReportNotFoundError:
        return None


def _report_or_404(request: Request, code: str) -> dict[str, Any]:
    try:
        return reports_store.report_by_code(_store(request), code)
    except reports_store.ReportNotFoundError:
        raise HTTPException(status_code=404, detail="no such report") from None


@router.get("/reports/{code}/screenshot")
def report_screenshot(request: Request, code: str,
                      user: Annotated[UserRecord, Depends(require("reports.view"))]) -> Response:
    """The report's screenshot (sanitised when it was received: re-encoded, no
    metadata); 404 when the report has none."""
    report = _report_or_404(request, code)
    shot = reports_store.report_screenshot(_store(request), report["receipt_code"])
    if shot is None:
        raise HTTPException(status_code=404, detail="no screenshot")
    data, mime = shot
    return Response(content=data, media_type=mime,
                    headers={"Content-Disposition": "inline", "Cache-Control": "no-store"})


@router.post("/reports/{code}/contact", response_class=HTMLResponse)
def report_contact(request: Request, code: str,
                   user: Annotated[UserRecord, Depends(require("reports.contact.view"))],
                   post_id: Annotated[int, Form()] = 0) -> Response:
    """Show the reporter's decrypted contact on the post page (roles with
    ``reports.contact.view`` only: personal data, UU 27/2022); every view is audited.
    A POST with CSRF, so the contact never sits in a URL, a cache or the session."""
    report = _report_or_404(request, code)
    from patroli.web import services

    contact = reports_store.report_contact(_store(request), report["receipt_code"],
                                           services.contact_key(request.app))
    audit.record(request, "report.contact.view", f"report:{report['id']}", {})
    ctx = _post_context(request, post_id, user) if post_id else None
    if ctx is None or ctx["report"] is None or ctx["report"]["id"] != report["id"]:
        raise HTTPException(status_code=400, detail="post_id does not belong to this report")
    ctx["contact"] = contact or {}
    return _render(request, "console/post.html", ctx)


@router.post("/reports/{code}/status")
def report_status(request: Request, code: str,
                  user: Annotated[UserRecord, Depends(require("queue.triage"))],
                  status: Annotated[str, Form()] = "",
                  post_id: Annotated[int, Form()] = 0) -> Response:
    """Set the status a reporter sees on the public status page (received, in review,
    actioned, closed); audited; 303 back to the post view."""
    report = _report_or_404(request, code)
    if status not in reports_store.REPORT_STATUSES:
        raise HTTPException(status_code=400, detail="unknown report status")
    reports_store.set_report_status(_store(request), report["receipt_code"], status)
    audit.record(request, "report.status", f"report:{report['id']}",
                 {"from": report["status"], "to": status})
    target = f"/console/posts/{post_id}" if post_id else "/console/queue"
    return RedirectResponse(target, status_code=303)


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_view(request: Request, post_id: int,
              user: Annotated[UserRecord, Depends(require("assessments.view"))]) -> Response:
    """One post with its evidence, entities, verification, model view and history."""
    return _render(request, "console/post.html", _post_context(request, post_id, user))


@router.post("/posts/{post_id}/label")
def post_label(request: Request, post_id: int,
               user: Annotated[UserRecord, Depends(require("labels.write"))],
               label: Annotated[str, Form()] = "",
               note: Annotated[str, Form()] = "") -> Response:
    """Record a label decision (one of ``types.LABELS``; 400 otherwise; 404 for an
    unknown post), audit it, and go back to the post view (303)."""
    store = _store(request)
    detail = queue_store.post_detail(store, post_id)
    if detail is None:
        raise HTTPException(status_code=404, detail="no such post")
    if label not in LABELS:
        raise HTTPException(status_code=400, detail=f"label must be one of {', '.join(LABELS)}")
    note = note.strip()[:_MAX_NOTE]
    try:
        label_id = add_label(store, detail["post"]["source"], detail["post"]["key"], label,
                             user.username, note)
    except LabelError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    audit.record(request, "label.add", queue_store.post_target(post_id),
                 {"label": label, "label_id": label_id})
    t = _t(request)
    request.session[_FLASH] = [t("post.label_saved", label=t("label." + label))]
    return RedirectResponse(f"/console/posts/{post_id}", status_code=303)


@router.post("/posts/{post_id}/review")
def post_review(request: Request, post_id: int,
                user: Annotated[UserRecord, Depends(require("queue.triage"))],
                status: Annotated[str, Form()] = "") -> Response:
    """Set one post's review status (open / confirmed / dismissed), audited like a bulk
    action; 303 back to the post view."""
    store = _store(request)
    if status not in review_store.REVIEW_STATUSES:
        raise HTTPException(status_code=400, detail="unknown status")
    try:
        change = review_store.set_status(store, [post_id], status, actor=user.username)
    except review_store.ReviewError:
        raise HTTPException(status_code=404, detail="no such post") from None
    action = {"dismissed": "dismiss", "confirmed": "confirm", "open": "reopen"}[status]
    t = _t(request)
    messages = [t("post.status_saved", status=t("status." + status))]
    if change.changed:
        details: dict[str, Any] = {"status": status}
        if change.high_risk_dismissed:
            details.update(high_risk=True, second_approval="pending")
            messages.append(t("bulk.high_risk", n=1))
        audit.record(request, f"queue.{action}", queue_store.post_target(post_id), details)
    request.session[_FLASH] = messages
    return RedirectResponse(f"/console/posts/{post_id}", status_code=303)


# -- pivot ----------------------------------------------------------------------------------


@router.get("/pivot", response_class=HTMLResponse)
def pivot(request: Request, user: Annotated[UserRecord, Depends(require("assessments.view"))],
          kind: str = "", value: str = "") -> Response:
    """Every post sharing the entity ``value`` of ``kind`` (one of ``PIVOT_KINDS``;
    400 otherwise), highest risk first (at most 500)."""
    if kind not in queue_store.PIVOT_KINDS or not value.strip() or len(value) > 2000:
        raise HTTPException(status_code=400, detail=_t(request)("pivot.bad_kind"))
    rows = _store(request).posts_with_entity(kind, value.strip(), limit=500)
    return _render(request, "console/pivot.html", {
        "kind": kind, "value": value.strip(), "rows": rows,
        "can_open_case": has_permission(user.role, "cases.write")})


# -- dashboard ------------------------------------------------------------------------------


def bar_chart(pairs: list[tuple[str, int]], *, labels: dict[str, str] | None = None,
              width: int = 560, bar: int = 22, label_width: int = 190) -> dict[str, Any]:
    """Geometry of a horizontal bar chart for a template: ``{"width", "height", "bars"}``
    with one bar per (name, count) pair: name (display label), count, y, w (pixels,
    proportional to the largest count), label_x / count_x. Empty input: no bars."""
    labels = labels or {}
    top = max((n for _, n in pairs), default=0)
    span = width - label_width - 60
    bars = []
    for i, (name, n) in enumerate(pairs):
        w = 0 if top == 0 else max(1, round(span * n / top)) if n else 0
        bars.append({"name": labels.get(name, name), "key": name, "count": n,
                     "y": i * (bar + 6), "h": bar, "x": label_width, "w": w,
                     "count_x": label_width + w + 6})
    return {"width": width, "height": max(1, len(bars) * (bar + 6)), "bars": bars,
            "label_width": label_width}


def _column_chart(pairs: list[tuple[str, int]], *, width: int = 720,
                  height: int = 160) -> dict[str, Any]:
    """Geometry of a vertical bar chart (items per day): bars with x, y, w, h, and the
    day and count for labels."""
    top = max((n for _, n in pairs), default=0)
    n_bars = max(1, len(pairs))
    step = width / n_bars
    cols = []
    for i, (day, n) in enumerate(pairs):
        h = 0 if top == 0 else round((height - 20) * n / top)
        cols.append({"day": day, "count": n, "x": round(i * step + 1, 1),
                     "w": round(max(1.0, step - 2), 1), "y": height - h, "h": h,
                     "label": i % max(1, n_bars // 6) == 0})
    return {"width": width, "height": height, "cols": cols}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request,
              user: Annotated[UserRecord, Depends(require("dashboard.view"))]) -> Response:
    """Counts drawn as inline SVG bar charts, each with a table of the same numbers."""
    t = _t(request)
    counts = queue_store.dashboard_counts(_store(request))
    level_names = {lv: t("level." + lv) for lv in LEVELS}
    label_names = {lab: t("label." + lab) for lab in LABELS}
    status_names = {s: t("status." + s) for s in review_store.REVIEW_STATUSES}
    charts = [
        ("dash.by_platform", "platform", bar_chart(counts["by_platform"])),
        ("dash.by_destination", "destination", bar_chart(counts["by_destination"])),
        ("dash.by_indicator", "indicator", bar_chart(counts["by_indicator"])),
        ("dash.by_label", "label", bar_chart(counts["by_label"], labels=label_names)),
        ("dash.by_level", "level", bar_chart(counts["by_level"], labels=level_names)),
        ("dash.open_closed", None, bar_chart(
            [("open", counts["open"]), ("closed", counts["closed"])],
            labels={"open": t("dash.open"), "closed": t("dash.closed")})),
        ("filter.status", "status", bar_chart(counts["by_status"], labels=status_names)),
    ]
    return _render(request, "console/dashboard.html", {
        "counts": counts, "charts": charts, "per_day": _column_chart(counts["per_day"])})
