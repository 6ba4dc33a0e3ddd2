"""Console pages for cases, evidence, takedown requests and the SLA clock (issue 6).

Routes (all need a signed-in user; permissions from ``permissions.yaml``; every POST is
CSRF-checked by the app's middleware; every change is audited by the store function it
calls):

- ``GET /console/cases``: cases, most recently updated first.
- ``POST /console/cases`` (``cases.write``): open a case from the queue selection
  (``post_id`` repeated) or from a pivot (``kind`` + ``value``); 303 to the case (HTMX
  requests get ``HX-Redirect``).
- ``GET /console/cases/{id}``: posts with risk, entity items, comments, timeline,
  evidence with SHA-256 and the custody log, takedown requests of the case.
- ``POST /console/cases/{id}/comment|status|assign|capture|takedown|close|approve-close``
  and ``GET /console/cases/{id}/export`` (the evidence package ZIP).
- ``GET /console/takedowns``: requests with per-item status and the SLA clock;
  ``POST /console/takedowns/reappear`` (``cases.write``): look for reappearances.
- ``GET /console/takedowns/{id}``: items (with their last outcome check), recipient,
  rendered letter, approve (four-eyes: never by the drafter; 403 with the reason), mark
  sent, per-item status, export; ``POST /console/takedowns/{id}/verify``
  (``cases.write``): re-fetch the URLs now (removed / still up / changed / reappeared).
- ``GET /console/sla``: SLA figures, the monthly report, high-risk dismissals (who and
  when), unusual dismissal flags, and pending second-person approvals
  (``POST /console/approvals/{id}/approve|reject``, ``takedowns.approve``).

Capture uses ``app.state.fetcher`` when set (tests: ``Fetcher(allow_private=...)``), else
the default address-safe ``Fetcher`` (public addresses only).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from patroli.cases import evidence as evidence_mod
from patroli.cases import sla as sla_mod
from patroli.cases import takedown as td
from patroli.cases.fetch import Fetcher
from patroli.cases.model import (
    CASE_PRIORITIES,
    CASE_STATUSES,
    PIVOT_KINDS,
    TRANSITIONS,
    CaseError,
    CaseNotFoundError,
)
from patroli.cases.model import FourEyesError as CaseFourEyesError
from patroli.store import Store
from patroli.store import cases as cases_store
from patroli.store import review as review_store
from patroli.store import takedown as td_store
from patroli.store import users as users_store
from patroli.store.users import UserRecord
from patroli.web.console_cases_i18n import CASES_MESSAGES
from patroli.web.i18n import MESSAGES, translator
from patroli.web.security import has_permission, require

MESSAGES.update(CASES_MESSAGES)

__all__ = ["ITEM_SET_STATUSES", "request_clock", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)

_FLASH = "console_flash"
_MAX_TEXT = 4000
_MAX_TITLE = 200
#: Item statuses an analyst may set by hand on the takedown page (approval is four-eyes,
#: "sent" goes through "mark sent").
ITEM_SET_STATUSES: tuple[str, ...] = ("acknowledged", "removed", "refused", "reappeared")
#: Export formats offered for download (``render_request`` names) -> media type.
_EXPORT_MEDIA: dict[str, str] = {"csv": "text/csv; charset=utf-8",
                                 "json": "application/json",
                                 "text": "text/plain; charset=utf-8"}


# -- helpers ----------------------------------------------------------------------------


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _t(request: Request) -> Any:
    from patroli.web.app import _lang

    return translator(_lang(request)[0])


def _render(request: Request, template: str, ctx: dict[str, Any],
            status_code: int = 200) -> HTMLResponse:
    from patroli.web.app import render

    return render(request, template, ctx, status_code=status_code)


def _flash(request: Request, *messages: str) -> None:
    old = request.session.get(_FLASH)
    request.session[_FLASH] = [*(old if isinstance(old, list) else []), *messages]


def _pop_flash(request: Request) -> list[str]:
    msgs = request.session.pop(_FLASH, None)
    return [str(m) for m in msgs] if isinstance(msgs, list) else []


def _redirect(request: Request, url: str) -> Response:
    """303 to ``url``; for HTMX requests a 200 with ``HX-Redirect`` (full page load)."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _denied(request: Request, reason: str) -> HTMLResponse:
    """403 page that states why (four-eyes and similar refusals)."""
    return _render(request, "cases/denied.html", {"reason": reason}, status_code=403)


def _fetcher(request: Request) -> Fetcher:
    f = getattr(request.app.state, "fetcher", None)
    return f if f is not None else Fetcher()


def _case_or_404(request: Request, case_id: int) -> dict[str, Any]:
    try:
        return cases_store.case_detail(_store(request), case_id)
    except CaseNotFoundError:
        raise HTTPException(status_code=404, detail="no such case") from None


def _hours(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 3600.0, 1)


def request_clock(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    """SLA clock of one takedown item (``takedown_items`` columns as a dict).

    Returns {"state": "not_sent" | "running" | "removed" | "closed", "hours": float or
    None (hours since sending, or from sending to removal), "duty": 4 or 24 (hours),
    "overdue": bool (running past the duty, or removed later than it)}.
    """
    duty = td_store.PRIORITIES.get(str(item.get("priority")), 24)
    sent = item.get("sent_at")
    if not sent:
        return {"state": "not_sent", "hours": None, "duty": duty, "overdue": False}
    if item.get("removed_at"):
        h = _hours(sent, item["removed_at"])
        return {"state": "removed", "hours": h, "duty": duty, "overdue": h > duty}
    if item.get("status") in ("sent", "acknowledged"):
        h = _hours(sent, now)
        return {"state": "running", "hours": h, "duty": duty, "overdue": h > duty}
    return {"state": "closed", "hours": None, "duty": duty, "overdue": False}


def _post_ids(form: Any) -> list[int]:
    ids: list[int] = []
    for raw in form.getlist("post_id"):
        try:
            ids.append(int(str(raw)))
        except ValueError:
            raise HTTPException(status_code=400, detail="post_id must be an integer") from None
    return list(dict.fromkeys(ids))


# -- cases ------------------------------------------------------------------------------


@router.get("/cases", response_class=HTMLResponse)
def cases_list(request: Request,
               user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """Cases, most recently updated first (at most 200)."""
    rows = cases_store.list_cases(_store(request), limit=200)
    return _render(request, "cases/list.html", {"rows": rows, "messages": _pop_flash(request)})


@router.post("/cases")
async def case_create(request: Request,
                      user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """Open a case. Form: ``post_id`` (repeated; from the queue selection) or ``kind`` +
    ``value`` (a pivot), optional ``title`` and ``priority``. 400 when nothing is given,
    for an unknown post, kind or priority; 303 to the new case."""
    form = await request.form()
    t = _t(request)
    store = _store(request)
    title = str(form.get("title") or "").strip()[:_MAX_TITLE]
    priority = str(form.get("priority") or "normal")
    if priority not in CASE_PRIORITIES:
        raise HTTPException(status_code=400, detail="unknown priority")
    kind = str(form.get("kind") or "").strip()
    value = str(form.get("value") or "").strip()[:2000]
    ids = _post_ids(form)
    try:
        if kind or value:
            if kind not in PIVOT_KINDS or not value:
                raise HTTPException(status_code=400, detail="unknown pivot kind or empty value")
            cid = cases_store.case_from_entity(store, kind, value, actor=user.username,
                                               title=title or None, priority=priority)
        elif ids:
            cid = cases_store.create_case(
                store, title=title or t("cases.default_title", n=len(ids)),
                actor=user.username, post_ids=ids, priority=priority)
        else:
            _flash(request, t("cases.none_selected"))
            return _redirect(request, "/console/queue")
    except CaseError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    n = len(cases_store.case_posts(store, cid))
    _flash(request, t("cases.created", id=cid, n=n))
    return _redirect(request, f"/console/cases/{cid}")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_view(request: Request, case_id: int,
              user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """One case: posts, items, comments, timeline, evidence and custody, requests."""
    store = _store(request)
    d = _case_or_404(request, case_id)
    custody = cases_store.custody_log(store, case_id=case_id)
    requests = [r for r in td_store.list_requests(store, limit=1000)
                if r.get("case_id") == case_id]
    c = d["case"]
    users = [u.username for u in users_store.list_users(store) if not u.disabled]
    return _render(request, "cases/detail.html", {
        "d": d, "c": c, "custody": custody, "requests": requests,
        "next_statuses": [s for s in TRANSITIONS.get(c.status, ()) if s != "closed"],
        "can_close": "closed" in TRANSITIONS.get(c.status, ()) and not c.close_requested_by,
        "statuses": CASE_STATUSES, "priorities": CASE_PRIORITIES, "users": users,
        "can_write": has_permission(user.role, "cases.write"),
        "can_approve": has_permission(user.role, "takedowns.approve"),
        "close_pending_by_me": bool(c.close_requested_by) and td_store.same_person(
            c.close_requested_by, user.username),
        "messages": _pop_flash(request)})


def _case_action(request: Request, case_id: int, fn: Any, *args: Any, **kw: Any) -> Any:
    """Run a store function of a case; CaseNotFoundError -> 404, FourEyesError -> 403,
    other CaseError -> 400 (as HTTPException)."""
    try:
        return fn(*args, **kw)
    except CaseNotFoundError:
        raise HTTPException(status_code=404, detail="no such case") from None
    except CaseFourEyesError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except CaseError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None


@router.post("/cases/{case_id}/comment")
def case_comment(request: Request, case_id: int,
                 user: Annotated[UserRecord, Depends(require("cases.write"))],
                 text: Annotated[str, Form()] = "") -> Response:
    """Add a comment (at most 4000 characters; 400 when empty)."""
    _case_action(request, case_id, cases_store.add_comment, _store(request), case_id,
                 text.strip()[:_MAX_TEXT], actor=user.username)
    return _redirect(request, f"/console/cases/{case_id}#comments")


@router.post("/cases/{case_id}/status")
def case_status(request: Request, case_id: int,
                user: Annotated[UserRecord, Depends(require("cases.write"))],
                status: Annotated[str, Form()] = "",
                note: Annotated[str, Form()] = "") -> Response:
    """Change the status along the allowed transitions (closing goes through ``close``)."""
    if status == "closed":
        raise HTTPException(status_code=400, detail="use the close form (four-eyes)")
    _case_action(request, case_id, cases_store.set_status, _store(request), case_id, status,
                 actor=user.username, note=note.strip()[:_MAX_TEXT])
    _flash(request, _t(request)("case.saved"))
    return _redirect(request, f"/console/cases/{case_id}")


@router.post("/cases/{case_id}/assign")
def case_assign(request: Request, case_id: int,
                user: Annotated[UserRecord, Depends(require("cases.write"))],
                assignee: Annotated[str, Form()] = "") -> Response:
    """Assign the case to an active user (empty: unassign); 400 for an unknown user."""
    store = _store(request)
    who = assignee.strip()
    target = users_store.get_user(store, who) if who else None
    if who and (target is None or target.disabled):
        raise HTTPException(status_code=400, detail="unknown user")
    _case_action(request, case_id, cases_store.assign, store, case_id,
                 target.username if target else None, actor=user.username)
    _flash(request, _t(request)("case.saved"))
    return _redirect(request, f"/console/cases/{case_id}")


@router.post("/cases/{case_id}/capture")
def case_capture(request: Request, case_id: int,
                 user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """Capture every URL of the case (``capture_case`` with the app's fetcher)."""
    t = _t(request)
    rep = _case_action(request, case_id, evidence_mod.capture_case, _store(request), case_id,
                       actor=user.username, fetcher=_fetcher(request))
    _flash(request, t("case.captured", captured=len(rep.captured),
                      records=len(rep.source_records), failed=len(rep.failed)),
           *(t("case.capture_failed", url=u, reason=r) for u, r in rep.failed[:10]))
    return _redirect(request, f"/console/cases/{case_id}#evidence")


@router.get("/cases/{case_id}/export")
def case_export(request: Request, case_id: int,
                user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """The evidence package (ZIP: manifest with hashes, WARC, summary) as a download;
    the export is in the custody log. 400 when an artifact no longer matches its hash."""
    _case_or_404(request, case_id)
    with tempfile.TemporaryDirectory(prefix="patroli-pkg-") as tmp:
        path = Path(tmp) / f"patroli-case-{case_id}-evidence.zip"
        _case_action(request, case_id, evidence_mod.export_package, _store(request), case_id,
                     path, user.username)
        data = path.read_bytes()
    return Response(content=data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{path.name}"',
        "Cache-Control": "no-store"})


@router.post("/cases/{case_id}/takedown")
def case_takedown(request: Request, case_id: int,
                  user: Annotated[UserRecord, Depends(require("cases.write"))],
                  language: Annotated[str, Form()] = "id") -> Response:
    """Draft batched takedown requests (one per recipient) for the case's posts, with
    their evidence hashes; 303 to the first request."""
    store = _store(request)
    d = _case_or_404(request, case_id)
    ids = [p["post_id"] for p in d["posts"]]
    if language not in ("id", "en"):
        raise HTTPException(status_code=400, detail="language must be id or en")
    try:
        items = td.items_from_posts(store, ids)
        rids = td.draft_requests(store, items, drafted_by=user.username, language=language,
                                 case_id=case_id, title=d["case"].title)
    except td_store.TakedownError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    if d["case"].status in ("open", "evidence_collected", "rejected", "reappeared"):
        _case_action(request, case_id, cases_store.set_status, store, case_id,
                     "takedown_requested", actor=user.username,
                     note=f"takedown requests {', '.join(map(str, rids))}")
    _flash(request, _t(request)("case.drafted", ids=", ".join(f"#{i}" for i in rids)))
    return _redirect(request, f"/console/takedowns/{rids[0]}")


@router.post("/cases/{case_id}/close")
def case_close(request: Request, case_id: int,
               user: Annotated[UserRecord, Depends(require("cases.write"))],
               reason: Annotated[str, Form()] = "") -> Response:
    """Close at once after a takedown request, else ask a second person (four-eyes)."""
    t = _t(request)
    result = _case_action(request, case_id, cases_store.request_close, _store(request),
                          case_id, actor=user.username, reason=reason.strip()[:_MAX_TEXT])
    _flash(request, t("case.closed") if result == "closed" else t("case.close_requested"))
    return _redirect(request, f"/console/cases/{case_id}")


@router.post("/cases/{case_id}/approve-close", response_model=None)
def case_approve_close(request: Request, case_id: int,
                       user: Annotated[UserRecord, Depends(require("takedowns.approve"))]
                       ) -> Response:
    """Approve a pending close (supervisors; never its requester: 403 with the reason)."""
    try:
        cases_store.approve_close(_store(request), case_id, actor=user.username)
    except CaseFourEyesError as exc:
        return _denied(request, str(exc))
    except CaseNotFoundError:
        raise HTTPException(status_code=404, detail="no such case") from None
    except CaseError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    _flash(request, _t(request)("case.closed"))
    return _redirect(request, f"/console/cases/{case_id}")


# -- takedowns --------------------------------------------------------------------------


def _request_or_404(request: Request, request_id: int) -> dict[str, Any]:
    try:
        return td_store.get_request(_store(request), request_id)
    except td_store.TakedownNotFoundError:
        raise HTTPException(status_code=404, detail="no such takedown request") from None


@router.get("/takedowns", response_class=HTMLResponse)
def takedowns_list(request: Request,
                   user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """Requests, newest first, with item statuses and the SLA clock of each item."""
    store = _store(request)
    now = datetime.now(UTC)
    rows = td_store.list_requests(store, limit=500)
    items: dict[int, list[dict[str, Any]]] = {}
    for it in td_store.list_items(store):
        items.setdefault(int(it["request_id"]), []).append(it | {"clock": request_clock(it, now)})
    for r in rows:
        r["items"] = items.get(int(r["id"]), [])
        r["overdue"] = sum(1 for it in r["items"] if it["clock"]["overdue"])
    return _render(request, "cases/takedowns.html", {
        "rows": rows, "messages": _pop_flash(request),
        "can_write": has_permission(user.role, "cases.write")})


def _takedown_ctx(request: Request, request_id: int, user: UserRecord) -> dict[str, Any]:
    store = _store(request)
    req = _request_or_404(request, request_id)
    now = datetime.now(UTC)
    for it in req["items"]:
        it["clock"] = request_clock(it, now)
        it["next"] = [s for s in td_store.TRANSITIONS.get(it["status"], ())
                      if s in ITEM_SET_STATUSES]
    try:
        letter = td.render_request(store, request_id, "text")
    except td_store.TakedownError as exc:
        letter = str(exc)
    drafter = td_store.same_person(req["drafted_by"], user.username)
    has_drafted = any(it["status"] == "drafted" for it in req["items"])
    return {"req": req, "letter": letter,
            "can_approve": has_drafted and not drafter
            and has_permission(user.role, "takedowns.approve"),
            "is_drafter": drafter and has_drafted,
            "can_send": any(it["status"] in ("approved", "refused") for it in req["items"])
            and has_permission(user.role, "cases.write"),
            "can_write": has_permission(user.role, "cases.write"),
            "can_verify": any(it["status"] in td.CHECKED_STATUSES and it["url"]
                              for it in req["items"])
            and has_permission(user.role, "cases.write"),
            "formats": tuple(_EXPORT_MEDIA), "messages": _pop_flash(request)}


@router.get("/takedowns/{request_id}", response_class=HTMLResponse)
def takedown_view(request: Request, request_id: int,
                  user: Annotated[UserRecord, Depends(require("console.view"))]) -> Response:
    """One request: items with status and clock, the letter, approve / send / export."""
    return _render(request, "cases/takedown.html", _takedown_ctx(request, request_id, user))


@router.post("/takedowns/{request_id}/approve", response_model=None)
def takedown_approve(request: Request, request_id: int,
                     user: Annotated[UserRecord, Depends(require("takedowns.approve"))]
                     ) -> Response:
    """Four-eyes approval (``approve_request``): the drafter gets 403 with the reason;
    400 when nothing is left to approve."""
    _request_or_404(request, request_id)
    try:
        td_store.approve_request(_store(request), request_id, user.username)
    except td_store.FourEyesError as exc:
        return _denied(request, str(exc))
    except td_store.TakedownError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    _flash(request, _t(request)("td.approved"))
    return _redirect(request, f"/console/takedowns/{request_id}")


@router.post("/takedowns/{request_id}/send")
def takedown_send(request: Request, request_id: int,
                  user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """Record that the approved request was sent (the SLA clock starts); 400 when no
    item is approved."""
    _request_or_404(request, request_id)
    try:
        td_store.mark_sent(_store(request), request_id, actor=user.username)
    except td_store.TakedownError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    _flash(request, _t(request)("td.sent"))
    return _redirect(request, f"/console/takedowns/{request_id}")


@router.post("/takedowns/{request_id}/items/{item_id}")
def takedown_item_status(request: Request, request_id: int, item_id: int,
                         user: Annotated[UserRecord, Depends(require("cases.write"))],
                         status: Annotated[str, Form()] = "") -> Response:
    """Set one item's status (one of ``ITEM_SET_STATUSES``, along the allowed
    transitions; 400 otherwise, 404 when the item is not in this request)."""
    req = _request_or_404(request, request_id)
    if item_id not in {int(it["id"]) for it in req["items"]}:
        raise HTTPException(status_code=404, detail="no such item in this request")
    if status not in ITEM_SET_STATUSES:
        raise HTTPException(status_code=400, detail="status not allowed here")
    try:
        td_store.set_item_status(_store(request), item_id, status, actor=user.username)
    except td_store.TakedownError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    _flash(request, _t(request)("td.item_set"))
    return _redirect(request, f"/console/takedowns/{request_id}")


@router.post("/takedowns/reappear")
def takedowns_reappear(request: Request,
                       user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """Look for removed items whose content came back on a later stored post (same phone
    or near-identical text: ``detect_reappearance``); they become ``reappeared`` and
    their case reopens. The flash message says how many."""
    rows = td.detect_reappearance(_store(request), actor=user.username)
    _flash(request, _t(request)("td.reappear_done", n=len(rows)))
    return _redirect(request, "/console/takedowns")


@router.post("/takedowns/{request_id}/verify")
def takedown_verify(request: Request, request_id: int,
                    user: Annotated[UserRecord, Depends(require("cases.write"))]) -> Response:
    """Re-fetch the request's sent / acknowledged / refused / removed URLs now with the
    app's safe fetcher (``verify_request``: gone -> removed, back -> reappeared; each
    check is recorded); the flash message counts the outcomes."""
    _request_or_404(request, request_id)
    rows = td.verify_request(_store(request), request_id, _fetcher(request),
                             actor=user.username)
    counts = Counter(r["outcome"] for r in rows)
    t = _t(request)
    summary = ", ".join(f"{t('td_outcome.' + k)}: {n}" for k, n in sorted(counts.items()))
    _flash(request, t("td.verify_done", n=len(rows), summary=summary or "—"))
    return _redirect(request, f"/console/takedowns/{request_id}")


@router.get("/takedowns/{request_id}/export", response_model=None)
def takedown_export(request: Request, request_id: int,
                    user: Annotated[UserRecord, Depends(require("cases.write"))],
                    fmt: str = "csv") -> Response:
    """The file the recipient expects (``fmt``: csv / json / text), approved requests
    only (a draft: 403 with the reason); audited as ``takedown.export``."""
    _request_or_404(request, request_id)
    if fmt not in _EXPORT_MEDIA:
        raise HTTPException(status_code=400, detail="fmt must be csv, json or text")
    with tempfile.TemporaryDirectory(prefix="patroli-td-") as tmp:
        try:
            path = td.export_request(_store(request), request_id, tmp, fmt,
                                     actor=user.username)
        except td_store.FourEyesError as exc:
            return _denied(request, str(exc))
        except td_store.TakedownError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        data = path.read_bytes()
        name = path.name
    return Response(content=data, media_type=_EXPORT_MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# -- SLA, dismissals, second-person approvals ------------------------------------------


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _num(v: Any) -> str:
    return "—" if v is None else str(v)


@router.get("/sla", response_class=HTMLResponse)
def sla_view(request: Request,
             user: Annotated[UserRecord, Depends(require("dashboard.view"))],
             month: str = "") -> Response:
    """SLA figures (overall, per platform, per month), the monthly report (``month``
    YYYY-MM, default this month in WIB), high-risk dismissals, unusual-dismissal flags
    and pending second-person approvals."""
    store = _store(request)
    now = datetime.now(UTC)
    figs = sla_mod.sla_figures(store, now=now)
    try:
        monthly = sla_mod.monthly_report(store, month.strip() or None, now=now)
    except ValueError:
        monthly = sla_mod.monthly_report(store, None, now=now)
    approvals = td.pending_approvals(store)
    pending_refs = {a["ref"]: a for a in approvals if a["kind"] == "review_dismissal"}
    dismissals = review_store.pending_second_approvals(store, limit=200)
    for e in dismissals:
        e["approval"] = pending_refs.get(str(e["id"]))
    return _render(request, "cases/sla.html", {
        "figs": figs, "monthly": monthly, "pct": _pct, "num": _num,
        "backlog_buckets": [b for b, _ in sla_mod.BACKLOG_BUCKETS],
        "dismissals": dismissals, "flags": td.unusual_dismissals(store, now=now),
        "approvals": approvals,
        "can_approve": has_permission(user.role, "takedowns.approve"),
        "me": user.username, "same_person": td_store.same_person,
        "messages": _pop_flash(request)})


def _decide(request: Request, approval_id: int, user: UserRecord, approve: bool) -> Response:
    try:
        r = (td.approve if approve else td.reject)(_store(request), approval_id, user.username)
    except td_store.FourEyesError as exc:
        return _denied(request, str(exc))
    except td_store.TakedownNotFoundError:
        raise HTTPException(status_code=404, detail="no such approval") from None
    except td_store.TakedownError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    _flash(request, _t(request)("sla.decided", id=approval_id, status=r["status"]))
    return _redirect(request, "/console/sla#approvals")


@router.post("/approvals/{approval_id}/approve", response_model=None)
def approval_approve(request: Request, approval_id: int,
                     user: Annotated[UserRecord, Depends(require("takedowns.approve"))]
                     ) -> Response:
    """Second-person approval of a pending change (never by its requester: 403)."""
    return _decide(request, approval_id, user, True)


@router.post("/approvals/{approval_id}/reject", response_model=None)
def approval_reject(request: Request, approval_id: int,
                    user: Annotated[UserRecord, Depends(require("takedowns.approve"))]
                    ) -> Response:
    """Second-person rejection (a rejected HIGH-risk dismissal reopens the post)."""
    return _decide(request, approval_id, user, False)
