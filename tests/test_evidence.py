"""Evidence (issue 6 part A): safe fetching, WARC capture from a local server (test-only
override), source records, package export + verify + tamper detection, CLI."""

from __future__ import annotations

import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from test_cases import seed
from typer.testing import CliRunner

from patroli.cases import evidence as ev
from patroli.cases import fetch
from patroli.cases.fetch import Fetcher, FetchError, UnsafeURLError, check_address
from patroli.store import Store
from patroli.store import cases as sc

PAGE = (b"<html><head><title>Loker</title></head><body><h1>Loker Taiwan</h1>"
        b"<ul><li>Gaji 30jt</li><li>WA 0812-0000-3185</li></ul>"
        b"<script>var x=1</script></body></html>")


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/redirect-to/"):
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect-to/"):])
            self.end_headers()
        elif self.path == "/hop":
            self.send_response(301)
            self.send_header("Location", "/page")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"x" * 300_000)
        elif self.path == "/page":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


LOCAL = Fetcher(allow_private={"127.0.0.1"}, total_timeout=5)


# -- address safety --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost/", "http://10.0.0.1/", "http://169.254.169.254/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:192.168.1.1]/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/", "http://[fe80::1]/",
    "http://[fd00:ec2::254]/", "http://172.16.5.4:8080/", "http://[64:ff9b::a00:1]/",
    "ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/",
])
def test_default_fetcher_refuses_non_public(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        Fetcher().fetch(url)


def test_public_addresses_pass_the_check() -> None:
    for a in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"):
        check_address(a)


def test_default_fetcher_refuses_local_server(server: str) -> None:
    with pytest.raises(UnsafeURLError, match="loopback"):
        Fetcher().fetch(server + "/page")
    with pytest.raises(UnsafeURLError, match="loopback"):
        Fetcher().fetch(server + "/redirect-to/http://10.0.0.1/")


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://169.254.169.254/latest/",
                                    "http://127.0.0.2:9/", "http://[::1]/"])
def test_redirect_to_private_is_refused(server: str, target: str) -> None:
    """Only 127.0.0.1 itself is exempt: each redirect hop is checked again."""
    with pytest.raises(UnsafeURLError):
        LOCAL.fetch(server + "/redirect-to/" + target)


def test_hostname_resolving_to_private_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "resolve_host", lambda host, port: ["10.1.2.3"])
    with pytest.raises(UnsafeURLError, match="private"):
        Fetcher().fetch("http://innocent.example/")
    # one bad address among several answers is enough to refuse
    monkeypatch.setattr(fetch, "resolve_host", lambda host, port: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(UnsafeURLError, match="loopback"):
        Fetcher().fetch("http://innocent.example/")


def test_pinned_connection_uses_checked_address(server: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    port = server.rsplit(":", 1)[1]
    monkeypatch.setattr(fetch, "resolve_host", lambda host, port: ["127.0.0.1"])
    r = LOCAL.fetch(f"http://evidence.example:{port}/hop")
    assert r.status == 200 and r.peer_ip == "127.0.0.1" and r.body == PAGE
    assert r.final_url == f"http://evidence.example:{port}/page"
    assert r.redirects == [(f"http://evidence.example:{port}/hop", 301)]
    assert ("Host", f"evidence.example:{port}") in r.request_headers


def test_limits(server: str) -> None:
    with pytest.raises(FetchError, match="redirects"):
        LOCAL.fetch(server + "/loop")
    with pytest.raises(FetchError, match="larger than"):
        Fetcher(allow_private={"127.0.0.1"}, max_bytes=100_000).fetch(server + "/big")


# -- capture, packages ---------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv(ev.EVIDENCE_DIR_ENV, str(tmp_path / "evidence"))
    s = Store(f"sqlite:///{tmp_path / 'p.db'}")
    yield s
    s.close()


def _case_with_local_urls(store: Store, server: str) -> int:
    ids = seed(store)
    with store._write() as conn:
        conn.execute(text("UPDATE posts SET url = :u WHERE id = :i"),
                     {"u": server + "/hop", "i": ids["P1"]})
        conn.execute(text("UPDATE posts SET url = :u WHERE id = :i"),
                     {"u": server + "/missing-host-redirect", "i": ids["P3"]})
    return sc.create_case(store, title="Jaringan <Taiwan> & co", actor="ana",
                          post_ids=list(ids.values()))


def test_capture_case_and_export_verify(store: Store, server: str, tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    cid = _case_with_local_urls(store, server)
    rep = ev.capture_case(store, cid, actor="ana", fetcher=LOCAL)
    assert len(rep.captured) == 2  # P1's page and P3's 404 page (a capture, too)
    assert len(rep.source_records) == 2  # P2 has no URL, P3's page answers 404
    items = sc.list_evidence(store, cid)
    warc = next(i for i in items if i.kind == "warc" and i.http_status == 200)
    assert warc.final_url == server + "/page" and warc.captured_by == "ana"
    data = (tmp_path / "evidence" / warc.path).read_bytes()
    import hashlib
    assert hashlib.sha256(data).hexdigest() == warc.sha256 == warc.path.split(".")[0]
    types = [r.rec_type for r in ArchiveIterator(io.BytesIO(data))]
    assert types == ["warcinfo", "request", "response", "resource", "metadata"]
    extracted = (tmp_path / "evidence" / (warc.text_path or "")).read_text()
    assert "0812-0000-3185" in extracted and "var x" not in extracted  # list kept
    assert sc.get_case(store, cid).status == "evidence_collected"
    src = next(i for i in items if i.kind == "source_record")
    rec = json.loads((tmp_path / "evidence" / src.path).read_text())
    assert rec["key"] == "P2" and rec["raw"]["id"] == "P2"

    pkg = ev.export_package(store, cid, tmp_path / "case.zip", "budi")
    assert ev.verify_package(pkg) == []
    with zipfile.ZipFile(pkg) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        summary = zf.read("summary.html").decode()
    assert "Jaringan &lt;Taiwan&gt; &amp; co" in summary and "<Taiwan>" not in summary
    assert warc.sha256 in summary
    custody = manifest["evidence"][0]["custody"]
    assert [c["action"] for c in custody] == ["captured", "exported"]
    assert {a["sha256"] for e in manifest["evidence"] for a in e["artifacts"]} >= {warc.sha256}
    assert sc.timeline(store, cid)[-1].kind == "evidence.export"

    # tampering: change one artifact's bytes, keep the manifest
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pkg) as src_zip, zipfile.ZipFile(tampered, "w") as out:
        for info in src_zip.infolist():
            blob = src_zip.read(info.filename)
            if info.filename.endswith(".txt"):
                blob = blob.replace(b"30jt", b"3jt")
            out.writestr(info.filename, blob)
        out.writestr("artifacts/extra.bin", b"planted")
    problems = ev.verify_package(tampered)
    assert any(".txt: SHA-256" in p for p in problems)
    assert any("extra.bin: not listed" in p for p in problems)


def test_capture_refuses_private_by_default(store: Store, server: str) -> None:
    cid = _case_with_local_urls(store, server)
    rep = ev.capture_case(store, cid, actor="ana")  # default Fetcher
    assert rep.captured == [] and len(rep.source_records) == 3
    assert all("loopback" in reason for _u, reason in rep.failed)


def test_cli_flow(store: Store, server: str, tmp_path: Path) -> None:
    from patroli.cli_cases import case_app

    ids = seed(store)
    db = store.url
    r = CliRunner()
    res = r.invoke(case_app, ["create", "--from-entity", "phone", "0812-0000-3185",
                              "--db", db, "--by", "ana"])
    assert res.exit_code == 0, res.output
    cid = sc.list_cases(store)[0]["id"]
    assert {p["post_id"] for p in sc.case_posts(store, cid)} == {ids["P1"], ids["P2"]}
    assert r.invoke(case_app, ["comment", str(cid), "lihat", "--db", db]).exit_code == 0
    res = r.invoke(case_app, ["status", str(cid), "resolved", "--db", db])
    assert res.exit_code == 2 and "not allowed" in res.output
    assert r.invoke(case_app, ["capture", str(cid), "--db", db, "--by", "ana"]).exit_code == 0
    out = tmp_path / "p.zip"
    assert r.invoke(case_app, ["export", str(cid), str(out), "--db", db]).exit_code == 0
    assert r.invoke(case_app, ["verify-package", str(out)]).exit_code == 0
    assert r.invoke(case_app, ["close", str(cid), "--db", db, "--by", "ana"]).exit_code == 0
    res = r.invoke(case_app, ["approve-close", str(cid), "--db", db, "--by", "ana"])
    assert res.exit_code == 2 and sc.get_case(store, cid).status != "closed"
    res = r.invoke(case_app, ["approve-close", str(cid), "--db", db, "--by", "budi"])
    assert res.exit_code == 0 and sc.get_case(store, cid).status == "closed"
    res = r.invoke(case_app, ["show", str(cid), "--db", db])
    assert res.exit_code == 0 and "close.approve" in res.output
