"""Security building blocks of the web application (issue 5).

- Passwords: argon2id (argon2-cffi), ``PasswordService``.
- Roles and permissions: the table in ``permissions.yaml`` (permission -> roles),
  ``has_permission``, and the FastAPI dependency ``require(permission)``.
- ASGI middlewares (pure ASGI, so they also cover static files and error pages):
  ``ProxyHeadersMiddleware`` (X-Forwarded-Proto / -For, only when
  ``PATROLI_TRUST_PROXY=1``), ``SecurityHeadersMiddleware`` (CSP without inline scripts
  or styles, frame-ancestors 'none', nosniff, no-referrer, HSTS on https),
  ``BodySizeLimitMiddleware`` (413), ``SessionMiddleware`` (signed cookie: HttpOnly,
  SameSite=Lax, Secure on https) and ``CSRFMiddleware`` (synchronizer token in the
  session, checked on every POST/PUT/PATCH/DELETE: form field ``csrf_token`` or header
  ``X-CSRF-Token`` for HTMX).
- Rate limits: token buckets keyed by client IP, in-process (``MemoryTokenBucket``) or
  shared through Redis (``RedisTokenBucket``, when ``PATROLI_REDIS_URL`` is set). An
  in-process bucket counts per process: a deployment with several worker processes or
  hosts needs Redis for the limit to hold.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from patroli.store.users import ROLES, UserRecord

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PERMISSIONS",
    "ROLES",
    "SESSION_COOKIE",
    "BodySizeLimitMiddleware",
    "CSRFMiddleware",
    "MemoryTokenBucket",
    "NotAuthenticated",
    "PasswordPolicyError",
    "PasswordService",
    "ProxyHeadersMiddleware",
    "RateDecision",
    "RateLimiter",
    "RedisTokenBucket",
    "SecurityHeadersMiddleware",
    "SessionMiddleware",
    "check_password_policy",
    "client_ip",
    "csrf_token",
    "has_permission",
    "load_permissions",
    "make_rate_limiter",
    "permissions_of",
    "require",
    "trust_proxy",
]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "patroli_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
PERMISSIONS_FILE = Path(__file__).with_name("permissions.yaml")

# -- passwords ----------------------------------------------------------------------------

MIN_PASSWORD = 10
MAX_PASSWORD = 1024


class PasswordPolicyError(ValueError):
    """The password is too short or too long (message in Bahasa Indonesia / English)."""


def check_password_policy(password: str) -> None:
    """Raise PasswordPolicyError unless ``password`` has 10 to 1024 characters and is not
    all whitespace."""
    if len(password) < MIN_PASSWORD or not password.strip():
        raise PasswordPolicyError(
            f"kata sandi minimal {MIN_PASSWORD} karakter / password needs at least "
            f"{MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordPolicyError(
            f"kata sandi maksimal {MAX_PASSWORD} karakter / password has more than "
            f"{MAX_PASSWORD} characters")


class PasswordService:
    """argon2id hashing and verification.

    fast: tiny cost parameters for tests (never in production); default parameters are
    argon2-cffi's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4).
    """

    def __init__(self, *, fast: bool = False) -> None:
        self._ph = (PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
                    if fast else PasswordHasher())
        # Verified against for unknown usernames, so that a wrong name takes as long
        # as a wrong password (no user enumeration by timing).
        self._dummy = self._ph.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """argon2id PHC string of ``password`` (policy checked: PasswordPolicyError)."""
        check_password_policy(password)
        return self._ph.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; False otherwise (also for a malformed hash or
        ``None``, which still costs one verification)."""
        if len(password) > MAX_PASSWORD:
            return False
        try:
            return self._ph.verify(password_hash or self._dummy, password) and (
                password_hash is not None)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        try:
            return self._ph.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


# -- roles and permissions ------------------------------------------------------------------


@cache
def load_permissions(path: Path = PERMISSIONS_FILE) -> dict[str, frozenset[str]]:
    """The permission table: permission name -> frozenset of roles allowed.

    Raises ValueError when the file names a role outside ``ROLES`` or a permission has
    no role list.
    """
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: dict[str, frozenset[str]] = {}
    for perm, spec in (doc.get("permissions") or {}).items():
        roles = (spec or {}).get("roles")
        if not isinstance(roles, list) or not roles:
            raise ValueError(f"{path.name}: permission {perm!r} has no roles list")
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"{path.name}: permission {perm!r} names unknown roles "
                             f"{sorted(unknown)}")
        table[str(perm)] = frozenset(roles)
    return table


PERMISSIONS: dict[str, frozenset[str]] = load_permissions()


def has_permission(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission``; KeyError for an unknown permission."""
    return role in PERMISSIONS[permission]


def permissions_of(role: str) -> frozenset[str]:
    """Every permission ``role`` holds."""
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)


class NotAuthenticated(Exception):
    """Raised by ``require`` when nobody is signed in (the app answers 401, or redirects
    a browser to the login page)."""


def require(permission: str) -> Callable[[Request], UserRecord]:
    """FastAPI dependency: the signed-in, enabled user holding ``permission``.

    Raises NotAuthenticated when nobody is signed in (or the account was disabled or
    removed since), HTTPException 403 when the user's current role lacks the
    permission. ``require`` itself raises KeyError for a permission missing from the
    table, so a typo fails when the route is declared, not when it is used.
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}; see {PERMISSIONS_FILE.name}")

    def dependency(request: Request) -> UserRecord:
        from patroli.web.app import current_user

        user = current_user(request)
        if user is None:
            raise NotAuthenticated()
        if not has_permission(user.role, permission):
            raise HTTPException(status_code=403, detail="forbidden")
        return user

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


# -- request facts --------------------------------------------------------------------------


def trust_proxy() -> bool:
    """True when ``PATROLI_TRUST_PROXY=1``: the app runs behind a reverse proxy whose
    X-Forwarded-Proto / X-Forwarded-For headers are to be believed."""
    return os.environ.get("PATROLI_TRUST_PROXY", "").strip() == "1"


def client_ip(request: Request) -> str:
    """The client's IP address (after ``ProxyHeadersMiddleware``), or "unknown"."""
    return request.client.host if request.client else "unknown"


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or []:
        if k == name:
            return v.decode("latin-1")
    return None


class ProxyHeadersMiddleware:
    """Take the scheme and client address from X-Forwarded-Proto / X-Forwarded-For,
    only when ``trusted`` (default: ``trust_proxy()``). The last X-Forwarded-For entry
    is the one the trusted proxy added; earlier entries are client-supplied."""

    def __init__(self, app: ASGIApp, *, trusted: bool | None = None) -> None:
        self.app = app
        self.trusted = trust_proxy() if trusted is None else trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            proto = _header(scope, b"x-forwarded-proto")
            if proto:
                p = proto.split(",")[-1].strip().lower()
                if p in ("http", "https"):
                    scope["scheme"] = p if scope["type"] == "http" else (
                        "wss" if p == "https" else "ws")
            fwd = _header(scope, b"x-forwarded-for")
            if fwd:
                host = fwd.split(",")[-1].strip()
                if host:
                    scope["client"] = (host, 0)
        await self.app(scope, receive, send)


#: Path prefix of the token-authenticated REST API (``patroli.web.api``): there the
#: session cookie is ignored (no session, so no cookie-borne authority) and the session
#: CSRF check does not apply; API requests authenticate with ``Authorization: Bearer``.
API_PREFIX = "/api/"


def _api_request(scope: Scope) -> bool:
    """True for a request to the REST API (path under ``API_PREFIX``)."""
    return str(scope.get("path", "")).startswith(API_PREFIX)


def _is_https(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


# -- security headers -----------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response (pages, static files, errors):
    CSP, X-Content-Type-Options, Referrer-Policy, X-Frame-Options,
    Cross-Origin-Opener-Policy, Permissions-Policy; Strict-Transport-Security on https;
    ``Cache-Control: no-store`` on responses that set none (pages show personal data),
    except static files (cached for a day: the portal's users are on slow connections)."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 31536000) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = _is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                add = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if https:
                    add.append((b"strict-transport-security", self.hsts))
                if b"cache-control" not in names:
                    static = str(scope.get("path", "")).startswith("/static/")
                    add.append((b"cache-control",
                                b"public, max-age=86400" if static else b"no-store"))
                headers = [(k, v) for k, v in headers if k.lower() not in
                           {n for n, _ in add}] + add
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- request size -----------------------------------------------------------------------------


async def _plain_response(send: Send, status: int, text: str,
                          extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _limit_response(scope: Scope, send: Send, status: int, code: str,
                          text: str) -> None:
    """``_plain_response``, except under the REST API: the API's JSON error body
    ``{"error": {"code", "message", "details"}}``."""
    if not _api_request(scope):
        await _plain_response(send, status, text)
        return
    import json

    body = json.dumps({"error": {"code": code, "message": text.strip(),
                                 "details": None}}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answer 413 to a request whose body exceeds ``max_bytes``: at once when its
    Content-Length says so, else as soon as the streamed (chunked) body passes the limit
    (while the app has not started answering)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        msg = ("Permintaan terlalu besar / Request too large "
               f"(maks./max. {self.max_bytes} byte)\n")
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                await _limit_response(scope, send, 400, "bad_request",
                                      "Content-Length tidak sah / invalid\n")
                return
            if too_big:
                await _limit_response(scope, send, 413, "too_large", msg)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _limit_response(scope, send, 413, "too_large", msg)


# -- sessions -------------------------------------------------------------------------------------


class SessionMiddleware:
    """Signed-cookie sessions: ``scope["session"]`` is a dict (``request.session``).

    The cookie holds the session as JSON signed with ``secret_key`` (itsdangerous,
    HMAC-SHA1 over a key derived from the secret; content readable by its holder, so it
    keeps ids and a CSRF token only, never secrets), expires after ``max_age`` seconds
    from its last change, and carries HttpOnly, SameSite=Lax, Path=/ and, when the
    request came over https, Secure (and the ``__Host-`` name prefix).
    API requests (path under ``/api/``) get an empty session: the cookie is ignored, so
    they are authenticated by their ``Authorization`` header alone.
    """

    def __init__(self, app: ASGIApp, *, secret_key: str, max_age: int = 8 * 3600) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret_key, salt="patroli.session")
        self.max_age = max_age

    def _cookie_name(self, scope: Scope) -> str:
        return ("__Host-" + SESSION_COOKIE) if _is_https(scope) else SESSION_COOKIE

    def _load(self, scope: Scope) -> dict[str, Any]:
        if _api_request(scope):
            return {}
        raw = _header(scope, b"cookie")
        if not raw:
            return {}
        name = self._cookie_name(scope)
        for part in raw.split(";"):
            k, _, v = part.strip().partition("=")
            if k == name and v:
                try:
                    data = self.serializer.loads(v, max_age=self.max_age)
                except BadSignature:
                    return {}
                return data if isinstance(data, dict) else {}
        return {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        initial = self._load(scope)
        had_cookie = bool(initial)
        session: dict[str, Any] = dict(initial)
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                name = self._cookie_name(scope)
                flags = "; Path=/; HttpOnly; SameSite=Lax" + (
                    "; Secure" if _is_https(scope) else "")
                cookie: str | None = None
                if current and current != initial:
                    value = self.serializer.dumps(current)
                    cookie = f"{name}={value}; Max-Age={self.max_age}{flags}"
                elif not current and had_cookie:
                    cookie = f"{name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{flags}"
                if cookie is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# -- CSRF --------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (put it in every form as the
    hidden field ``csrf_token``, or send it as header ``X-CSRF-Token``)."""
    tok = request.session.get("csrf")
    if not isinstance(tok, str) or len(tok) < 32:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


class CSRFMiddleware:
    """Refuse (403) every POST / PUT / PATCH / DELETE whose token does not match the
    session's CSRF token. The token is read from the ``X-CSRF-Token`` header (HTMX sends
    it from the page's ``<meta name="csrf-token">``) or from the ``csrf_token`` field of
    a url-encoded or multipart form (the body is buffered, so the app reads it again).
    API requests (under ``/api/``) are left to the API's Bearer-token check: the session
    middleware gives them no session, so a browser cannot ride on a cookie there."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS
                or _api_request(scope)):
            await self.app(scope, receive, send)
            return
        session = scope.get("session") or {}
        expected = session.get("csrf")
        token = _header(scope, CSRF_HEADER.encode())
        body_messages: list[Message] = []
        if token is None:
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":  # client went away
                    return
                body_messages.append(message)
                more = bool(message.get("more_body", False))
            token = await self._form_token(scope, body_messages)
        if not (isinstance(expected, str) and token
                and hmac.compare_digest(expected.encode(), token.encode())):
            await _plain_response(
                send, 403, "Token CSRF tidak ada atau tidak sah; muat ulang halaman dan "
                "coba lagi. / CSRF token missing or invalid; reload the page and retry.\n")
            return
        await self.app(scope, _replay(body_messages, receive), send)

    @staticmethod
    async def _form_token(scope: Scope, body_messages: list[Message]) -> str | None:
        ctype = (_header(scope, b"content-type") or "").lower()
        if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return None
        from starlette.requests import Request as StarletteRequest

        async def empty() -> Message:
            return {"type": "http.disconnect"}

        req = StarletteRequest(scope, _replay(body_messages, empty))
        try:
            form = await req.form()
        except Exception:  # malformed body: no token
            return None
        try:
            value = form.get(CSRF_FIELD)
            return value if isinstance(value, str) else None
        finally:
            await form.close()


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive callable that returns the buffered body messages, then defers."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


# -- rate limits ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateDecision:
    """allowed: the request may go on; retry_after: seconds until a token is free."""

    allowed: bool
    retry_after: float


class RateLimiter:
    """Interface of a token bucket limiter: ``hit(key)`` takes one token from ``key``'s
    bucket (capacity ``capacity`` tokens, refilled at ``rate`` tokens per second)."""

    capacity: float
    rate: float

    def hit(self, key: str, cost: float = 1.0) -> RateDecision:  # pragma: no cover
        raise NotImplementedError

    def reset(self) -> None:  # pragma: no cover
        """Forget every bucket (tests, or an admin clearing a lock-out)."""
        raise NotImplementedError


class MemoryTokenBucket(RateLimiter):
    """In-process token buckets (thread-safe). Keeps at most ``max_keys`` buckets,
    forgetting the least recently used (a forgotten bucket is full again). Counts per
    process: with several worker processes use ``RedisTokenBucket``."""

    def __init__(self, capacity: float, rate: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity, self.rate, self.max_keys, self.clock = capacity, rate, max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, cost: float = 1.0) -> RateDecision:
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= cost:
                tokens -= cost
                decision = RateDecision(True, 0.0)
            else:
                decision = RateDecision(False, (cost - tokens) / self.rate)
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return decision

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


_REDIS_SCRIPT = """
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local d = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(d[1])
local ts = tonumber(d[2])
if tokens == nil then tokens = cap; ts = now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 else wait = (cost - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class RedisTokenBucket(RateLimiter):
    """Token buckets kept in Redis (one hash per key, atomic Lua script, Redis's clock),
    shared by every process and host using the same Redis. When Redis fails, falls back
    to an in-process bucket (logged) rather than locking everybody out."""

    def __init__(self, url: str, name: str, capacity: float, rate: float) -> None:
        import redis

        self.capacity, self.rate = capacity, rate
        self.prefix = f"patroli:rl:{name}:"
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0,
                                           socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_REDIS_SCRIPT)
        self._fallback = MemoryTokenBucket(capacity, rate)

    def hit(self, key: str, cost: float = 1.0) -> RateDecision:
        try:
            allowed, wait = self._script(keys=[self.prefix + key],
                                         args=[self.capacity, self.rate, cost])
        except Exception as exc:  # redis.RedisError, OSError: keep limiting locally
            log.warning("rate limit: Redis unavailable (%s); limiting in-process", exc)
            return self._fallback.hit(key, cost)
        return RateDecision(bool(int(allowed)), float(wait))

    def reset(self) -> None:
        for k in self._redis.scan_iter(match=self.prefix + "*"):
            self._redis.delete(k)
        self._fallback.reset()


def make_rate_limiter(name: str, capacity: float, per_seconds: float) -> RateLimiter:
    """A limiter allowing bursts of ``capacity`` requests and ``capacity`` per
    ``per_seconds`` seconds on average: Redis-backed when ``PATROLI_REDIS_URL`` is set,
    else in-process."""
    rate = capacity / per_seconds
    url = os.environ.get("PATROLI_REDIS_URL", "").strip()
    if url:
        return RedisTokenBucket(url, name, capacity, rate)
    return MemoryTokenBucket(capacity, rate)


def retry_after_header(decision: RateDecision) -> dict[str, str]:
    """``{"Retry-After": seconds}`` (whole seconds, at least 1) for a 429 answer."""
    return {"Retry-After": str(max(1, math.ceil(decision.retry_after)))}
