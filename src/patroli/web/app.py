"""The web application's foundation: ``create_app`` (issue 5).

Builds the FastAPI app with its security layers (outermost first): proxy headers (only
with ``PATROLI_TRUST_PROXY=1``), security headers, request size limit (413), signed
session cookie, CSRF check; then the pages: login, logout, a signed-in home listing the
latest assessments from the store, a health check and the static files. Later pages
(portal, console, API) add routers to the app and protect them with
``Depends(require("<permission>"))`` and ``Depends(rate_limit("public"))``.

The web layer shows what the store holds; it never computes a risk score.

Configuration (environment, all optional):

- ``PATROLI_DATABASE_URL``: the store (default ``./patroli.db``).
- ``PATROLI_SECRET_KEY``: key signing session cookies (32+ characters). Without it a
  random key is made at start (with a warning): sessions end when the process restarts,
  and several worker processes cannot share sessions.
- ``PATROLI_TRUST_PROXY=1``: believe X-Forwarded-Proto / X-Forwarded-For.
- ``PATROLI_MAX_REQUEST_BYTES``: largest request body (default 2 MiB).
- ``PATROLI_LOGIN_RATE`` / ``PATROLI_PUBLIC_RATE``: ``"N/SECONDS"`` token buckets per
  client IP (defaults ``5/60`` and ``30/60``).
- ``PATROLI_REDIS_URL``: share the rate-limit buckets between processes through Redis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from patroli.store import Store
from patroli.store import users as users_store
from patroli.store.users import UserRecord
from patroli.web import audit
from patroli.web.i18n import DEFAULT_LANG, LANGS, translator
from patroli.web.security import (
    BodySizeLimitMiddleware,
    CSRFMiddleware,
    NotAuthenticated,
    PasswordService,
    ProxyHeadersMiddleware,
    RateLimiter,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    client_ip,
    csrf_token,
    make_rate_limiter,
    require,
    retry_after_header,
)

__all__ = ["LANG_COOKIE", "create_app", "current_user", "rate_limit", "render"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "patroli_lang"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
WIB = timezone(timedelta(hours=7), "WIB")  # Asia/Jakarta; no daylight saving time


def _rate_setting(env: str, default: str) -> tuple[float, float]:
    raw = os.environ.get(env, "").strip() or default
    try:
        n, _, secs = raw.partition("/")
        capacity, per = float(n), float(secs)
        if capacity <= 0 or per <= 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{env} must look like '5/60' (requests/seconds), not {raw!r}") from None
    return capacity, per


def _secret_key(secret_key: str | None) -> str:
    key = secret_key or os.environ.get("PATROLI_SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ValueError("the session secret key needs at least 32 characters")
        return key
    log.warning("PATROLI_SECRET_KEY is not set: using a random key; sessions end when "
                "the server restarts and cannot be shared between worker processes")
    return secrets.token_urlsafe(48)


def _password_fingerprint(user: UserRecord) -> str:
    """Short digest of the password hash kept in the session: changing the password ends
    every session made with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def current_user(request: Request) -> UserRecord | None:
    """The signed-in user of this request, or None (nobody signed in, account disabled
    or removed, or password changed since the session began). Loaded once per request."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user: UserRecord | None = None
    uid = request.session.get("uid")
    if isinstance(uid, int):
        found = users_store.get_user_by_id(request.app.state.store, uid)
        if (found is not None and not found.disabled
                and request.session.get("pwf") == _password_fingerprint(found)):
            user = found
    request.state.user = user
    return user


def _lang(request: Request) -> tuple[str, bool]:
    """(language, chosen_now): ``?lang=`` wins and is remembered in a cookie."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q, True
    c = request.cookies.get(LANG_COOKIE)
    return (c if c in LANGS else DEFAULT_LANG), False


def _lang_url(request: Request, lang: str) -> str:
    """The current page's URL (path and query, ``lang`` replaced) in another language."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + "?" + urlencode([*params, ("lang", lang)])


def _wib(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["wib"] = _wib
    return env


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render ``templates/<template>`` (autoescaped) with the common context: ``t``
    (translator), ``lang``, ``csrf_token``, ``user``, ``request``. Remembers a
    ``?lang=`` choice in the language cookie."""
    lang, chosen = _lang(request)
    ctx = {
        "request": request,
        "t": translator(lang),
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "lang_url": _lang_url(request, "en" if lang == "id" else "id"),
        "csrf_token": csrf_token(request),
        "user": current_user(request),
        **(context or {}),
    }
    html = request.app.state.templates.get_template(template).render(ctx)
    resp = HTMLResponse(html, status_code=status_code)
    if chosen:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return resp


def rate_limit(name: str) -> Callable[[Request], None]:
    """FastAPI dependency: take one token from the ``name`` limiter's bucket of the
    client IP; HTTPException 429 with Retry-After when empty. Limiters: "login",
    "public" (``app.state.limiters``)."""

    def dependency(request: Request) -> None:
        limiter: RateLimiter = request.app.state.limiters[name]
        decision = limiter.hit(client_ip(request))
        if not decision.allowed:
            raise HTTPException(status_code=429, detail="too many requests",
                                headers=retry_after_header(decision))

    return dependency


def _safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (no open redirect), default the console."""
    if (target and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not any(ord(c) < 32 for c in target)):
        return target
    return "/console"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def create_app(store_url: str | None = None, *, secret_key: str | None = None,
               testing: bool = False, max_body_bytes: int | None = None,
               store: Store | None = None) -> FastAPI:
    """The patroli web application.

    store_url: database URL or SQLite path (default ``$PATROLI_DATABASE_URL``, else
        ``./patroli.db``); ignored when an open ``store`` is passed. The store is
        migrated on open.
    secret_key: session signing key (32+ characters; default ``$PATROLI_SECRET_KEY``,
        else a random key with a warning).
    testing: cheap argon2 parameters (tests only: never in production).
    max_body_bytes: largest request body (default ``$PATROLI_MAX_REQUEST_BYTES`` or
        2 MiB); larger requests get 413.
    Raises ValueError for a bad setting; database errors propagate.
    """
    app = FastAPI(title="patroli", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store if store is not None else Store(store_url)
    app.state.passwords = PasswordService(fast=testing)
    app.state.templates = _environment()
    login_cap, login_per = _rate_setting("PATROLI_LOGIN_RATE", "5/60")
    pub_cap, pub_per = _rate_setting("PATROLI_PUBLIC_RATE", "30/60")
    app.state.limiters = {
        "login": make_rate_limiter("login", login_cap, login_per),
        "public": make_rate_limiter("public", pub_cap, pub_per),
    }
    limit = max_body_bytes or int(os.environ.get("PATROLI_MAX_REQUEST_BYTES", "0") or 0) \
        or DEFAULT_MAX_BYTES

    # Middlewares: the last added runs first (outermost).
    app.add_middleware(CSRFMiddleware)
    app.add_middleware(SessionMiddleware, secret_key=_secret_key(secret_key))
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=limit)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ProxyHeadersMiddleware)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _add_error_handlers(app)
    _add_routes(app)
    from patroli.web import console  # analyst console: /console/queue, posts, dashboard
    app.include_router(console.router)
    from patroli.web import console_cases  # cases, takedowns, SLA: /console/cases, ...
    app.include_router(console_cases.router)
    from patroli.web import portal  # public portal: /, /cek, /lapor
    app.include_router(portal.router)
    from patroli.web import api as api_routes  # REST API /api/v1
    app.include_router(api_routes.router)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Any:
        if _wants_html(request) and request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        return JSONResponse({"error": {"code": "not_authenticated",
                                       "message": "sign in first"}}, status_code=401)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        headers = dict(exc.headers or {})
        if _wants_html(request) and exc.status_code in (403, 404):
            resp = render(request, "error.html", {"status": exc.status_code},
                          status_code=exc.status_code)
            resp.headers.update(headers)
            return resp
        if exc.status_code == 429:
            return PlainTextResponse(
                "Terlalu banyak permintaan / Too many requests\n", status_code=429,
                headers=headers)
        return JSONResponse({"error": {"code": str(exc.status_code),
                                       "message": str(exc.detail)}},
                            status_code=exc.status_code, headers=headers)


def _add_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return render(request, "portal/index.html")  # public landing (portal)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> HTMLResponse:
        if current_user(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)  # type: ignore[return-value]
        return render(request, "login.html", {"next": _safe_next(next), "error": None,
                                              "username": ""})

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/console") -> Any:
        ip = client_ip(request)
        decision = request.app.state.limiters["login"].hit(ip)
        t = translator(_lang(request)[0])
        if not decision.allowed:
            headers = retry_after_header(decision)
            resp = render(request, "login.html", {
                "next": _safe_next(next), "username": username[:64],
                "error": t("login.rate_limited", seconds=headers["Retry-After"])},
                status_code=429)
            resp.headers.update(headers)
            return resp
        store: Store = request.app.state.store
        pw: PasswordService = request.app.state.passwords
        user = users_store.get_user(store, username)
        ok = pw.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            reason = ("unknown_user" if user is None else "bad_password" if not ok
                      else "disabled")
            audit.record(request, "login.failure", username.strip()[:64],
                         {"reason": reason}, actor="anonymous")
            return render(request, "login.html", {
                "next": _safe_next(next), "username": username[:64],
                "error": t("login.failed")}, status_code=401)
        if pw.needs_rehash(user.password_hash):
            user = users_store.set_password_hash(store, user.username,
                                                 pw.hash(password), actor=user.username,
                                                 audit=False)
        users_store.record_login(store, user.id, ip=ip)
        # A new session on sign-in (no session fixation), with a new CSRF token.
        request.session.clear()
        request.session.update(uid=user.id, pwf=_password_fingerprint(user))
        csrf_token(request)
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        user = current_user(request)
        if user is not None:
            audit.record(request, "logout", user.username, {})
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/console", response_class=HTMLResponse)
    def console_home(request: Request,
                     user: Annotated[UserRecord, Depends(require("assessments.view"))],
                     ) -> HTMLResponse:
        rows = request.app.state.store.top_assessments(limit=50)
        return render(request, "home.html", {"rows": rows})
