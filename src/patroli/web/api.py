"""REST API ``/api/v1`` (issue 5): submit posts, read assessments, check a text, submit
reports, search entities; OpenAPI schema and docs.

Mounted by ``create_app`` with ``app.include_router(api.router)``.

Authentication: ``Authorization: Bearer <token>``. Tokens are made by an admin with
``patroli token create NAME --scope ...`` (``patroli.cli_api``); the store keeps only
their SHA-256 hex digest (``patroli.store.users``). Each token holds scopes (``SCOPES``):

====================  ================================================================
scope                 allows
====================  ================================================================
``posts:write``       ``POST /posts``, ``POST /posts/batch``
``assessments:read``  ``GET /assessments``, ``GET /assessments/{post_key}``
``check``             ``POST /check`` without the public rate limit
``reports:write``     ``POST /reports`` without the public rate limit
``entities:read``     ``GET /entities/search``
====================  ================================================================

``POST /check`` and ``POST /reports`` are also open WITHOUT a token (the public portal's
functions), limited per client IP by ``rate_limit("public")``; a request that sends a
token must send a valid one with the scope (401 / 403 otherwise), and is then not rate
limited.

The session cookie plays no part under ``/api/`` (``patroli.web.security`` gives API
requests no session and no CSRF check), so a browser cannot be made to act through it.

Errors always have the body ``{"error": {"code": str, "message": str, "details": any}}``
(codes: bad_request, invalid_cursor, not_authenticated, invalid_token,
insufficient_scope, not_found, too_large, validation_error, rate_limited,
not_implemented, internal_error). Errors raised before the API's routes run (an unknown
``/api/v1`` path, a body over the size limit) come from the app and the middleware in the
same ``{"error": ...}`` shape.

Pagination of ``GET /assessments``: keyset on (risk score descending, assessment id
descending); ``next_cursor`` is an opaque string to send back as ``cursor``; pages stay
consistent while new assessments arrive (nothing is skipped or repeated).

The API never computes a risk score itself: it calls ``patroli.analysis`` and reads the
store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, or_, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from patroli.store import Store
from patroli.store.models import AssessmentRow, EntityRow, PostRow
from patroli.store.users import ApiTokenRecord, token_by_hash
from patroli.types import ENTITY_KINDS, LABELS, LEVELS, Assessment, Post, content_key
from patroli.web import audit, services

__all__ = [
    "API_VERSION",
    "MAX_BATCH",
    "PREFIX",
    "SCOPES",
    "ApiError",
    "hash_token",
    "new_token",
    "router",
]

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
API_VERSION = "1.0.0"
#: Token scopes (see the module docstring).
SCOPES: tuple[str, ...] = ("posts:write", "assessments:read", "check", "reports:write",
                           "entities:read")
#: Most posts in one ``POST /posts/batch``.
MAX_BATCH = 500
#: Longest text accepted (characters) for a post or a check.
MAX_TEXT = 100_000
#: Name of the scan run that API submissions are stored under.
RUN_SOURCE = "api"
#: Default ``Post.source`` of API-submitted posts.
DEFAULT_SOURCE = "api"
TOKEN_PREFIX = "ptk_"
#: ``last_used_at`` of a token is written at most this often (saves a write per call).
TOUCH_EVERY = timedelta(seconds=60)

_a = AssessmentRow.__table__
_p = PostRow.__table__
_e = EntityRow.__table__


# -- errors ---------------------------------------------------------------------------------


class ApiError(StarletteHTTPException):
    """An API error with a machine-readable ``code`` and optional ``details``; answered as
    ``{"error": {"code", "message", "details"}}`` with ``status_code``."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.details = details


_STATUS_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden",
                 404: "not_found", 405: "method_not_allowed", 413: "too_large",
                 415: "unsupported_media_type", 422: "validation_error",
                 429: "rate_limited", 500: "internal_error", 501: "not_implemented"}


def _error_response(status: int, code: str, message: str, details: Any = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}},
                        status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the offending input (it may be large or personal)."""
    out = []
    for err in exc.errors():
        out.append({"loc": [str(x) for x in err.get("loc", ())],
                    "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return out


def _too_large_cause(exc: BaseException) -> BaseException | None:
    """The body-size middleware's signal, if it caused ``exc`` (it must reach the
    middleware, which answers 413)."""
    from patroli.web import security

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, security._TooLarge):  # noqa: SLF001 - same package
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class _ApiRoute(APIRoute):
    """Route class of the API: turns every error of an API route (validation, HTTP,
    unexpected) into the API's JSON error body, leaving the app's HTML error pages to
    the other routes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def api_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _error_response(422, "validation_error",
                                       "permintaan tidak sah / invalid request",
                                       _validation_details(exc))
            except ApiError as exc:
                return _error_response(exc.status_code, exc.code, str(exc.detail),
                                       exc.details, dict(exc.headers or {}) or None)
            except StarletteHTTPException as exc:
                cause = _too_large_cause(exc)
                if cause is not None:
                    raise cause from None
                code = _STATUS_CODES.get(exc.status_code, str(exc.status_code))
                message = str(exc.detail)
                if exc.status_code == 429:
                    message = "terlalu banyak permintaan / too many requests"
                return _error_response(exc.status_code, code, message, None,
                                       dict(exc.headers or {}) or None)
            except Exception as exc:
                cause = _too_large_cause(exc)
                if cause is not None:
                    raise cause from None
                log.exception("API error on %s %s", request.method, request.url.path)
                return _error_response(500, "internal_error",
                                       "kesalahan server / internal server error")

        return api_handler


_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {}


class ErrorInfo(BaseModel):
    """The ``error`` member of every error body."""

    code: str = Field(description="machine-readable code, e.g. 'invalid_token'")
    message: str = Field(description="human-readable message (Bahasa Indonesia / English)")
    details: Any = Field(default=None, description="extra facts, e.g. validation errors")


class ErrorBody(BaseModel):
    """Body of every API error response."""

    error: ErrorInfo


for _status in (400, 401, 403, 404, 413, 422, 429, 500):
    _ERROR_RESPONSES[_status] = {"model": ErrorBody}

router = APIRouter(prefix=PREFIX, route_class=_ApiRoute, responses=_ERROR_RESPONSES,
                   tags=["api"])


# -- tokens ---------------------------------------------------------------------------------


def new_token() -> str:
    """A new random API token: ``"ptk_"`` + 43 URL-safe characters (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                     description="API token: `Authorization: Bearer ptk_...`")


def _lookup_token(request: Request, credentials: HTTPAuthorizationCredentials | None,
                  ) -> ApiTokenRecord | None:
    """The token of this request; None when none was sent; ApiError 401 when the header
    is malformed or the token unknown or revoked."""
    raw_header = request.headers.get("authorization")
    if raw_header is None:
        return None
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(401, "invalid_token", "header Authorization harus 'Bearer <token>' / "
                       "Authorization header must be 'Bearer <token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    store: Store = request.app.state.store
    digest = hash_token(credentials.credentials.strip())
    rec = token_by_hash(store, digest, touch=False)
    if rec is None:
        raise ApiError(401, "invalid_token", "token tidak dikenal atau dicabut / unknown "
                       "or revoked token",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    now = datetime.now(UTC)
    if rec.last_used_at is None or now - rec.last_used_at > TOUCH_EVERY:
        token_by_hash(store, digest, touch=True)
    request.state.api_token = rec
    return rec


def _check_scope(rec: ApiTokenRecord, scope: str) -> None:
    if scope not in rec.scopes:
        raise ApiError(403, "insufficient_scope", f"token tidak punya izin '{scope}' / "
                       f"token lacks the '{scope}' scope", {"required_scope": scope},
                       headers={"WWW-Authenticate":
                                f'Bearer error="insufficient_scope", scope="{scope}"'})


def token_scope(scope: str) -> Callable[..., ApiTokenRecord]:
    """FastAPI dependency: the request's valid token holding ``scope`` (401 without a
    valid token, 403 without the scope)."""
    if scope not in SCOPES:
        raise KeyError(f"unknown API scope {scope!r}")

    def dependency(request: Request, credentials: Annotated[
            HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiTokenRecord:
        rec = _lookup_token(request, credentials)
        if rec is None:
            raise ApiError(401, "not_authenticated", "perlu token API / API token required",
                           headers={"WWW-Authenticate": "Bearer"})
        _check_scope(rec, scope)
        return rec

    dependency.__name__ = f"token_{scope.replace(':', '_')}"
    return dependency


def token_or_public_limit(scope: str) -> Callable[..., ApiTokenRecord | None]:
    """FastAPI dependency for endpoints open to the public: with a token, it must be
    valid and hold ``scope`` (no rate limit); without one, the ``public`` rate limit of
    the client IP applies (429 when spent). Returns the token or None."""

    def dependency(request: Request, credentials: Annotated[
            HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiTokenRecord | None:
        rec = _lookup_token(request, credentials)
        if rec is not None:
            _check_scope(rec, scope)
            return rec
        from patroli.web.app import rate_limit

        rate_limit("public")(request)
        return None

    dependency.__name__ = f"token_or_public_{scope.replace(':', '_')}"
    return dependency


def _actor(rec: ApiTokenRecord | None) -> str:
    return f"api:{rec.id}:{rec.name}" if rec is not None else "anonymous"


# -- analysis helpers -----------------------------------------------------------------------



def _verifier(request: Request) -> Any:
    """The app's verifier (``services.app_verifier``: registry + watch lists, cached)."""
    return services.app_verifier(request.app)


# -- models ---------------------------------------------------------------------------------

Level = Literal["high", "medium", "low"]
LabelName = Literal["illegal", "legitimate", "awareness", "other"]
EntityKind = Literal[ENTITY_KINDS]  # type: ignore[valid-type]
assert tuple(Level.__args__) == LEVELS and tuple(LabelName.__args__) == LABELS  # type: ignore[attr-defined]


class PostIn(BaseModel):
    """A post to analyse and store."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="the text as written")
    key: str | None = Field(default=None, min_length=1, max_length=256,
                            description="stable id within the source (default: a hash of "
                            "source and text); resubmitting a key updates that post")
    source: str = Field(default=DEFAULT_SOURCE, min_length=1, max_length=200,
                        description="the sending system or feed name")
    platform: str | None = Field(default=None, max_length=40,
                                 description="facebook / instagram / tiktok / telegram / "
                                 "whatsapp / x / web")
    url: str | None = Field(default=None, max_length=4096)
    author: str | None = Field(default=None, max_length=500)
    posted_at: datetime | None = Field(default=None, description="ISO 8601; a time "
                                       "without an offset is taken as UTC")
    language: str | None = Field(default=None, max_length=20)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank")
        return v

    @field_validator("posted_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    def to_post(self) -> Post:
        key = self.key if self.key is not None else content_key(self.text, self.source)
        return Post(key=key, text=self.text, source=self.source, platform=self.platform,
                    url=self.url, author=self.author, posted_at=self.posted_at,
                    language=self.language, raw=None, location="api")


class BatchIn(BaseModel):
    """Up to ``MAX_BATCH`` posts."""

    model_config = ConfigDict(extra="forbid")

    posts: list[PostIn] = Field(min_length=1, max_length=MAX_BATCH)


class CheckIn(BaseModel):
    """A text to analyse without storing it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    platform: str | None = Field(default=None, max_length=40)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank")
        return v


class FindingOut(BaseModel):
    """One red flag found, with its evidence spans (character offsets into the text)."""

    indicator: str
    weight: float
    spans: list[tuple[int, int]]
    title_id: str = ""
    title_en: str = ""
    explanation_id: str = ""
    explanation_en: str = ""
    category: str | None = None


class EntityOut(BaseModel):
    """An extracted entity; ``value`` normalised (E.164 phone, lower-case host...)."""

    kind: str
    value: str
    span: tuple[int, int] | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class AssessmentOut(BaseModel):
    """The analysis of one post (scores 0-100; level high >= 70, medium >= 40)."""

    post_key: str
    source: str | None = Field(default=None, description="None for an unstored check")
    risk_score: int = Field(ge=0, le=100)
    level: str
    label: str
    probabilities: dict[str, float]
    indicators: list[str]
    findings: list[FindingOut]
    entities: list[EntityOut]
    verification: dict[str, Any]
    rule_set_version: str
    model_version: str | None
    analyzed_at: datetime


class SubmitOut(BaseModel):
    """Answer to ``POST /posts``."""

    run_id: int
    new: bool = Field(description="False when the post was stored before (updated)")
    assessment: AssessmentOut


class BatchItemOut(BaseModel):
    """Summary of one post of a batch (full assessments: ``GET /assessments/{key}``)."""

    post_key: str
    source: str
    risk_score: int
    level: str
    label: str
    indicators: list[str]


class BatchOut(BaseModel):
    """Answer to ``POST /posts/batch``: items in the order sent."""

    run_id: int
    n_posts: int
    n_new: int
    items: list[BatchItemOut]


class AssessmentPage(BaseModel):
    """One page of assessments, highest risk first."""

    items: list[AssessmentOut]
    limit: int
    next_cursor: str | None = Field(description="send as ?cursor= for the next page; "
                                    "null on the last page")


class PostRef(BaseModel):
    """A stored post holding an entity value, with its latest assessment's figures."""

    post_key: str
    source: str
    platform: str | None
    url: str | None
    excerpt: str
    risk_score: int
    level: str
    label: str
    analyzed_at: datetime


class EntityCount(BaseModel):
    """An entity value and how many posts share it."""

    kind: str
    value: str
    n_posts: int
    max_risk: int | None


class EntitySearchOut(BaseModel):
    """Posts sharing an entity value (``value`` given), or the most shared values of a
    kind (``value`` omitted: ``top_values``)."""

    kind: str
    value: str | None
    n_posts: int
    posts: list[PostRef]
    top_values: list[EntityCount]


class ContactIn(BaseModel):
    """The reporter's contact (all optional; personal data, stored encrypted and shown
    only to roles that may see it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=254)


#: Longest ``screenshot_base64`` accepted (base64 of ``MAX_IMAGE_BYTES``).
_SCREENSHOT_B64_MAX = 4 * ((2 * 1024 * 1024 + 2) // 3)


class ReportIn(BaseModel):
    """A report of a suspected illegal recruiter (what the public portal's form sends)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["url", "account", "phone", "text"] = Field(
        description="what is reported")
    value: str = Field(min_length=1, max_length=20_000,
                       description="the URL, account, phone number or message text")
    description: str = Field(default="", max_length=5000)
    platform: str | None = Field(default=None, max_length=40)
    contact: ContactIn | None = None
    screenshot_base64: str | None = Field(
        default=None, max_length=_SCREENSHOT_B64_MAX,
        description="optional screenshot of the ad: a JPEG, PNG, WebP or GIF file in "
                    "standard base64, at most 2 MiB decoded (and within the request size "
                    "limit); it is re-encoded without metadata, like the portal's upload")

    @field_validator("value")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("value is blank")
        return v.strip()


class ReportOut(BaseModel):
    """The receipt of a report: its code follows the report's status on the portal's
    status page (which shows nothing personal)."""

    receipt: str
    status: str
    status_url: str


# -- conversions ----------------------------------------------------------------------------


def _assessment_out(a: Assessment, source: str | None) -> AssessmentOut:
    d = a.to_dict()
    return AssessmentOut(
        post_key=a.post_key, source=source, risk_score=a.risk_score, level=a.level,
        label=a.label, probabilities=dict(a.probabilities), indicators=a.indicators,
        findings=[FindingOut(**f) for f in d["findings"]],
        entities=[EntityOut(kind=e.kind, value=e.value, span=tuple(e.span) if e.span else None,
                            data=_jsonable(e.data)) for e in a.entities],
        verification=_jsonable(a.verification), rule_set_version=a.rule_set_version,
        model_version=a.model_version or None, analyzed_at=a.analyzed_at)


def _jsonable(obj: Any) -> Any:
    """A JSON-safe copy (dates as ISO strings, sets as lists, NaN as None)."""
    return json.loads(json.dumps(obj, default=_json_default, allow_nan=True),
                      parse_constant=lambda _c: None)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def _finding_out(f: dict[str, Any]) -> FindingOut:
    return FindingOut(
        indicator=str(f.get("indicator", "")), weight=float(f.get("weight") or 0.0),
        spans=[(int(s[0]), int(s[1])) for s in f.get("spans") or [] if len(s) == 2],
        title_id=f.get("title_id") or "", title_en=f.get("title_en") or "",
        explanation_id=f.get("explanation_id") or "",
        explanation_en=f.get("explanation_en") or "", category=f.get("category"))


def _rows_out(conn: Any, rows: list[Any]) -> list[AssessmentOut]:
    """AssessmentOut for assessment rows joined with their post's key and source."""
    ids = [r.id for r in rows]
    ents: dict[int, list[EntityOut]] = {i: [] for i in ids}
    for start in range(0, len(ids), 900):
        q = select(_e).where(_e.c.assessment_id.in_(ids[start:start + 900])).order_by(_e.c.id)
        for e in conn.execute(q):
            span = (None if e.span_start is None or e.span_end is None
                    else (int(e.span_start), int(e.span_end)))
            ents[e.assessment_id].append(EntityOut(kind=e.kind, value=e.value, span=span,
                                                   data=e.data or {}))
    out = []
    for r in rows:
        findings = [_finding_out(f) for f in (r.findings or []) if isinstance(f, dict)]
        out.append(AssessmentOut(
            post_key=r.key, source=r.source, risk_score=int(r.risk_score), level=r.level,
            label=r.label, probabilities=dict(r.probabilities or {}),
            indicators=[f.indicator for f in findings], findings=findings,
            entities=ents[r.id], verification=r.verification or {},
            rule_set_version=r.rule_set_version, model_version=r.model_version or None,
            analyzed_at=r.analyzed_at))
    return out


def _assessment_select() -> Any:
    return select(_a, _p.c.key, _p.c.source).join_from(_a, _p, _p.c.id == _a.c.post_id)


def _encode_cursor(risk: int, aid: int) -> str:
    raw = json.dumps([int(risk), int(aid)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        pad = "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(cursor + pad).decode())
        risk, aid = data
        if type(risk) is not int or type(aid) is not int:
            raise ValueError
        return risk, aid
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor tidak sah / invalid cursor") from None


def _store_items(request: Request, posts: list[Post], rec: ApiTokenRecord,
                 ) -> tuple[int, int, list[Assessment]]:
    """Analyse and store posts under a scan run named ``RUN_SOURCE``: (run id, new posts,
    assessments in order). The run is marked failed when storing fails."""
    from patroli.analysis import analyze_batch

    store: Store = request.app.state.store
    assessments = analyze_batch(posts, verifier=_verifier(request))
    run_id = store.start_run(RUN_SOURCE, {"token": rec.name, "token_id": rec.id,
                                          "n_posts": len(posts)})
    try:
        n_new = store.save_batch(run_id, list(zip(posts, assessments, strict=True)))
    except BaseException:
        store.finish_run(run_id, status="failed", counts={"posts_read": len(posts)})
        raise
    store.finish_run(run_id, status="completed",
                     counts={"posts_read": len(posts), "posts_new": n_new,
                             "posts_analyzed": len(posts)})
    audit.record(request, "api.posts.submit", f"run:{run_id}",
                 {"n_posts": len(posts), "n_new": n_new}, actor=_actor(rec))
    return run_id, n_new, assessments


# -- routes ---------------------------------------------------------------------------------


@router.post("/posts", response_model=SubmitOut, status_code=201,
             summary="Kirim satu posting / submit one post")
def submit_post(request: Request, body: PostIn,
                rec: Annotated[ApiTokenRecord, Depends(token_scope("posts:write"))],
                ) -> SubmitOut:
    """Analyse one post and store it (idempotent on (source, key)); scope
    ``posts:write``."""
    post = body.to_post()
    run_id, n_new, (assessment,) = _store_items(request, [post], rec)
    return SubmitOut(run_id=run_id, new=n_new > 0,
                     assessment=_assessment_out(assessment, post.source))


@router.post("/posts/batch", response_model=BatchOut, status_code=201,
             summary="Kirim banyak posting / submit a batch of posts")
def submit_batch(request: Request, body: BatchIn,
                 rec: Annotated[ApiTokenRecord, Depends(token_scope("posts:write"))],
                 ) -> BatchOut:
    """Analyse up to 500 posts (``MAX_BATCH``) together and store them in one transaction
    (a repeated (source, key) in the batch keeps the last); scope ``posts:write``."""
    posts = [p.to_post() for p in body.posts]
    run_id, n_new, assessments = _store_items(request, posts, rec)
    items = [BatchItemOut(post_key=a.post_key, source=p.source, risk_score=a.risk_score,
                          level=a.level, label=a.label, indicators=a.indicators)
             for p, a in zip(posts, assessments, strict=True)]
    return BatchOut(run_id=run_id, n_posts=len(posts), n_new=n_new, items=items)


@router.get("/assessments", response_model=AssessmentPage,
            summary="Daftar penilaian / list assessments")
def list_assessments(
    request: Request,
    rec: Annotated[ApiTokenRecord, Depends(token_scope("assessments:read"))],
    level: Annotated[Level | None, Query(description="high / medium / low")] = None,
    label: Annotated[LabelName | None, Query()] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="next_cursor of the previous page")
                      ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AssessmentPage:
    """Assessments, highest risk first (then newest id), filtered by level, label and
    source; paginated by an opaque cursor. Scope ``assessments:read``."""
    q = _assessment_select()
    if level is not None:
        q = q.where(_a.c.level == level)
    if label is not None:
        q = q.where(_a.c.label == label)
    if source is not None:
        q = q.where(_p.c.source == source)
    if cursor:
        risk, aid = _decode_cursor(cursor)
        q = q.where(or_(_a.c.risk_score < risk,
                        and_(_a.c.risk_score == risk, _a.c.id < aid)))
    q = q.order_by(_a.c.risk_score.desc(), _a.c.id.desc()).limit(limit + 1)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
        more = len(rows) > limit
        rows = rows[:limit]
        items = _rows_out(conn, rows)
    nxt = _encode_cursor(rows[-1].risk_score, rows[-1].id) if more and rows else None
    return AssessmentPage(items=items, limit=limit, next_cursor=nxt)


@router.get("/assessments/{post_key:path}", response_model=AssessmentOut,
            summary="Penilaian satu posting / the assessment of one post")
def get_assessment(
    request: Request,
    rec: Annotated[ApiTokenRecord, Depends(token_scope("assessments:read"))],
    post_key: Annotated[str, PathParam(min_length=1, max_length=256)],
    source: Annotated[str | None, Query(max_length=200, description="the post's source "
                                        "(keys are unique per source)")] = None,
) -> AssessmentOut:
    """The latest assessment of the post with this key (of ``source`` when given; else
    of any source, the most recent). Scope ``assessments:read``; 404 when unknown."""
    q = _assessment_select().where(_p.c.key == post_key)
    if source is not None:
        q = q.where(_p.c.source == source)
    q = q.order_by(_a.c.analyzed_at.desc(), _a.c.id.desc()).limit(1)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
        if not rows:
            raise ApiError(404, "not_found", "posting tidak ditemukan / no such post",
                           {"post_key": post_key, "source": source})
        return _rows_out(conn, rows)[0]


@router.post("/check", response_model=AssessmentOut,
             summary="Cek teks tanpa menyimpan / check a text without storing it")
def check_text(
    request: Request, body: CheckIn,
    rec: Annotated[ApiTokenRecord | None, Depends(token_or_public_limit("check"))],
) -> AssessmentOut:
    """Analyse a text (red flags, entities, registry check) and store nothing. Open
    without a token (rate limited per IP: ``PATROLI_PUBLIC_RATE``); a token with scope
    ``check`` lifts the limit."""
    from patroli.analysis import analyze

    post = Post(key=content_key(body.text, "api:check"), text=body.text, source="api:check",
                platform=body.platform)
    return _assessment_out(analyze(post, verifier=_verifier(request)), None)


@router.post("/reports", response_model=ReportOut, status_code=201,
             summary="Kirim laporan / submit a report",
             )
def submit_report(
    request: Request, body: ReportIn,
    rec: Annotated[ApiTokenRecord | None, Depends(token_or_public_limit("reports:write"))],
) -> ReportOut:
    """Report a suspected illegal recruiter (URL, account, phone number or message
    text), optionally with a screenshot (``screenshot_base64``). Like the portal's
    *Lapor* form: the report is analysed and enters the analyst queue as a post (source
    ``portal-report``, key = receipt code); the contact is encrypted; the screenshot is
    re-encoded without metadata (400 with the reason when it is not an acceptable
    image). Open without a token (rate limited); scope ``reports:write`` lifts the
    limit."""
    from patroli.web.portal_images import ImageRejected, sanitize_image

    contact = body.contact.model_dump() if body.contact is not None else {}
    image = None
    if body.screenshot_base64:
        try:
            data = base64.b64decode(body.screenshot_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "bad_request", "screenshot_base64 bukan base64 yang sah / "
                           "is not valid base64") from None
        try:
            image = sanitize_image(data)
        except ImageRejected as exc:
            raise ApiError(400, "bad_request", f"tangkapan layar ditolak / screenshot "
                           f"refused ({exc.reason}): {exc}", {"reason": exc.reason}) from None
    try:
        report, assessment = services.intake_report(
            request.app, kind=body.kind, content=body.value, description=body.description,
            platform=body.platform, contact=contact, via="api",
            screenshot=image.data if image else None,
            screenshot_mime=image.mime if image else None,
            location="api:/api/v1/reports")
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    code = str(report["receipt_code"])
    audit.record(request, "report.create", f"report:{report['id']}",
                 {"via": "api", "kind": body.kind, "platform": body.platform,
                  "has_contact": any(v.strip() for v in contact.values()),
                  "has_screenshot": image is not None, "level": assessment.level},
                 actor=_actor(rec))
    return ReportOut(receipt=code, status=str(report["status"]),
                     status_url=f"/lapor/status/{code}")


@router.get("/entities/search", response_model=EntitySearchOut,
            summary="Cari entitas / search posts sharing an entity")
def search_entities(
    request: Request,
    rec: Annotated[ApiTokenRecord, Depends(token_scope("entities:read"))],
    kind: Annotated[EntityKind, Query(description="entity kind, e.g. phone")],
    value: Annotated[str | None, Query(min_length=1, max_length=500,
                                       description="the value, as stored or as typed "
                                       "('0812-0000-3185'); omit for the most shared "
                                       "values of the kind")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EntitySearchOut:
    """Every stored post holding an entity value (phone numbers, handles, domains are
    normalised first), highest risk first; without ``value``, the most shared values of
    ``kind`` with their post counts. Scope ``entities:read``."""
    store: Store = request.app.state.store
    if value is None:
        counts = [EntityCount(**c) for c in store.entity_counts(kind, limit=limit)]
        return EntitySearchOut(kind=kind, value=None, n_posts=0, posts=[], top_values=counts)
    rows = store.posts_with_entity(kind, value, limit=limit)
    posts = [PostRef(post_key=r["key"], source=r["source"], platform=r["platform"],
                     url=r["url"], excerpt=r["excerpt"], risk_score=int(r["risk_score"]),
                     level=r["level"], label=r["label"], analyzed_at=r["analyzed_at"])
             for r in rows]
    return EntitySearchOut(kind=kind, value=value, n_posts=len(posts), posts=posts,
                           top_values=[])


# -- OpenAPI and docs -------------------------------------------------------------------------

_DOCS_HTML = Path(__file__).resolve().parent / "templates" / "api" / "docs.html"
_openapi_lock = threading.Lock()


def api_openapi() -> dict[str, Any]:
    """The OpenAPI 3 document of the API (the routes of ``router`` only)."""
    routes = [r for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    return get_openapi(
        title="patroli API", version=API_VERSION, routes=routes,
        description=("REST API patroli siber / patroli cyber-patrol REST API. "
                     "Autentikasi: `Authorization: Bearer <token>` (token dibuat admin "
                     "dengan `patroli token create`). Semua galat berbentuk "
                     "`{\"error\": {\"code\", \"message\", \"details\"}}`."))


@router.get("/openapi.json", include_in_schema=False)
def openapi_json(request: Request) -> JSONResponse:
    """The API's OpenAPI schema (only ``/api/v1`` routes)."""
    state = request.app.state
    doc = getattr(state, "api_openapi", None)
    if doc is None:
        with _openapi_lock:
            doc = getattr(state, "api_openapi", None) or api_openapi()
            state.api_openapi = doc
    return JSONResponse(doc, headers={"Cache-Control": "no-cache"})


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def docs_page() -> HTMLResponse:
    """Swagger UI for the schema (vendored static files, no inline script)."""
    return HTMLResponse(_DOCS_HTML.read_text(encoding="utf-8"))
