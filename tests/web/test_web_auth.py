"""Login, logout, sessions, CSRF, rate limits, escaping (issue 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from patroli.store.audit import entries, verify_chain
from patroli.store.users import get_user, set_disabled, set_password_hash, set_role
from patroli.types import Assessment, Post
from patroli.web.security import PasswordService

from .webutil import PASSWORD, csrf_from, login, make_user


def test_login_logout_round_trip(app: FastAPI, client: TestClient) -> None:
    make_user(app, "ana", "analyst", display_name="Ana Analis")
    assert client.get("/console", headers={"accept": "text/html"},
                      follow_redirects=False).status_code == 303
    r = login(client, "ANA")  # usernames are case-insensitive
    assert r.status_code == 303 and r.headers["location"] == "/console"
    home = client.get("/console")
    assert home.status_code == 200 and "Ana Analis" in home.text
    assert get_user(app.state.store, "ana").last_login_at is not None
    out = client.post("/logout", data={"csrf_token": csrf_from(home.text)},
                      follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 401
    actions = [e.action for e in entries(app.state.store)]
    assert actions[:2] == ["logout", "login.success"]
    assert verify_chain(app.state.store) == (True, None)


def test_login_redirects_only_to_local_paths(app: FastAPI, client: TestClient) -> None:
    make_user(app, "ana", "analyst")
    r = login(client, "ana", next="https://evil.example/")
    assert r.headers["location"] == "/console"
    client.cookies.clear()
    r = login(client, "ana", next="//evil.example/x")
    assert r.headers["location"] == "/console"
    client.cookies.clear()
    r = login(client, "ana", next="/console?x=1")
    assert r.headers["location"] == "/console?x=1"


@pytest.mark.parametrize("who", ["wrong_password", "unknown_user", "disabled"])
def test_failed_login_is_generic_and_audited(app: FastAPI, client: TestClient, who: str) -> None:
    make_user(app, "ana", "analyst")
    if who == "disabled":
        set_disabled(app.state.store, "ana", True, actor="test")
    name = "nobody" if who == "unknown_user" else "ana"
    r = login(client, name, PASSWORD if who == "disabled" else "salah-salah-salah")
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in r.text
    assert client.get("/console", follow_redirects=False).status_code == 401
    last = entries(app.state.store, 1)[0]
    assert (last.action, last.actor, last.target) == ("login.failure", "anonymous", name)
    assert last.details["reason"] == {"wrong_password": "bad_password"}.get(who, who)
    assert last.details["ip"] == "testclient"


def test_login_rate_limited_after_five_attempts(app: FastAPI, client: TestClient) -> None:
    make_user(app, "ana", "analyst")
    for _ in range(5):
        assert login(client, "ana", "salah-salah-salah").status_code == 401
    r = login(client, "ana")  # even the right password is refused now
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "Terlalu banyak percobaan" in r.text
    failures = [e for e in entries(app.state.store) if e.action == "login.failure"]
    assert len(failures) == 5


def test_rate_limit_is_per_client_ip(app: FastAPI, client: TestClient,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(app, "ana", "analyst")
    for _ in range(5):
        login(client, "ana", "salah-salah-salah")
    assert login(client, "ana").status_code == 429
    # behind a trusted proxy the client IP comes from X-Forwarded-For
    monkeypatch.setenv("PATROLI_TRUST_PROXY", "1")
    from patroli.web.app import create_app

    app2 = create_app(app.state.store.url, secret_key="k" * 40, testing=True)
    with TestClient(app2, headers={"x-forwarded-for": "203.0.113.9"}) as c2:
        for _ in range(5):
            login(c2, "ana", "salah-salah-salah")
        assert login(c2, "ana").status_code == 429
    with TestClient(app2, headers={"x-forwarded-for": "203.0.113.10"}) as c3:
        assert login(c3, "ana").status_code == 303
    app2.state.store.close()


def test_csrf_missing_or_invalid_is_refused(app: FastAPI, client: TestClient) -> None:
    make_user(app, "ana", "analyst")
    client.get("/login")
    base = {"username": "ana", "password": PASSWORD}
    assert client.post("/login", data=base).status_code == 403
    assert client.post("/login", data={**base, "csrf_token": "x" * 43}).status_code == 403
    # a token from another session is no good either
    with TestClient(app) as other:
        foreign = csrf_from(other.get("/login").text)
    assert client.post("/login", data={**base, "csrf_token": foreign}).status_code == 403
    # no session at all
    fresh = TestClient(app)
    assert fresh.post("/login", data={**base, "csrf_token": foreign}).status_code == 403
    # logout is protected too: a signed-in user stays signed in after a forged logout
    assert login(client, "ana").status_code == 303
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    assert client.get("/console").status_code == 200
    assert not [e for e in entries(app.state.store) if e.action == "login.failure"]


def test_csrf_header_and_multipart_forms(app: FastAPI, client: TestClient) -> None:
    make_user(app, "ana", "analyst")
    token = csrf_from(client.get("/login").text)
    # HTMX style: token in the X-CSRF-Token header
    r = client.post("/login", data={"username": "ana", "password": PASSWORD},
                    headers={"x-csrf-token": token}, follow_redirects=False)
    assert r.status_code == 303
    home = client.get("/console")
    client.post("/logout", data={"csrf_token": csrf_from(home.text)})
    # multipart form (reports with a screenshot): the app still reads the body
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                    "csrf_token": token},
                    files={"f": ("a.txt", b"x", "text/plain")}, follow_redirects=False)
    assert r.status_code == 303


def test_session_cookie_flags_http_and_https(app: FastAPI) -> None:
    make_user(app, "ana", "analyst")
    with TestClient(app) as c:
        cookie = login(c, "ana").headers["set-cookie"]
    assert cookie.startswith("patroli_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    with TestClient(app, base_url="https://testserver") as c:
        r = login(c, "ana")
        cookie = r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert c.get("/console").status_code == 200
    assert cookie.startswith("__Host-patroli_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "; Secure" in cookie


def test_forwarded_proto_only_with_trust_proxy(app: FastAPI,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from patroli.web.app import create_app

    make_user(app, "ana", "analyst")
    h = {"x-forwarded-proto": "https"}
    with TestClient(app, headers=h) as c:  # not trusted: still plain http
        r = c.get("/login")
        assert "Secure" not in r.headers["set-cookie"]
        assert "strict-transport-security" not in r.headers
    monkeypatch.setenv("PATROLI_TRUST_PROXY", "1")
    app2 = create_app(app.state.store.url, secret_key="k" * 40, testing=True)
    with TestClient(app2, headers=h) as c:
        r = c.get("/login")
        assert "; Secure" in r.headers["set-cookie"]
        assert "strict-transport-security" in r.headers
    app2.state.store.close()


def test_tampered_or_foreign_session_cookie_is_ignored(app: FastAPI, client: TestClient) -> None:
    from patroli.web.app import create_app

    make_user(app, "ana", "analyst")
    login(client, "ana")
    value = client.cookies["patroli_session"]
    payload, _, sig = value.rpartition(".")
    client.cookies.clear()
    client.cookies.set("patroli_session", payload + "." + sig[::-1])
    assert client.get("/console", follow_redirects=False).status_code == 401
    other = create_app(app.state.store.url, secret_key="o" * 40, testing=True)
    client.cookies.clear()
    client.cookies.set("patroli_session", value)
    assert client.get("/console").status_code == 200  # the untouched cookie works
    with TestClient(other) as c2:
        c2.cookies.set("patroli_session", value)
        assert c2.get("/console", follow_redirects=False).status_code == 401
    other.state.store.close()


def test_disable_role_change_and_password_change_apply_to_open_sessions(
        app: FastAPI, client: TestClient) -> None:
    from fastapi import Depends

    from patroli.web.security import require

    @app.get("/_t/labels")
    def labels(user=Depends(require("labels.write"))) -> str:  # noqa: B008
        return "ok"

    store = app.state.store
    make_user(app, "ana", "analyst")
    login(client, "ana")
    assert client.get("/_t/labels").status_code == 200
    set_role(store, "ana", "viewer", actor="test")
    assert client.get("/_t/labels").status_code == 403
    set_disabled(store, "ana", True, actor="test")
    assert client.get("/console", follow_redirects=False).status_code == 401
    set_disabled(store, "ana", False, actor="test")
    assert client.get("/console").status_code == 200
    set_password_hash(store, "ana", PasswordService(fast=True).hash("another-long-pass"),
                      actor="test")
    assert client.get("/console", follow_redirects=False).status_code == 401


def _assessment(key: str, score: int, level: str) -> Assessment:
    return Assessment(post_key=key, risk_score=score, level=level, label="illegal",
                      probabilities={"illegal": 1.0}, findings=[], entities=[],
                      verification={}, rule_set_version="t", model_version="",
                      analyzed_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC))


def test_hostile_text_renders_inert(app: FastAPI, client: TestClient) -> None:
    store = app.state.store
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    run = store.start_run("t", {})
    store.save_batch(run, [(Post(key="p1", text="Loker Taiwan " + evil, source="t",
                                 platform=evil), _assessment("p1", 88, "high"))])
    make_user(app, "ana", "analyst", display_name=evil)
    # the typed username is echoed back escaped on a failed login
    page = login(client, evil, "salah-salah-salah")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    login(client, "ana")
    home = client.get("/console")
    assert home.status_code == 200
    assert "<script>" not in home.text and "<img" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text
    assert "88" in home.text and "2026-01-02 10:04 WIB" in home.text


def test_language_switch(app: FastAPI, client: TestClient) -> None:
    r = client.get("/login?lang=en&next=/console")
    assert "<h1>Sign in</h1>" in r.text and '<html lang="en">' in r.text
    assert "patroli_lang=en" in r.headers["set-cookie"]
    assert 'href="/login?next=%2Fconsole&amp;lang=id"' in r.text
    assert "<h1>Sign in</h1>" in client.get("/login").text  # remembered
    assert "<h1>Masuk</h1>" in client.get("/login?lang=id").text
    assert "<h1>Masuk</h1>" in client.get("/login?lang=xx").text


def test_argon2id_hashes(app: FastAPI) -> None:
    rec = make_user(app, "ana", "analyst")
    assert rec.password_hash.startswith("$argon2id$")
    assert PASSWORD not in rec.password_hash
    ps = PasswordService(fast=True)
    assert ps.verify(rec.password_hash, PASSWORD)
    assert not ps.verify(rec.password_hash, PASSWORD + "x")
    assert not ps.verify(None, PASSWORD)
    assert not ps.verify("not-a-hash", PASSWORD)
    assert PasswordService().needs_rehash(rec.password_hash)  # fast params are weaker
