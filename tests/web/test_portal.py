"""Public portal (issue 5): check an ad / agency / contact, report, status, security."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from patroli.store import reports as reports_store
from patroli.store.models_reports import reports
from patroli.store.registry import add_watch
from patroli.verify.model import WatchEntry
from patroli.web.app import create_app
from patroli.web.portal_images import MAX_IMAGE_SIDE, ImageRejected, sanitize_image

from .conftest import SECRET
from .webutil import csrf_from, login, make_user

DEMO = Path(__file__).resolve().parents[2] / "src" / "patroli" / "data" / "demo" / "posts.jsonl"
_CODE = re.compile(r'id="receipt-code">([A-Z0-9]+)<')


@pytest.fixture(autouse=True)
def _no_contact_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATROLI_CONTACT_KEY", raising=False)


def _demo(label: str) -> list[dict]:
    with DEMO.open(encoding="utf-8") as fh:
        return [d for d in map(json.loads, fh) if d["label"] == label]


def _token(client: TestClient, path: str = "/cek") -> str:
    return csrf_from(client.get(path).text)


def _check(client: TestClient, q: str, lang: str | None = None):
    url = "/cek" + (f"?lang={lang}" if lang else "")
    return client.post(url, data={"q": q, "csrf_token": _token(client)})


def _badge(html: str) -> str:
    m = re.search(r'class="verdict verdict-(\w+)"', html)
    assert m, "no verdict on the page"
    return m.group(1)


def _report(client: TestClient, *, files=None, **fields) -> str:
    """Submit a report; returns the receipt code from the status page."""
    data = {"kind": "phone", "content": "0812-0000-4471", "csrf_token": _token(client, "/lapor"),
            **fields}
    r = client.post("/lapor", data=data, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    m = _CODE.search(page.text)
    assert m
    return m.group(1)


# -- landing ------------------------------------------------------------------------------


def test_landing_is_public_and_links_everything(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    for href in ('href="/cek"', 'href="/lapor"', 'href="/lapor/status"', 'href="/login"'):
        assert href in r.text
    assert "Cek Lowongan" in r.text and "Masuk (analis)" in r.text
    en = client.get("/?lang=en")
    assert "Check a job ad" in en.text and "Sign in (analysts)" in en.text


# -- check: ads ---------------------------------------------------------------------------


def test_check_illegal_ad_shows_warning_reasons_and_next_steps(client: TestClient) -> None:
    ad = _demo("illegal")[0]["text"]
    r = _check(client, ad)
    assert r.status_code == 200
    assert _badge(r.text) == "danger"
    assert "Hati-hati: iklan ini menunjukkan tanda perekrutan ilegal" in r.text
    reasons = re.findall(r"<li><strong>(.*?)</strong>", r.text)
    assert len(reasons) >= 3
    assert "<mark" in r.text  # evidence highlighted
    assert "0800-1000" in r.text and "rekening pribadi" in r.text
    # the report button pre-fills the report form with the ad
    assert 'name="prefill" value="1"' in r.text
    en = _check(client, ad, lang="en")
    assert "Be careful: this ad shows signs of illegal recruitment" in en.text


def test_every_high_level_demo_ad_gets_the_danger_wording(client: TestClient) -> None:
    from patroli.analysis import analyze
    from patroli.types import Post

    highs = [d["text"] for d in _demo("illegal")
             if analyze(Post(key=d["id"], text=d["text"])).level == "high"]
    assert highs
    for text in highs[:6]:
        assert _badge(_check(client, text).text) == "danger"


def test_check_awareness_text_is_not_a_warning(client: TestClient) -> None:
    texts = [d["text"] for d in _demo("awareness")]
    badges = [_badge(_check(client, t).text) for t in texts]
    assert "danger" not in badges
    assert badges.count("info") >= len(texts) // 2
    page = _check(client, texts[0]).text
    assert "bukan iklan lowongan kerja" in page or _badge(page) in ("info", "ok")


def test_check_limits_and_empty_input(client: TestClient) -> None:
    r = _check(client, "x" * 10_001)
    assert r.status_code == 413
    assert "terlalu panjang" in r.text
    assert _check(client, "   ").status_code == 422


# -- check: agencies ---------------------------------------------------------------------


def test_agency_lookup_registered_lookalike_revoked_unknown(client: TestClient) -> None:
    ok = _check(client, "PT Cahaya Mandiri Sejahtera Abadi")
    assert _badge(ok.text) == "ok"
    assert "Terdaftar" in ok.text and "KEP-087/P3MI/2023" in ok.text
    no_pt = _check(client, "cahaya mandiri sejahtera abadi")
    assert _badge(no_pt.text) == "ok"
    by_licence = _check(client, "KEP-087/P3MI/2023")
    assert _badge(by_licence.text) == "ok"
    look = _check(client, "PT Cahaya Mandiri Sejahtra Abadi")
    assert _badge(look.text) == "danger"
    assert "mirip nama P3MI terdaftar" in look.text
    revoked = _check(client, "PT Delta Maju Bersama")
    assert _badge(revoked.text) == "danger" and "dicabut" in revoked.text
    unknown = _check(client, "PT Maju Jaya Abadi Sentosa")
    assert _badge(unknown.text) == "warn"
    assert "tidak ditemukan di registri" in unknown.text


# -- check: contacts ---------------------------------------------------------------------


def test_contact_lookup_counts_only_and_lists(app: FastAPI, client: TestClient) -> None:
    fresh = _check(client, "0812-7777-1234")
    assert _badge(fresh.text) == "unknown"
    secret = "pesan rahasia pelapor 5511"
    _report(client, content="0812 7777 1234", description=secret)
    seen = _check(client, "WA 0812-7777-1234")
    assert _badge(seen.text) == "warn"
    assert "dilaporkan 1 kali" in seen.text
    assert secret not in seen.text  # never another post's content
    add_watch(app.state.store, WatchEntry(kind="phone", value="+6281299990000",
                                          reason="kasus 12", source="test", added_by="t"))
    app.state.verifier_cache = None  # rebuild with the new entry
    watched = _check(client, "+62 812-9999-0000")
    assert _badge(watched.text) == "danger" and "daftar pantau" in watched.text
    assert "kasus 12" not in watched.text  # analysts' notes stay internal
    gov = _check(client, "https://kp2mi.go.id")
    assert _badge(gov.text) == "ok"
    assert _badge(_check(client, "0800").text) == "unknown"


# -- reports -------------------------------------------------------------------------------


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraMerk"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (6.0, 10.0, 30.0)
    gps[3] = "E"
    gps[4] = (106.0, 49.0, 0.0)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the test has GPS
    return data


def test_report_without_screenshot_enters_the_queue(app: FastAPI, client: TestClient) -> None:
    code = _report(client, kind="text", content="Loker Taiwan gaji 30jt, biaya 15jt transfer "
                   "ke rekening pribadi, WA 0812-3333-4444", platform="facebook")
    assert re.fullmatch(f"[{reports_store.RECEIPT_ALPHABET}]{{10}}", code)
    store = app.state.store
    rep = reports_store.report_by_code(store, code)
    assert rep["status"] == "received" and rep["platform"] == "facebook"
    assert rep["post_source"] == "portal-report" and rep["post_key"] == code
    queued = store.top_assessments(source="portal-report")
    assert [q["key"] for q in queued] == [code]
    assert queued[0]["findings"]  # analysed like any post
    assert any(e["kind"] == "phone" for e in queued[0]["entities"])
    assert reports_store.report_screenshot(store, code) is None


def test_report_screenshot_exif_is_stripped(app: FastAPI, client: TestClient) -> None:
    raw = _jpeg_with_gps()
    code = _report(client, files={"screenshot": ("foto.jpg", raw, "image/jpeg")})
    data, mime = reports_store.report_screenshot(app.state.store, code)
    assert mime == "image/jpeg"
    img = Image.open(io.BytesIO(data))
    assert img.size == (64, 48)
    assert not img.getexif() and "exif" not in img.info
    assert b"Exif" not in data and b"KameraMerk" not in data


def test_report_fake_png_is_rejected(app: FastAPI, client: TestClient) -> None:
    r = client.post("/lapor", data={"kind": "phone", "content": "0812-0000-4471",
                                    "csrf_token": _token(client, "/lapor")},
                    files={"screenshot": ("bukti.png", b"hello, I am text\n" * 20,
                                          "image/png")})
    assert r.status_code == 422
    assert "bukan gambar" in r.text
    with app.state.store.engine.connect() as conn:
        assert conn.execute(select(reports.c.id)).first() is None


def test_sanitize_image_limits() -> None:
    big = io.BytesIO()
    Image.new("L", (MAX_IMAGE_SIDE + 1, 2)).save(big, "PNG")
    with pytest.raises(ImageRejected) as e:
        sanitize_image(big.getvalue())
    assert e.value.reason == "dims"
    with pytest.raises(ImageRejected) as e:
        sanitize_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024))
    assert e.value.reason == "size"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ImageRejected):
        sanitize_image(svg)
    pal = io.BytesIO()
    Image.new("P", (10, 10)).save(pal, "GIF")
    out = sanitize_image(pal.getvalue())
    assert out.mime == "image/png" and (out.width, out.height) == (10, 10)


def test_contact_is_encrypted_at_rest(app: FastAPI, client: TestClient,
                                      tmp_path: Path) -> None:
    code = _report(client, contact_name="Siti Aminah", contact_phone="0813-5555-6789",
                   contact_email="siti@example.org")
    with app.state.store.engine.connect() as conn:
        raw = conn.execute(select(reports.c.contact_ciphertext)).scalar_one()
    assert raw and "5555" not in raw and "Siti" not in raw and "example.org" not in raw
    db_bytes = (tmp_path / "web.db").read_bytes()
    assert b"0813-5555-6789" not in db_bytes and b"Siti Aminah" not in db_bytes
    key_file = tmp_path / "web.db.contact.key"
    assert key_file.is_file()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    contact = reports_store.report_contact(app.state.store, code, key_file.read_bytes().strip())
    assert contact == {"name": "Siti Aminah", "phone": "0813-5555-6789",
                       "email": "siti@example.org"}
    from cryptography.fernet import Fernet, InvalidToken

    with pytest.raises(InvalidToken):
        reports_store.report_contact(app.state.store, code, Fernet.generate_key())
    assert reports_store.report_contact(app.state.store, _report(client), b"x") is None


def test_contact_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from patroli.store import Store

    key = Fernet.generate_key()
    monkeypatch.setenv("PATROLI_CONTACT_KEY", key.decode())
    with Store(f"sqlite:///{tmp_path / 'k.db'}") as store:
        assert reports_store.contact_key(store) == key
        assert not (tmp_path / "k.db.contact.key").exists()
        monkeypatch.setenv("PATROLI_CONTACT_KEY", "not-a-key")
        with pytest.raises(ValueError):
            reports_store.contact_key(store)


def test_status_page_shows_nothing_personal(app: FastAPI, client: TestClient) -> None:
    code = _report(client, content="0812-4444-9999", description="dia minta uang 7jt",
                   contact_name="Budi Santoso", contact_phone="0857-1212-3434")
    for url in (f"/lapor/status/{code}", f"/lapor/status?code={code.lower()}",
                f"/lapor/status/{code[:5]}-{code[5:]}"):
        page = client.get(url)
        assert page.status_code == 200
        assert "diterima" in page.text and code in page.text
        for private in ("0812-4444-9999", "+6281244449999", "7jt", "Budi", "1212"):
            assert private not in page.text
    reports_store.set_report_status(app.state.store, code, "in_review")
    assert "sedang ditinjau" in client.get(f"/lapor/status/{code}").text
    assert "under review" in client.get(f"/lapor/status/{code}?lang=en").text
    assert client.get("/lapor/status/ABCDEFGHJK").status_code == 404
    assert client.get("/lapor/status?code=nope").status_code == 404
    assert client.get("/lapor/status").status_code == 200


def test_prefill_fills_the_form_and_stores_nothing(app: FastAPI, client: TestClient) -> None:
    r = client.post("/lapor", data={"prefill": "1", "kind": "text", "content": "Loker <b>x</b>",
                                    "csrf_token": _token(client)})
    assert r.status_code == 200
    assert "Loker &lt;b&gt;x&lt;/b&gt;</textarea>" in r.text
    with app.state.store.engine.connect() as conn:
        assert conn.execute(select(reports.c.id)).first() is None


def test_report_validation(client: TestClient) -> None:
    tok = _token(client, "/lapor")
    r = client.post("/lapor", data={"kind": "nonsense", "content": "", "csrf_token": tok})
    assert r.status_code == 422
    assert "Pilih jenis laporan" in r.text and "wajib diisi" in r.text
    r = client.post("/lapor", data={"kind": "phone", "content": "0812", "csrf_token": tok,
                                    "contact_email": "bukan-email"})
    assert r.status_code == 422


# -- security ------------------------------------------------------------------------------


def test_script_in_a_report_renders_inert(app: FastAPI, client: TestClient) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    code = _report(client, kind="text", content=f"Loker {payload} gaji 20jt WA 0812-1111-0000",
                   description=payload)
    status = client.get(f"/lapor/status/{code}").text
    assert "<script>alert" not in status and "<img src=x" not in status
    make_user(app, "ana", "analyst")
    assert login(client, "ana").status_code == 303
    home = client.get("/console")
    assert home.status_code == 200
    assert "<script>alert" not in home.text and "<img src=x" not in home.text
    assert "&lt;script&gt;" in home.text
    checked = _check(client, payload + " gaji 20jt tanpa pengalaman")
    assert "<script>alert" not in checked.text and "&lt;script&gt;" in checked.text


def test_forms_need_the_csrf_token(client: TestClient) -> None:
    client.get("/cek")
    assert client.post("/cek", data={"q": "halo"}).status_code == 403
    assert client.post("/lapor", data={"kind": "phone", "content": "0812"}).status_code == 403
    assert client.post("/cek", data={"q": "halo", "csrf_token": "forged"}).status_code == 403


@pytest.fixture
def limited_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for var in ("PATROLI_TRUST_PROXY", "PATROLI_REDIS_URL", "PATROLI_MAX_REQUEST_BYTES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATROLI_PUBLIC_RATE", "3/60")
    a = create_app(f"sqlite:///{tmp_path / 'rl.db'}", secret_key=SECRET, testing=True)
    with TestClient(a) as c:
        yield c
    a.state.store.close()


def test_public_rate_limit(limited_client: TestClient) -> None:
    tok = _token(limited_client)
    codes = [limited_client.post("/cek", data={"q": "PT Maju", "csrf_token": tok}).status_code
             for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = limited_client.post("/lapor", data={"kind": "phone", "content": "0812",
                                            "csrf_token": tok})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert limited_client.get("/lapor/status/ABCDEFGHJK").status_code == 429
    assert limited_client.get("/cek").status_code == 200  # reading the form is free


def test_request_over_the_app_limit_gets_413(app: FastAPI, client: TestClient) -> None:
    big = b"\xff\xd8" + b"\x00" * (3 * 1024 * 1024)
    r = client.post("/lapor", data={"kind": "phone", "content": "0812",
                                    "csrf_token": _token(client, "/lapor")},
                    files={"screenshot": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413
    with app.state.store.engine.connect() as conn:
        assert conn.execute(select(reports.c.id)).first() is None


def test_portal_pages_render_in_both_languages(client: TestClient) -> None:
    for path in ("/", "/cek", "/lapor", "/lapor/status"):
        for lang in ("id", "en"):
            r = client.get(f"{path}?lang={lang}")
            assert r.status_code == 200, path
            assert f'<html lang="{lang}">' in r.text
            assert "/static/portal.css" in r.text


def test_console_shows_report_contact_only_to_permitted_roles(app: FastAPI) -> None:
    """A public report in the console: the analyst sees the report, its screenshot and
    sets the status the reporter sees; only a supervisor can reveal the decrypted
    contact, and that view is audited."""
    from patroli.store.audit import entries
    from patroli.store.reports import report_by_code

    from .webutil import login, make_user

    make_user(app, "ana", "analyst")
    make_user(app, "sup", "supervisor")
    with TestClient(app) as citizen:
        code = _report(citizen, description="rekrut ke Kamboja", contact_phone="0857-0000-1122",
                       files={"screenshot": ("s.jpg", _jpeg_with_gps(), "image/jpeg")})
    report = report_by_code(app.state.store, code)
    from sqlalchemy import text as sql

    with app.state.store.engine.connect() as conn:
        post_id = conn.execute(sql("SELECT id FROM posts WHERE key = :k"), {"k": code}).scalar_one()
    with TestClient(app) as analyst:
        login(analyst, "ana")
        page = analyst.get(f"/console/posts/{post_id}").text
        assert code in page and "/screenshot" in page
        assert "0857-0000-1122" not in page and "/contact" not in page
        shot = analyst.get(f"/console/reports/{code}/screenshot")
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
        r = analyst.post(f"/console/reports/{code}/contact",
                         data={"post_id": post_id, "csrf_token": csrf_from(page)})
        assert r.status_code == 403
        r = analyst.post(f"/console/reports/{code}/status", follow_redirects=False,
                         data={"status": "in_review", "post_id": post_id,
                               "csrf_token": csrf_from(page)})
        assert r.status_code == 303
    assert "sedang ditinjau" in TestClient(app).get(f"/lapor/status/{code}").text
    with TestClient(app) as supervisor:
        login(supervisor, "sup")
        page = supervisor.get(f"/console/posts/{post_id}").text
        assert "0857-0000-1122" not in page and f"/console/reports/{code}/contact" in page
        shown = supervisor.post(f"/console/reports/{code}/contact",
                                data={"post_id": post_id, "csrf_token": csrf_from(page)})
        assert shown.status_code == 200 and "0857-0000-1122" in shown.text
    actions = [e.action for e in entries(app.state.store)]
    assert "report.contact.view" in actions and "report.status" in actions
    assert report["has_contact"]
