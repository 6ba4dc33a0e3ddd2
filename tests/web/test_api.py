"""REST API /api/v1 (issue 5): tokens and scopes, posts, assessments, check, reports,
entity search, error bodies, CSRF exemption, OpenAPI docs, token CLI."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patroli.cli_api import create_token, token_app
from patroli.store.audit import entries
from patroli.store.users import list_api_tokens, revoke_api_token
from patroli.web import api
from patroli.web.app import create_app
from patroli.web.security import MemoryTokenBucket

from .conftest import SECRET
from .webutil import login, make_user

AD = ("LOKER KAMBOJA!! Dibutuhkan admin CS online, gaji 20jt/bulan, tanpa pengalaman, "
      "tiket PP ditanggung. Hubungi WA 0812-3456-7890 sekarang juga")
NEWS = ("Polisi menggagalkan pengiriman 12 calon pekerja migran non-prosedural ke Kamboja; "
        "masyarakat diimbau waspada lowongan kerja palsu di media sosial.")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tok(app: FastAPI, *scopes: str, name: str = "partner") -> str:
    token, _ = create_token(app.state.store, name, list(scopes), actor="test")
    return token


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# -- tokens -----------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_scoped_and_revocable(app: FastAPI, client: TestClient,
                                                       tmp_path: Path) -> None:
    read = tok(app, "assessments:read")
    write_only = tok(app, "posts:write", name="writer")
    assert read.startswith("ptk_") and len(read) > 40
    # only the SHA-256 is kept: the token itself is nowhere in the database file
    recs = {r.name: r for r in list_api_tokens(app.state.store)}
    assert recs["partner"].token_hash == hashlib.sha256(read.encode()).hexdigest()
    with sqlite3.connect(tmp_path / "web.db") as db:
        dump = "\n".join(db.iterdump())
    assert read not in dump and write_only not in dump

    url = "/api/v1/assessments"
    err = assert_error(client.get(url), 401, "not_authenticated")
    assert "token" in err["message"].lower()
    assert client.get(url).headers["www-authenticate"].startswith("Bearer")
    assert_error(client.get(url, headers=bearer("ptk_unknown")), 401, "invalid_token")
    assert_error(client.get(url, headers={"Authorization": "Basic abc"}), 401, "invalid_token")
    err = assert_error(client.get(url, headers=bearer(write_only)), 403, "insufficient_scope")
    assert err["details"] == {"required_scope": "assessments:read"}
    assert client.get(url, headers=bearer(read)).status_code == 200

    revoke_api_token(app.state.store, recs["partner"].id, actor="test")
    assert_error(client.get(url, headers=bearer(read)), 401, "invalid_token")
    # last use is recorded; create and revoke are audited
    assert {r.name: r for r in list_api_tokens(app.state.store)}["partner"].last_used_at
    actions = [e.action for e in entries(app.state.store, limit=100)]
    assert actions.count("token.add") == 2 and "token.revoke" in actions


def test_create_token_validates_scopes(app: FastAPI) -> None:
    store = app.state.store
    with pytest.raises(ValueError, match="unknown scope"):
        create_token(store, "x", ["posts:write", "admin"], actor="t")
    with pytest.raises(ValueError, match="at least one"):
        create_token(store, "x", [" , "], actor="t")
    with pytest.raises(ValueError, match="name"):
        create_token(store, "  ", ["check"], actor="t")
    _, rec = create_token(store, "all", ["all", "check"], actor="t")
    assert rec.scopes == list(api.SCOPES)


def test_token_cli_create_list_revoke(tmp_path: Path, app: FastAPI,
                                      client: TestClient) -> None:
    db = f"sqlite:///{tmp_path / 'web.db'}"
    runner = CliRunner()
    r = runner.invoke(token_app, ["create", "mitra", "--scope", "check,entities:read",
                                  "--db", db])
    assert r.exit_code == 0, r.output
    token = re.search(r"ptk_[A-Za-z0-9_-]{43}", r.output).group(0)  # type: ignore[union-attr]
    assert client.get("/api/v1/entities/search?kind=phone",
                      headers=bearer(token)).status_code == 200
    r = runner.invoke(token_app, ["list", "--json", "--db", db])
    assert r.exit_code == 0 and '"name": "mitra"' in r.output and token not in r.output
    r = runner.invoke(token_app, ["create", "x", "--scope", "root", "--db", db])
    assert r.exit_code == 2 and "unknown scope" in r.output
    tid = list_api_tokens(app.state.store)[0].id
    assert runner.invoke(token_app, ["revoke", str(tid), "--db", db]).exit_code == 0
    assert runner.invoke(token_app, ["revoke", "999", "--db", db]).exit_code == 2
    assert_error(client.get("/api/v1/entities/search?kind=phone", headers=bearer(token)),
                 401, "invalid_token")
    actors = {e.actor for e in entries(app.state.store, limit=50)
              if e.action.startswith("token.")}
    assert actors and all(a.startswith("cli:") for a in actors)


# -- posts and assessments --------------------------------------------------------------------


def test_submit_one_post_then_read_it_back(app: FastAPI, client: TestClient) -> None:
    t = tok(app, "posts:write", "assessments:read")
    body = {"text": AD, "key": "fb:group/123:456", "source": "mitra-feed",
            "platform": "facebook", "posted_at": "2025-08-30T18:00:00+07:00"}
    r = client.post("/api/v1/posts", json=body, headers=bearer(t))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["new"] is True
    a = out["assessment"]
    assert a["post_key"] == "fb:group/123:456" and a["source"] == "mitra-feed"
    assert a["level"] == "high" and a["label"] == "illegal"
    assert any(e["kind"] == "phone" and e["value"] == "+6281234567890" for e in a["entities"])
    for f in a["findings"]:
        for s, e in f["spans"]:
            assert 0 <= s < e <= len(AD)
    run = app.state.store.get_run(out["run_id"])
    assert run["source"] == "api" and run["status"] == "completed"
    # idempotent: the same post again is an update, not a new post
    again = client.post("/api/v1/posts", json=body, headers=bearer(t)).json()
    assert again["new"] is False
    assert app.state.store.table_counts()["posts"] == 1
    # read back (a key with ':' and '/' in the path)
    got = client.get("/api/v1/assessments/fb:group/123:456", headers=bearer(t))
    assert got.status_code == 200, got.text
    g = got.json()
    assert g["risk_score"] == a["risk_score"] and g["indicators"] == a["indicators"]
    assert {(e["kind"], e["value"]) for e in g["entities"]} == {
        (e["kind"], e["value"]) for e in a["entities"]}
    assert client.get("/api/v1/assessments/fb:group/123:456?source=mitra-feed",
                      headers=bearer(t)).status_code == 200
    assert_error(client.get("/api/v1/assessments/fb:group/123:456?source=other",
                            headers=bearer(t)), 404, "not_found")
    assert_error(client.get("/api/v1/assessments/nope", headers=bearer(t)), 404, "not_found")
    audits = [e for e in entries(app.state.store, limit=50) if e.action == "api.posts.submit"]
    assert len(audits) == 2 and audits[0].actor.startswith("api:")


def test_batch_pagination_and_filters(app: FastAPI, client: TestClient) -> None:
    t = tok(app, "posts:write", "assessments:read")
    posts = [{"text": f"{AD} kode {i}", "key": f"ad-{i}"} for i in range(9)]
    posts += [{"text": f"{NEWS} ({i})", "key": f"news-{i}"} for i in range(6)]
    r = client.post("/api/v1/posts/batch", json={"posts": posts}, headers=bearer(t))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["n_posts"] == 15 and out["n_new"] == 15
    assert [i["post_key"] for i in out["items"]] == [p["key"] for p in posts]
    levels = {i["post_key"]: i["level"] for i in out["items"]}

    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        q = "/api/v1/assessments?limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(q, headers=bearer(t)).json()
        assert page["limit"] == 4 and len(page["items"]) <= 4
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # a post arriving between pages must not shift later pages
        if pages == 1:
            client.post("/api/v1/posts", json={"text": NEWS + " baru", "key": "late"},
                        headers=bearer(t))
    keys = [a["post_key"] for a in seen]
    assert len(keys) == len(set(keys)) and {p["key"] for p in posts} <= set(keys)
    scores = [a["risk_score"] for a in seen]
    assert scores == sorted(scores, reverse=True)

    high = client.get("/api/v1/assessments?level=high&limit=200", headers=bearer(t)).json()
    assert {a["post_key"] for a in high["items"]} == {k for k, v in levels.items()
                                                      if v == "high"}
    assert high["next_cursor"] is None
    assert_error(client.get("/api/v1/assessments?level=urgent", headers=bearer(t)),
                 422, "validation_error")
    assert_error(client.get("/api/v1/assessments?cursor=bm90LWEtY3Vyc29y", headers=bearer(t)),
                 400, "invalid_cursor")
    assert_error(client.get("/api/v1/assessments?cursor=%%%", headers=bearer(t)),
                 400, "invalid_cursor")
    assert_error(client.get("/api/v1/assessments?limit=0", headers=bearer(t)),
                 422, "validation_error")


def test_batch_limits_and_validation(app: FastAPI, client: TestClient) -> None:
    t = tok(app, "posts:write")
    too_many = {"posts": [{"text": f"t {i}"} for i in range(api.MAX_BATCH + 1)]}
    err = assert_error(client.post("/api/v1/posts/batch", json=too_many, headers=bearer(t)),
                       422, "validation_error")
    assert err["details"][0]["loc"][:2] == ["body", "posts"]
    assert_error(client.post("/api/v1/posts/batch", json={"posts": []}, headers=bearer(t)),
                 422, "validation_error")
    assert_error(client.post("/api/v1/posts", json={"text": "   "}, headers=bearer(t)),
                 422, "validation_error")
    assert_error(client.post("/api/v1/posts", json={"text": "x", "evil": 1},
                             headers=bearer(t)), 422, "validation_error")
    r = client.post("/api/v1/posts", content=b"{not json", headers={
        **bearer(t), "content-type": "application/json"})
    assert_error(r, 422, "validation_error")
    # without a key: a content hash of source + text, stable across resubmissions
    a = client.post("/api/v1/posts", json={"text": NEWS}, headers=bearer(t)).json()
    b = client.post("/api/v1/posts", json={"text": NEWS}, headers=bearer(t)).json()
    assert a["assessment"]["post_key"].startswith("sha256:")
    assert a["assessment"]["post_key"] == b["assessment"]["post_key"] and b["new"] is False


# -- check ------------------------------------------------------------------------------------


def test_check_is_public_rate_limited_and_stores_nothing(app: FastAPI,
                                                         client: TestClient) -> None:
    app.state.limiters["public"] = MemoryTokenBucket(2, 1e-6)
    r = client.post("/api/v1/check", json={"text": AD})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["level"] == "high" and a["source"] is None and "scam_hub_destination" in a[
        "indicators"]
    assert a["findings"][0]["explanation_id"] and a["findings"][0]["explanation_en"]
    news = client.post("/api/v1/check", json={"text": NEWS}).json()
    assert news["label"] == "awareness" and news["risk_score"] < a["risk_score"]
    r = client.post("/api/v1/check", json={"text": AD})
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1
    # a token with the check scope is not limited; a token without it is refused
    good, other = tok(app, "check"), tok(app, "posts:write", name="w")
    for _ in range(3):
        assert client.post("/api/v1/check", json={"text": AD},
                           headers=bearer(good)).status_code == 200
    assert_error(client.post("/api/v1/check", json={"text": AD}, headers=bearer(other)),
                 403, "insufficient_scope")
    assert_error(client.post("/api/v1/check", json={"text": AD}, headers=bearer("ptk_x")),
                 401, "invalid_token")
    assert app.state.store.table_counts()["posts"] == 0


# -- entities ----------------------------------------------------------------------------------


def test_entity_search_pivots_on_normalised_values(app: FastAPI, client: TestClient) -> None:
    t = tok(app, "posts:write", "entities:read")
    posts = [
        {"key": "a", "text": "Loker Taiwan pabrik, gaji 25jt. WA 0812 3456 7890"},
        {"key": "b", "text": "Dicari ART ke Arab Saudi, hub +62 812-3456-7890 segera"},
        {"key": "c", "text": "Lowongan kapal ABK, hubungi 0813 9999 0000"},
    ]
    client.post("/api/v1/posts/batch", json={"posts": posts}, headers=bearer(t))
    r = client.get("/api/v1/entities/search", params={"kind": "phone", "value": "0812-3456-7890"},
                   headers=bearer(t))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["n_posts"] == 2 and {p["post_key"] for p in out["posts"]} == {"a", "b"}
    assert all(p["excerpt"] for p in out["posts"])
    top = client.get("/api/v1/entities/search?kind=phone", headers=bearer(t)).json()
    assert top["top_values"][0] == {"kind": "phone", "value": "+6281234567890", "n_posts": 2,
                                    "max_risk": top["top_values"][0]["max_risk"]}
    assert client.get("/api/v1/entities/search", params={"kind": "phone", "value": "0899"},
                      headers=bearer(t)).json()["n_posts"] == 0
    assert_error(client.get("/api/v1/entities/search?kind=shoe", headers=bearer(t)),
                 422, "validation_error")
    assert_error(client.get("/api/v1/entities/search?kind=phone",
                            headers=bearer(tok(app, "check", name="c"))),
                 403, "insufficient_scope")


# -- reports ------------------------------------------------------------------------------------


def test_reports_enter_the_queue_with_an_encrypted_contact(
        app: FastAPI, client: TestClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    reports = pytest.importorskip("patroli.store.reports")
    monkeypatch.delenv("PATROLI_CONTACT_KEY", raising=False)
    report = {"kind": "text", "value": AD, "description": "diminta biaya 5jt",
              "platform": "facebook",
              "contact": {"name": "Siti Pelapor", "phone": "0857 1111 2222"}}
    r = client.post("/api/v1/reports", json=report)
    assert r.status_code == 201, r.text
    out = r.json()
    code = out["receipt"]
    assert out["status"] == "received" and out["status_url"].endswith(code)
    stored = reports.report_by_code(app.state.store, code)
    assert stored["has_contact"] and stored["kind"] == "text"
    # the report is a post in the analyst queue, analysed like any post
    rows = app.state.store.top_assessments(limit=5, source=reports.POST_SOURCE)
    assert [row["key"] for row in rows] == [code] and rows[0]["level"] == "high"
    # the contact is encrypted at rest
    with sqlite3.connect(tmp_path / "web.db") as db:
        dump = "\n".join(db.iterdump())
    assert "Siti Pelapor" not in dump and "0857 1111 2222" not in dump
    assert any(e.action == "report.create" for e in entries(app.state.store, limit=20))
    # the portal's status page knows the code (nothing personal on it)
    page = client.get(out["status_url"])
    assert page.status_code == 200 and "Siti" not in page.text
    assert_error(client.post("/api/v1/reports", json={"kind": "rumour", "value": "x"}),
                 422, "validation_error")
    assert_error(client.post("/api/v1/reports", json={"kind": "url", "value": "   "}),
                 422, "validation_error")


def test_report_with_a_screenshot(app: FastAPI, client: TestClient) -> None:
    """A base64 screenshot is re-encoded (metadata dropped) and kept with the report;
    bad base64 or a file that is no image gets 400 with the reason."""
    import base64
    import io

    from PIL import Image

    reports = pytest.importorskip("patroli.store.reports")
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG", pnginfo=None)
    shot = base64.b64encode(buf.getvalue()).decode()
    r = client.post("/api/v1/reports", json={"kind": "phone", "value": "0812-0000-3185",
                                             "screenshot_base64": shot})
    assert r.status_code == 201, r.text
    stored = reports.report_by_code(app.state.store, r.json()["receipt"])
    assert stored["screenshot_mime"] == "image/png" and stored["screenshot_size"] > 0
    data, mime = reports.report_screenshot(app.state.store, r.json()["receipt"])
    assert mime == "image/png" and Image.open(io.BytesIO(data)).size == (40, 30)
    assert_error(client.post("/api/v1/reports", json={
        "kind": "phone", "value": "0812-0000-3185", "screenshot_base64": "not base64!"}),
        400, "bad_request")
    bad = client.post("/api/v1/reports", json={
        "kind": "phone", "value": "0812-0000-3185",
        "screenshot_base64": base64.b64encode(b"<html>no image</html>").decode()})
    assert_error(bad, 400, "bad_request")
    assert bad.json()["error"]["details"] == {"reason": "type"}


def test_error_bodies_for_size_and_server_errors(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATROLI_PUBLIC_RATE", raising=False)
    small = create_app(f"sqlite:///{tmp_path / 's.db'}", secret_key=SECRET, testing=True,
                       max_body_bytes=2000)
    try:
        with TestClient(small, raise_server_exceptions=False) as c:
            assert_error(c.post("/api/v1/check", json={"text": "x" * 5000}), 413, "too_large")

            def chunks():
                for _ in range(10):
                    yield b"x" * 500

            r = c.post("/api/v1/check", content=chunks(),
                       headers={"content-type": "application/json"})
            assert_error(r, 413, "too_large")
            # outside the API the plain-text answer stays
            r = c.post("/login", content=b"x" * 5000)
            assert r.status_code == 413 and r.headers["content-type"].startswith("text/plain")

            import patroli.analysis

            def boom(*a, **k):
                raise RuntimeError("secret internal detail")

            monkeypatch.setattr(patroli.analysis, "analyze", boom)
            r = c.post("/api/v1/check", json={"text": "loker"})
            err = assert_error(r, 500, "internal_error")
            assert "secret" not in r.text and err["details"] is None
    finally:
        small.state.store.close()


def test_api_ignores_session_cookie_and_csrf_only_for_the_api(app: FastAPI,
                                                              client: TestClient) -> None:
    make_user(app, "adm", "admin")
    assert login(client, "adm").status_code == 303
    # the signed-in admin's cookie does not authenticate API calls
    assert_error(client.get("/api/v1/assessments"), 401, "not_authenticated")
    # an API POST carrying only the cookie (no CSRF token) is not refused by CSRF: the
    # API answers it on its own terms (token check / public rate limit)
    assert client.post("/api/v1/check", json={"text": AD}).status_code == 200
    assert_error(client.post("/api/v1/posts", json={"text": AD}), 401, "not_authenticated")
    # a cookie-authenticated cross-site POST to an HTML form is still refused
    r = client.post("/logout", headers={"origin": "https://evil.example"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert client.get("/console").status_code == 200  # still signed in


def test_openapi_schema_and_docs_page(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    assert paths == {"/api/v1/posts", "/api/v1/posts/batch", "/api/v1/assessments",
                     "/api/v1/assessments/{post_key}", "/api/v1/check", "/api/v1/reports",
                     "/api/v1/entities/search"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "ErrorBody" in doc["components"]["schemas"]
    assert client.get("/openapi.json").status_code == 404  # the app-wide schema stays off
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "style=" not in html and "<style" not in html
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(src).status_code == 200, src
