"""Security headers, size limit, permission matrix, rate limiters (issue 5)."""

from __future__ import annotations

import os
import re

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from patroli.store.users import ROLES
from patroli.web.app import create_app, rate_limit
from patroli.web.security import (
    PERMISSIONS,
    MemoryTokenBucket,
    has_permission,
    load_permissions,
    permissions_of,
    require,
)

from .webutil import PASSWORD, csrf_from, login, make_user

HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _check_headers(r) -> None:
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    for d in ("script-src", "style-src"):
        assert directives[d] == "'self'", d  # no 'unsafe-inline', no CDN
    for k, v in HEADERS.items():
        assert r.headers[k] == v, k


def test_security_headers_on_every_response(app: FastAPI, client: TestClient) -> None:
    make_user(app, "vera", "viewer")
    responses = [
        client.get("/login"),
        client.get("/static/patroli.css"),
        client.get("/nowhere", headers={"accept": "text/html"}),
        client.get("/nowhere"),
        client.get("/", follow_redirects=False),  # the public portal's landing page
        client.get("/console", follow_redirects=False),
        client.post("/login", data={}),  # CSRF 403 from the middleware
        client.post("/login", content=b"x" * (3 * 1024 * 1024)),  # 413
        client.get("/healthz"),
    ]
    login(client, "vera")
    responses.append(client.get("/console"))
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 200, 404, 404, 200, 401, 403, 413, 200, 200]
    for r in responses:
        _check_headers(r)
        assert "strict-transport-security" not in r.headers  # plain http
    assert responses[0].headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(app: FastAPI, client: TestClient) -> None:
    make_user(app, "vera", "viewer")
    pages = [client.get("/login").text, client.get("/login?lang=en").text]
    login(client, "vera")
    pages += [client.get("/console").text,
              client.get("/nope", headers={"accept": "text/html"}).text]
    for html in pages:
        low = html.lower()
        assert "<script" not in low and "<style" not in low and " style=" not in low
        assert not re.search(r"\son[a-z]+\s*=", low)  # no onclick= / onload= handlers


def test_request_too_large(app: FastAPI, client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    big = {"username": "a", "password": "b" * (3 * 1024 * 1024), "csrf_token": token}
    r = client.post("/login", data=big)
    assert r.status_code == 413 and "Request too large" in r.text

    def chunks():  # no Content-Length: chunked transfer
        for _ in range(40):
            yield b"x" * (64 * 1024)

    r = client.post("/login", content=chunks(),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    small = create_app(app.state.store.url, secret_key="k" * 40, testing=True,
                       max_body_bytes=100)
    with TestClient(small) as c:
        token = csrf_from(c.get("/login").text)
        assert c.post("/login", data={"csrf_token": token, "username": "x" * 200}
                      ).status_code == 413
        assert c.post("/login", data={"csrf_token": token, "username": "x",
                                      "password": "y"}).status_code == 401
    small.state.store.close()


def test_permission_table_is_sane() -> None:
    assert set(ROLES) == {"admin", "supervisor", "analyst", "viewer"}
    assert permissions_of("admin") == set(PERMISSIONS)  # admin holds everything
    # each role holds what the role below it holds
    for upper, lower in zip(ROLES, ROLES[1:], strict=False):
        assert permissions_of(lower) <= permissions_of(upper), (upper, lower)
    assert has_permission("viewer", "assessments.view")
    assert not has_permission("viewer", "labels.write")
    assert has_permission("analyst", "labels.write")
    assert not has_permission("analyst", "reports.contact.view")
    assert not has_permission("supervisor", "users.manage")
    with pytest.raises(KeyError):
        require("no.such.permission")


def test_permission_table_rejects_unknown_roles(tmp_path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("permissions:\n  x.y:\n    roles: [admin, root]\n")
    with pytest.raises(ValueError, match="root"):
        load_permissions(p)


def test_permission_matrix_every_role_every_permission(app: FastAPI) -> None:
    for perm in PERMISSIONS:
        def view(user=Depends(require(perm))) -> dict:  # noqa: B008
            return {"user": user.username}
        app.add_api_route(f"/_perm/{perm}", view, methods=["GET"])
    for role in ROLES:
        make_user(app, f"u-{role}", role)
    anonymous = TestClient(app)
    for perm in PERMISSIONS:
        assert anonymous.get(f"/_perm/{perm}").status_code == 401
    seen = 0
    for role in ROLES:
        with TestClient(app) as c:
            assert login(c, f"u-{role}").status_code == 303
            for perm, roles in PERMISSIONS.items():
                r = c.get(f"/_perm/{perm}")
                expected = 200 if role in roles else 403
                assert r.status_code == expected, (role, perm, r.status_code)
                seen += 1
    assert seen == len(ROLES) * len(PERMISSIONS)


def test_public_rate_limit_dependency(app: FastAPI, client: TestClient,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.limiters["public"] = MemoryTokenBucket(3, 3 / 60)

    @app.get("/_public")
    def public(_: None = Depends(rate_limit("public"))) -> str:  # noqa: B008
        return "ok"

    assert [client.get("/_public").status_code for _ in range(4)] == [200, 200, 200, 429]
    r = client.get("/_public")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    _check_headers(r)


def test_memory_token_bucket_refills_and_forgets() -> None:
    now = [0.0]
    b = MemoryTokenBucket(2, 1.0, max_keys=3, clock=lambda: now[0])
    assert [b.hit("a").allowed for _ in range(3)] == [True, True, False]
    assert b.hit("a").retry_after == pytest.approx(1.0)
    assert b.hit("b").allowed  # another key has its own bucket
    now[0] = 1.0
    assert b.hit("a").allowed and not b.hit("a").allowed
    for k in "cdef":
        b.hit(k)
    assert len(b._buckets) == 3  # bounded memory
    with pytest.raises(ValueError):
        MemoryTokenBucket(0, 1)


def _redis_url() -> str:
    url = os.environ.get("PATROLI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc}")
    return url


def test_redis_token_bucket_is_shared_between_limiters() -> None:
    from patroli.web.security import RedisTokenBucket

    url = _redis_url()
    a = RedisTokenBucket(url, "test-shared", 3, 3 / 60)
    b = RedisTokenBucket(url, "test-shared", 3, 3 / 60)  # e.g. another worker process
    a.reset()
    try:
        assert a.hit("1.2.3.4").allowed and b.hit("1.2.3.4").allowed
        assert a.hit("1.2.3.4").allowed
        d = b.hit("1.2.3.4")
        assert not d.allowed and 0 < d.retry_after <= 20.5
        assert a.hit("5.6.7.8").allowed
    finally:
        a.reset()


def test_redis_limiter_falls_back_when_redis_is_down() -> None:
    from patroli.web.security import RedisTokenBucket

    b = RedisTokenBucket("redis://127.0.0.1:1/0", "down", 1, 1 / 60)
    assert b.hit("k").allowed and not b.hit("k").allowed


def test_login_limit_uses_redis_when_configured(tmp_path, monkeypatch) -> None:
    url = _redis_url()
    monkeypatch.setenv("PATROLI_REDIS_URL", url)
    monkeypatch.setenv("PATROLI_LOGIN_RATE", "2/60")
    app = create_app(f"sqlite:///{tmp_path / 'r.db'}", secret_key="k" * 40, testing=True)
    app.state.limiters["login"].reset()
    try:
        make_user(app, "ana", "analyst")
        with TestClient(app) as c:
            assert login(c, "ana", "salah-salah-salah").status_code == 401
            assert login(c, "ana", PASSWORD).status_code == 303
            c.cookies.clear()
            assert login(c, "ana", PASSWORD).status_code == 429
    finally:
        app.state.limiters["login"].reset()
        app.state.store.close()


def test_bad_settings_fail_clearly(tmp_path, monkeypatch) -> None:
    with pytest.raises(ValueError, match="32"):
        create_app(f"sqlite:///{tmp_path / 'x.db'}", secret_key="short", testing=True)
    monkeypatch.setenv("PATROLI_LOGIN_RATE", "many")
    with pytest.raises(ValueError, match="PATROLI_LOGIN_RATE"):
        create_app(f"sqlite:///{tmp_path / 'x.db'}", secret_key="k" * 40, testing=True)


def test_authorization_header_bypasses_session_only_under_api(app: FastAPI,
                                                               client: TestClient) -> None:
    make_user(app, "ana", "analyst")
    login(client, "ana")
    bearer = {"authorization": "Bearer abc"}
    # outside /api/ the header changes nothing: the session counts, CSRF is checked
    assert client.get("/console", headers=bearer).status_code == 200
    assert client.post("/logout", headers=bearer).status_code == 403

    @app.post("/api/v1/_echo")
    def echo(request: Request) -> dict:
        return {"session": dict(request.session)}

    # under /api/ with a token: no CSRF check, and the session cookie is ignored
    r = client.post("/api/v1/_echo", headers=bearer)
    assert r.status_code == 200 and r.json() == {"session": {}}
    # under /api/ without a token: the cookie is ignored as well (no session, so no
    # cookie-borne authority and no CSRF check; the API authenticates by Bearer only)
    r = client.post("/api/v1/_echo")
    assert r.status_code == 200 and r.json() == {"session": {}}


def test_static_files_are_cacheable(client: TestClient) -> None:
    r = client.get("/static/patroli.css")
    assert r.headers["cache-control"] == "public, max-age=86400"
    assert r.headers["content-type"].startswith("text/css")
