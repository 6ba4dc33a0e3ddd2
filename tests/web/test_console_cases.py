"""Console pages of issue 6: cases from the queue selection and from a pivot, comments,
evidence capture from a local HTTP server (test-only fetcher), the evidence package,
takedown drafting with four-eyes approval, sending, removal and the SLA page; and the
permission checks (viewer cannot open cases, analyst cannot approve)."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from patroli.cases.evidence import verify_package
from patroli.cases.fetch import Fetcher
from patroli.store import Store
from patroli.store import queue as queue_store
from patroli.store.audit import verify_chain
from patroli.types import Assessment, Entity, Finding, Post

from .webutil import csrf_from, login, make_user

PHONE = "+6281234500077"
PAGES = {
    "/ad1.html": "<html><body><h1>LOKER KAMBOJA</h1><ul><li>Admin online gaji 20jt</li>"
                 "<li>WA 0812-3450-0077</li></ul></body></html>",
    "/ad2.html": "<html><body><p>Kerja Malaysia tanpa paspor, hub 0812 3450 0077</p>"
                 "</body></html>",
}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        body = PAGES.get(self.path.split("?", 1)[0])
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[str]:
    """Base URL of a local HTTP server on 127.0.0.1 serving ``PAGES``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _assessment(key: str, score: int, start: int) -> Assessment:
    return Assessment(
        post_key=key, risk_score=score, level="high" if score >= 70 else "medium",
        label="illegal", probabilities={"illegal": 1.0},
        findings=[Finding(indicator="scam_hub_destination", weight=10.0, spans=[(0, 5)],
                          explanation_id="alasan", explanation_en="reason",
                          title_id="judul", title_en="title")],
        entities=[Entity("phone", PHONE, (start, start + 14))], rule_set_version="t",
        analyzed_at=datetime(2025, 3, 1, tzinfo=UTC))


def seed(store: Store, base: str) -> dict[str, int]:
    """Two posts sharing a phone (URLs on the local server) and one unrelated post."""
    items = [
        (Post(key="n1", text="LOKER KAMBOJA admin gaji 20jt WA 0812-3450-0077",
              source="t", platform="facebook", url=base + "/ad1.html",
              posted_at=datetime(2025, 3, 1, tzinfo=UTC)), _assessment("n1", 88, 33)),
        (Post(key="n2", text="Kerja Malaysia tanpa paspor, hub 0812 3450 0077",
              source="t", platform="tiktok", url=base + "/ad2.html",
              posted_at=datetime(2025, 3, 2, tzinfo=UTC)), _assessment("n2", 75, 33)),
        (Post(key="n3", text="Info resmi penempatan lewat SISKOP2MI", source="t",
              platform="x", posted_at=datetime(2025, 3, 3, tzinfo=UTC)),
         Assessment(post_key="n3", risk_score=5, level="low", label="awareness",
                    probabilities={"awareness": 1.0}, findings=[], entities=[],
                    rule_set_version="t",
                    analyzed_at=datetime(2025, 3, 3, tzinfo=UTC))),
    ]
    run = store.start_run("seed", {})
    store.save_batch(run, items)
    page = queue_store.queue_page(store, page_size=100)
    return {it["key"]: it["post_id"] for it in page.items}


def _as(client: TestClient, name: str) -> None:
    client.cookies.clear()
    assert login(client, name).status_code == 303


def _post(client: TestClient, url: str, page: str, data: dict | None = None, **kw):
    token = csrf_from(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **(data or {})},
                       follow_redirects=False, **kw)


def _case_id(resp) -> int:
    m = re.match(r"/console/cases/(\d+)$", resp.headers["location"])
    assert m, resp.headers.get("location")
    return int(m.group(1))


@pytest.fixture
def world(app: FastAPI, pages: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> dict[str, int]:
    monkeypatch.setenv("PATROLI_EVIDENCE_DIR", str(tmp_path / "evidence"))
    app.state.fetcher = Fetcher(allow_private={"127.0.0.1"})
    make_user(app, "analis", "analyst")
    make_user(app, "supervisor1", "supervisor")
    make_user(app, "viewer1", "viewer")
    return seed(app.state.store, pages)


def test_case_evidence_takedown_and_sla(client: TestClient, app: FastAPI,
                                        world: dict[str, int]) -> None:
    _as(client, "analis")
    before = client.get("/console/sla").text
    assert 'data-sent="0"' in before

    # open a case from the queue selection (the bulk form's button)
    queue = client.get("/console/queue").text
    assert 'formaction="/console/cases"' in queue
    r = _post(client, "/console/cases", "/console/queue",
              {"post_id": [str(world["n1"]), str(world["n2"])]})
    assert r.status_code == 303
    cid = _case_id(r)
    page = client.get(f"/console/cases/{cid}").text
    assert "LOKER KAMBOJA" in page and "Kerja Malaysia" in page and "88" in page

    # HTMX submit of the same button gets a full-page redirect
    r = _post(client, "/console/cases", "/console/queue", {"post_id": str(world["n1"])},
              headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/console/cases/")

    # comment
    r = _post(client, f"/console/cases/{cid}/comment", f"/console/cases/{cid}",
              {"text": "Jaringan sama: nomor WA dipakai dua akun"})
    assert r.status_code == 303
    assert "Jaringan sama: nomor WA dipakai dua akun" in client.get(f"/console/cases/{cid}").text

    # capture evidence from the local server through the test-only fetcher
    r = _post(client, f"/console/cases/{cid}/capture", f"/console/cases/{cid}")
    assert r.status_code == 303
    page = client.get(f"/console/cases/{cid}").text
    hashes = re.findall(r'<code class="sha256">([0-9a-f]{64})</code>', page)
    assert len(hashes) == 2, page
    assert 'data-status="evidence_collected"' in page
    assert "captured" in page  # custody log

    # export the package: it verifies from the ZIP alone
    r = client.get(f"/console/cases/{cid}/export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    pkg = Path(app.state.store.url.split("///", 1)[1]).parent / "pkg.zip"
    pkg.write_bytes(r.content)
    assert verify_package(pkg) == []
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert any(n.endswith("manifest.json") for n in z.namelist())
    assert "exported" in client.get(f"/console/cases/{cid}").text

    # draft takedown requests: one per platform recipient
    r = _post(client, f"/console/cases/{cid}/takedown", f"/console/cases/{cid}")
    assert r.status_code == 303
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/console/takedowns/{rid}").text
    assert 'id="approve-request"' not in page and 'id="drafter-note"' in page
    assert any(h in page for h in hashes)  # evidence hashes carried into the request
    assert 'id="letter"' in page
    # the drafter cannot approve (analyst role: 403 by permission)
    r = _post(client, f"/console/takedowns/{rid}/approve", f"/console/takedowns/{rid}")
    assert r.status_code == 403
    # a draft cannot be exported yet
    assert client.get(f"/console/takedowns/{rid}/export?fmt=csv").status_code == 403
    assert 'data-status="takedown_requested"' in client.get(f"/console/cases/{cid}").text
    all_rids = [int(x) for x in re.findall(r'href="/console/takedowns/(\d+)"',
                                            client.get("/console/takedowns").text)]
    assert rid in all_rids

    # supervisor approves every request, sends and marks removed
    _as(client, "supervisor1")
    for req_id in sorted(set(all_rids)):
        page = client.get(f"/console/takedowns/{req_id}").text
        assert 'id="approve-request"' in page
        r = _post(client, f"/console/takedowns/{req_id}/approve", f"/console/takedowns/{req_id}")
        assert r.status_code == 303, r.text
        r = _post(client, f"/console/takedowns/{req_id}/send", f"/console/takedowns/{req_id}")
        assert r.status_code == 303
        page = client.get(f"/console/takedowns/{req_id}").text
        assert "jam sejak dikirim" in page  # the SLA clock runs
        for item_id in re.findall(r'<tr id="item-(\d+)">', page):
            r = _post(client, f"/console/takedowns/{req_id}/items/{item_id}",
                      f"/console/takedowns/{req_id}", {"status": "removed"})
            assert r.status_code == 303
        page = client.get(f"/console/takedowns/{req_id}").text
        assert 'data-status="removed"' in page and 'data-status="sent"' not in page
    csv_export = client.get(f"/console/takedowns/{rid}/export?fmt=csv")
    assert csv_export.status_code == 200 and "/ad" in csv_export.text
    assert client.get(f"/console/takedowns/{rid}/export?fmt=text").status_code == 200

    after = client.get("/console/sla").text
    assert 'data-sent="2" data-removed="2"' in after
    assert '<td id="monthly-removed">2</td>' in after
    assert '<td id="monthly-share24">100.0%</td>' in after
    ok, bad = verify_chain(app.state.store)
    assert ok, bad


def test_drafter_supervisor_gets_403_with_reason(client: TestClient, app: FastAPI,
                                                 world: dict[str, int]) -> None:
    _as(client, "supervisor1")
    r = _post(client, "/console/cases", f"/console/pivot?kind=phone&value={PHONE}",
              {"kind": "phone", "value": "0812-3450-0077"})
    assert r.status_code == 303
    cid = _case_id(r)
    assert "#" + str(world["n2"]) in client.get(f"/console/cases/{cid}").text
    r = _post(client, f"/console/cases/{cid}/takedown", f"/console/cases/{cid}")
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/console/takedowns/{rid}").text
    assert 'id="approve-request"' not in page  # the drafter sees no approve button
    r = _post(client, f"/console/takedowns/{rid}/approve", f"/console/takedowns/{rid}",
              headers={"accept": "text/html"})
    assert r.status_code == 403
    assert "empat mata" in r.text and "four-eyes" in r.text


def test_close_without_takedown_needs_second_person(client: TestClient, app: FastAPI,
                                                    world: dict[str, int]) -> None:
    _as(client, "analis")
    r = _post(client, "/console/cases", "/console/queue", {"post_id": str(world["n3"])})
    cid = _case_id(r)
    r = _post(client, f"/console/cases/{cid}/close", f"/console/cases/{cid}",
              {"reason": "bukan rekrutmen ilegal"})
    assert r.status_code == 303
    page = client.get(f"/console/cases/{cid}").text
    assert 'data-status="open"' in page and "bukan rekrutmen ilegal" in page
    # analyst cannot approve closes at all
    assert _post(client, f"/console/cases/{cid}/approve-close",
                 f"/console/cases/{cid}").status_code == 403
    _as(client, "supervisor1")
    r = _post(client, f"/console/cases/{cid}/approve-close", f"/console/cases/{cid}")
    assert r.status_code == 303
    assert 'data-status="closed"' in client.get(f"/console/cases/{cid}").text


def test_permissions(client: TestClient, app: FastAPI, world: dict[str, int]) -> None:
    _as(client, "viewer1")
    assert client.get("/console/cases").status_code == 200
    assert "open-case-pivot" not in client.get(f"/console/pivot?kind=phone&value={PHONE}").text
    r = _post(client, "/console/cases", "/console/cases", {"post_id": str(world["n1"])})
    assert r.status_code == 403
    _as(client, "analis")
    r = _post(client, "/console/cases", "/console/queue", {"post_id": str(world["n1"])})
    cid = _case_id(r)
    _post(client, f"/console/cases/{cid}/takedown", f"/console/cases/{cid}")
    rid = int(re.findall(r'href="/console/takedowns/(\d+)"',
                         client.get("/console/takedowns").text)[0])
    _as(client, "viewer1")
    assert _post(client, f"/console/cases/{cid}/comment", "/console/cases",
                 {"text": "x"}).status_code == 403
    assert _post(client, f"/console/takedowns/{rid}/send", "/console/cases").status_code == 403
    # missing CSRF token is refused
    _as(client, "analis")
    r = client.post("/console/cases", data={"post_id": str(world["n1"])},
                    follow_redirects=False)
    assert r.status_code == 403
    # unknown post id and bad pivot kind: 400
    assert _post(client, "/console/cases", "/console/queue",
                 {"post_id": "999999"}).status_code == 400
    assert _post(client, "/console/cases", "/console/queue",
                 {"kind": "nope", "value": "x"}).status_code == 400
    assert client.get("/console/cases/999999").status_code == 404
    assert client.get("/console/takedowns/999999").status_code == 404


def test_takedown_recheck_and_reappearance_from_the_console(
        client: TestClient, app: FastAPI, world: dict[str, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """After sending, "re-check URLs now" re-fetches them (gone -> removed, shown with the
    last check); "look for reappearances" finds the same phone on a later post."""
    _as(client, "analis")
    r = _post(client, "/console/cases", "/console/queue",
              {"post_id": [str(world["n1"]), str(world["n2"])]})
    cid = _case_id(r)
    r = _post(client, f"/console/cases/{cid}/takedown", f"/console/cases/{cid}")
    assert r.status_code == 303
    rids = sorted({int(x) for x in re.findall(r'href="/console/takedowns/(\d+)"',
                                              client.get("/console/takedowns").text)})
    page = client.get(f"/console/takedowns/{rids[0]}").text
    assert 'id="verify-request"' not in page  # nothing sent yet: nothing to check
    _as(client, "supervisor1")
    for req_id in rids:
        _post(client, f"/console/takedowns/{req_id}/approve", f"/console/takedowns/{req_id}")
        _post(client, f"/console/takedowns/{req_id}/send", f"/console/takedowns/{req_id}")
    _as(client, "viewer1")  # a viewer sees the page but gets no button and a 403
    page = client.get(f"/console/takedowns/{rids[0]}").text
    assert 'id="verify-request"' not in page
    assert _post(client, f"/console/takedowns/{rids[0]}/verify",
                 f"/console/takedowns/{rids[0]}").status_code == 403

    _as(client, "analis")
    monkeypatch.delitem(PAGES, "/ad1.html")  # the first ad was taken down
    outcomes = {}
    for req_id in rids:
        page = client.get(f"/console/takedowns/{req_id}").text
        assert 'id="verify-request"' in page and "—" in page
        r = _post(client, f"/console/takedowns/{req_id}/verify", f"/console/takedowns/{req_id}")
        assert r.status_code == 303
        page = client.get(f"/console/takedowns/{req_id}").text
        assert "URL diperiksa" in page
        for url, outcome in re.findall(
                r'<td class="small">([^<]*)</td>\s*<td>[^<]*</td>.*?data-outcome="([a-z_]+)"',
                page, re.S):
            outcomes[url.rsplit("/", 1)[1]] = outcome
    assert outcomes == {"ad1.html": "removed", "ad2.html": "still_up"}, outcomes
    page = client.get(f"/console/takedowns/{rids[0]}").text + \
        client.get(f"/console/takedowns/{rids[-1]}").text
    assert "sudah turun" in page and "masih tayang" in page

    # the same phone shows up again on a post stored after the removal
    store = app.state.store
    run = store.start_run("later", {})
    store.save_batch(run, [(Post(key="n9", text="Loker baru admin, WA 0812-3450-0077",
                                 source="later", platform="facebook"),
                            _assessment("n9", 80, 22))])
    page = client.get("/console/takedowns").text
    assert 'id="look-reappear"' in page
    r = _post(client, "/console/takedowns/reappear", "/console/takedowns")
    assert r.status_code == 303
    page = client.get("/console/takedowns").text
    assert "1 item muncul kembali" in page
    assert 'data-status="reappeared"' in client.get(f"/console/cases/{cid}").text
    page = client.get(f"/console/takedowns/{rids[0]}").text + \
        client.get(f"/console/takedowns/{rids[-1]}").text
    assert page.count('class="status item-status" data-status="reappeared"') == 1
