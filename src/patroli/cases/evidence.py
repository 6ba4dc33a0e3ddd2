"""Evidence capture, chain of custody and evidence packages (issue 6, part A).

- ``capture_url``: fetch a URL safely (``patroli.cases.fetch``) into a gzipped WARC file
  (warcinfo, request, response, a ``resource`` record with the extracted text and a
  ``metadata`` record with the capture facts), plus the extracted text as its own file.
  Text extraction: trafilatura with ``favor_recall=True`` (keeps lists and table cells
  where contacts often are), else a standard-library HTML-to-text.
- ``capture_source_record``: a post's stored text and raw record as a canonical JSON
  artifact (for posts without a reachable URL).
- ``capture_case``: every URL of a case (posts' URLs and url entities); a post whose URL
  is missing or unreachable keeps its source record.
- ``export_package`` / ``verify_package``: a ZIP with ``manifest.json`` (case, posts,
  every artifact's SHA-256 and size, capture facts, custody log, timeline), the
  artifacts under ``artifacts/`` and a rendered ``summary.html``; verification
  recomputes every hash from the ZIP alone.

Artifacts live in the evidence directory (``$PATROLI_EVIDENCE_DIR``; default
``evidence/`` beside a SQLite database file, else ``./evidence``), named by their SHA-256
(``<sha256>.warc.gz``, ``<sha256>.txt``, ``<sha256>.json``), written once, never changed.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import io
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from patroli import __version__
from patroli.cases.fetch import Fetcher, FetchError, FetchResult
from patroli.cases.model import CaseError
from patroli.store import cases as store_cases

if TYPE_CHECKING:
    from patroli.store import Store

__all__ = [
    "EVIDENCE_DIR_ENV",
    "MANIFEST_FORMAT",
    "CaptureReport",
    "capture_case",
    "capture_source_record",
    "capture_url",
    "evidence_dir",
    "export_package",
    "extract_text",
    "verify_package",
]

EVIDENCE_DIR_ENV = "PATROLI_EVIDENCE_DIR"
#: ``manifest.json`` "format" value.
MANIFEST_FORMAT = "patroli-evidence-package/1"
TOOL_VERSION = f"patroli {__version__}"


def evidence_dir(store: Store) -> Path:
    """The evidence directory (created when missing): ``$PATROLI_EVIDENCE_DIR``, else
    ``evidence/`` beside the SQLite database file, else ``./evidence``."""
    env = os.environ.get(EVIDENCE_DIR_ENV, "").strip()
    if env:
        d = Path(env).expanduser()
    else:
        url = make_url(store.url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            d = Path(url.database).expanduser().resolve().parent / "evidence"
        else:
            d = Path("evidence").resolve()
    d.mkdir(parents=True, exist_ok=True)
    return d


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store_blob(directory: Path, data: bytes, suffix: str) -> tuple[str, int, str]:
    """Write ``data`` as ``<sha256><suffix>`` (atomically, once); (sha256, size, name)."""
    digest = _sha256(data)
    name = digest + suffix
    target = directory / name
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return digest, len(data), name


# -- text extraction ----------------------------------------------------------------------


class _TextParser(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head"}
    _BLOCK = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
              "section", "article", "ul", "ol", "table", "blockquote", "pre", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(markup: str) -> str:
    p = _TextParser()
    p.feed(markup)
    p.close()
    lines = (" ".join(line.split()) for line in "".join(p.parts).splitlines())
    return "\n".join(line for line in lines if line)


def extract_text(body: bytes, content_type: str | None) -> str:
    """Readable text of a response body. HTML: trafilatura (``favor_recall=True``) when
    installed and it finds text, else a standard-library HTML-to-text; text/*: the body
    decoded (charset from ``content_type``, else UTF-8 with replacement); other types: ""."""
    ctype = (content_type or "").lower()
    charset = "utf-8"
    if "charset=" in ctype:
        charset = ctype.split("charset=", 1)[1].split(";")[0].strip().strip('"') or "utf-8"
    try:
        decoded = body.decode(charset, errors="replace")
    except LookupError:
        decoded = body.decode("utf-8", errors="replace")
    is_html = "html" in ctype or (not ctype and decoded.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")))
    if not is_html:
        return decoded if ctype.startswith("text/") or not ctype else ""
    try:
        import trafilatura

        text = trafilatura.extract(decoded, favor_recall=True, include_comments=False,
                                   include_tables=True, include_links=False)
        if text and text.strip():
            return text
    except ImportError:
        pass
    return _html_to_text(decoded)


def _decoded_body(result: FetchResult) -> bytes:
    enc = (result.header("content-encoding") or "").lower().strip()
    try:
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(result.body)
        if enc == "deflate":
            try:
                return zlib.decompress(result.body)
            except zlib.error:
                return zlib.decompress(result.body, -zlib.MAX_WBITS)
    except (OSError, zlib.error, EOFError):
        return result.body
    return result.body


# -- WARC ---------------------------------------------------------------------------------


def _warc_bytes(result: FetchResult, text: str, actor: str) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record(
        f"{result.fetched_at.strftime('%Y%m%dT%H%M%SZ')}.warc.gz",
        {"software": TOOL_VERSION, "format": "WARC File Format 1.1",
         "operator": actor, "description": "patroli evidence capture"})
    writer.write_record(info)
    date = result.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    proto = result.http_version or "HTTP/1.1"
    req_path = result.final_url.split("://", 1)[-1]
    req_path = "/" + req_path.split("/", 1)[1] if "/" in req_path else "/"
    req_headers = StatusAndHeaders(f"GET {req_path} {proto}", list(result.request_headers),
                                   is_http_request=True)
    request = writer.create_warc_record(
        result.final_url, "request", http_headers=req_headers,
        warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": result.peer_ip})
    resp_headers = [(k, v) for k, v in result.response_headers
                    if k.lower() != "transfer-encoding"]
    response = writer.create_warc_record(
        result.final_url, "response", payload=io.BytesIO(result.body),
        length=len(result.body),
        http_headers=StatusAndHeaders(f"{result.status} {result.reason}".strip(),
                                      resp_headers, protocol=proto),
        warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": result.peer_ip})
    writer.write_record(request)
    writer.write_record(response)
    rid = response.rec_headers.get_header("WARC-Record-ID")
    text_bytes = text.encode("utf-8")
    resource = writer.create_warc_record(
        f"urn:patroli:text:{result.final_url}", "resource", payload=io.BytesIO(text_bytes),
        length=len(text_bytes),
        warc_content_type="text/plain; charset=utf-8",
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": rid})
    writer.write_record(resource)
    meta = json.dumps({"requested_url": result.url, "final_url": result.final_url,
                       "status": result.status, "redirects": result.redirects,
                       "peer_ip": result.peer_ip, "captured_by": actor,
                       "tool_version": TOOL_VERSION, "captured_at": date,
                       "text_sha256": _sha256(text_bytes)},
                      sort_keys=True, ensure_ascii=False).encode("utf-8")
    metadata = writer.create_warc_record(
        result.final_url, "metadata", payload=io.BytesIO(meta), length=len(meta),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": rid})
    writer.write_record(metadata)
    return buf.getvalue()


def capture_url(store: Store, case_id: int, url: str, *, actor: str,
                fetcher: Fetcher | None = None, post_id: int | None = None) -> int:
    """Capture ``url`` into a WARC artifact + extracted-text artifact; returns the new
    evidence id (kind ``warc``; custody ``captured`` recorded). Raises FetchError /
    UnsafeURLError when the URL cannot or may not be fetched (nothing stored then), and
    CaseNotFoundError for an unknown case."""
    store_cases.get_case(store, case_id)
    result = (fetcher or Fetcher()).fetch(url)
    text = extract_text(_decoded_body(result), result.header("content-type"))
    warc = _warc_bytes(result, text, actor)
    d = evidence_dir(store)
    sha, size, name = _store_blob(d, warc, ".warc.gz")
    tsha, tsize, tname = _store_blob(d, text.encode("utf-8"), ".txt")
    return store_cases.add_evidence(
        store, case_id, kind="warc", sha256=sha, size=size, path=name, actor=actor,
        tool_version=TOOL_VERSION, captured_at=result.fetched_at, url=url, post_id=post_id,
        http_status=result.status, final_url=result.final_url, text_sha256=tsha,
        text_size=tsize, text_path=tname,
        details={"redirects": [list(r) for r in result.redirects], "peer_ip": result.peer_ip,
                 "content_type": result.header("content-type")})


def _source_record_bytes(post: dict[str, Any]) -> bytes:
    rec = {k: post.get(k) for k in ("post_id", "key", "source", "platform", "url", "author",
                                    "posted_at", "text", "raw")}
    return json.dumps(rec, sort_keys=True, ensure_ascii=False, indent=1,
                      default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o)
                      ).encode("utf-8")


def capture_source_record(store: Store, case_id: int, post_id: int, *, actor: str,
                          reason: str = "") -> int:
    """Keep a post's stored text and raw record as a JSON artifact (kind
    ``source_record``); returns the evidence id. An identical record already held by
    the case is not stored twice (its id is returned). CaseError when the post is not in
    the case."""
    posts = {p["post_id"]: p for p in store_cases.case_posts(store, case_id)}
    if post_id not in posts:
        raise CaseError(f"post {post_id} is not in case {case_id}")
    data = _source_record_bytes(posts[post_id])
    digest = _sha256(data)
    for ev in store_cases.list_evidence(store, case_id):
        if ev.kind == "source_record" and ev.sha256 == digest:
            return ev.id
    sha, size, name = _store_blob(evidence_dir(store), data, ".json")
    return store_cases.add_evidence(
        store, case_id, kind="source_record", sha256=sha, size=size, path=name, actor=actor,
        tool_version=TOOL_VERSION, captured_at=datetime.now(UTC), url=posts[post_id]["url"],
        post_id=post_id, details={"reason": reason} if reason else None)


@dataclass(slots=True)
class CaptureReport:
    """Result of ``capture_case``: evidence ids of WARC captures and source records, and
    the URLs that failed with their one-line reason."""

    captured: list[int] = field(default_factory=list)
    source_records: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def capture_case(store: Store, case_id: int, *, actor: str,
                 fetcher: Fetcher | None = None) -> CaptureReport:
    """Capture every URL of a case (each post's URL, then url entities of the case, each
    distinct URL once); a post without URL, whose URL fails or answers an HTTP error
    (4xx/5xx) keeps its source record.
    Moves an ``open`` case to ``evidence_collected`` when anything was captured."""
    detail = store_cases.case_detail(store, case_id)
    fetcher = fetcher or Fetcher()
    report = CaptureReport()
    done: dict[str, bool] = {}
    for post in detail["posts"]:
        url = (post.get("url") or "").strip()
        ok = False
        reason = "no URL"
        if url.lower().startswith(("http://", "https://")):
            if url in done:
                ok = done[url]
                reason = "URL not reachable"
            else:
                try:
                    eid = capture_url(store, case_id, url, actor=actor, fetcher=fetcher,
                                      post_id=post["post_id"])
                    report.captured.append(eid)
                    status = next(e.http_status for e in store_cases.list_evidence(
                        store, case_id) if e.id == eid)
                    # a 4xx/5xx capture proves the page is gone: keep the record too
                    ok = status is not None and status < 400
                    reason = f"HTTP {status}"
                except FetchError as exc:
                    reason = str(exc)
                    report.failed.append((url, reason))
                done[url] = ok
        if not ok:
            report.source_records.append(capture_source_record(
                store, case_id, post["post_id"], actor=actor, reason=reason))
    for item in detail["items"]:
        if item.item_kind == "entity" and item.ref_kind == "url" and item.ref not in done:
            try:
                report.captured.append(capture_url(store, case_id, item.ref, actor=actor,
                                                   fetcher=fetcher))
                done[item.ref] = True
            except FetchError as exc:
                report.failed.append((item.ref, str(exc)))
                done[item.ref] = False
    if (report.captured or report.source_records) and detail["case"].status == "open":
        store_cases.set_status(store, case_id, "evidence_collected", actor=actor,
                               note="evidence captured")
    return report


# -- packages -----------------------------------------------------------------------------


def _render_summary(manifest: dict[str, Any]) -> str:
    e = html.escape
    case = manifest["case"]
    rows_posts = "".join(
        f"<tr><td>{e(str(p['post_id']))}</td><td>{e(p.get('platform') or '')}</td>"
        f"<td>{e(p.get('url') or '')}</td><td>{e(p.get('author') or '')}</td>"
        f"<td>{e(str(p.get('risk_score') if p.get('risk_score') is not None else '-'))}"
        f" {e(p.get('level') or '')}</td><td>{e(', '.join(p.get('indicators') or []))}</td>"
        f"<td>{e((p.get('text') or '')[:500])}</td></tr>"
        for p in manifest["posts"])
    rows_ev = "".join(
        f"<tr><td>{e(str(it['id']))}</td><td>{e(it['kind'])}</td><td>{e(it.get('url') or '')}"
        f"</td><td>{e(str(it.get('http_status') or ''))}</td><td>{e(it['captured_at'])}</td>"
        f"<td>{e(it['captured_by'])}</td><td>"
        + "<br>".join(f"{e(a['path'])}: <code>{e(a['sha256'])}</code> ({a['size']} B)"
                      for a in it["artifacts"])
        + "</td></tr>"
        for it in manifest["evidence"])
    return (
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">"
        f"<title>Paket bukti / Evidence package: kasus {e(str(case['id']))}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px;vertical-align:top;font-size:90%}"
        "code{word-break:break-all}</style></head><body>"
        f"<h1>Kasus / Case #{e(str(case['id']))}: {e(case['title'])}</h1>"
        f"<p>Status: {e(case['status'])} · Prioritas / priority: {e(case['priority'])} · "
        f"Penanggung jawab / assignee: {e(case.get('assignee') or '-')}</p>"
        f"<p>Dibuat / generated: {e(manifest['generated_at'])} oleh / by "
        f"{e(manifest['generated_by'])} ({e(manifest['tool_version'])})</p>"
        "<p>Hasil deteksi adalah petunjuk, bukan bukti tindak pidana. / Detections are "
        "leads, not proof of a crime.</p>"
        "<h2>Pos / Posts</h2><table><tr><th>id</th><th>platform</th><th>URL</th>"
        "<th>akun / account</th><th>risiko / risk</th><th>indikator / indicators</th>"
        f"<th>teks / text</th></tr>{rows_posts}</table>"
        "<h2>Bukti / Evidence</h2><table><tr><th>id</th><th>jenis / kind</th><th>URL</th>"
        "<th>HTTP</th><th>waktu / captured (UTC)</th><th>oleh / by</th>"
        f"<th>SHA-256</th></tr>{rows_ev}</table></body></html>")


def export_package(store: Store, case_id: int, path: str | Path, actor: str) -> Path:
    """Write the evidence package of a case to ``path`` (a ZIP); returns the path.

    Records an ``exported`` custody event for each evidence item and a case event
    ``evidence.export`` holding the manifest's SHA-256 (keep it to prove the manifest
    itself unchanged). Raises CaseError when an artifact file is missing or no longer
    matches its recorded SHA-256 (nothing written then).
    """
    out = Path(path)
    d = evidence_dir(store)
    items = store_cases.list_evidence(store, case_id)
    files: dict[str, bytes] = {}
    for ev in items:
        for name, sha in ((ev.path, ev.sha256), (ev.text_path, ev.text_sha256)):
            if not name or sha is None:
                continue
            fp = d / name
            if not fp.is_file():
                raise CaseError(f"evidence file missing: {fp}")
            data = fp.read_bytes()
            if _sha256(data) != sha:
                raise CaseError(f"evidence file {fp} does not match its SHA-256 {sha}")
            files[f"artifacts/{name}"] = data
    if items:
        store_cases.add_custody(store, [ev.id for ev in items], "exported", actor=actor,
                                details={"package": out.name})
    detail = store_cases.case_detail(store, case_id)
    custody = store_cases.custody_log(store, case_id=case_id)
    now = datetime.now(UTC)
    ev_entries = []
    for ev in detail["evidence"]:
        arts = [{"path": f"artifacts/{ev.path}", "role": ev.kind, "sha256": ev.sha256,
                 "size": ev.size}]
        if ev.text_path and ev.text_sha256:
            arts.append({"path": f"artifacts/{ev.text_path}", "role": "extracted_text",
                         "sha256": ev.text_sha256, "size": ev.text_size})
        d_ev = ev.to_dict()
        d_ev["artifacts"] = arts
        d_ev["custody"] = [c.to_dict() for c in custody if c.evidence_id == ev.id]
        ev_entries.append(d_ev)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT, "generated_at": now.isoformat(), "generated_by": actor,
        "tool_version": TOOL_VERSION, "case": detail["case"].to_dict(),
        "items": [i.to_dict() for i in detail["items"]],
        "posts": [{k: (v.isoformat() if isinstance(v, datetime) else v)
                   for k, v in p.items() if k != "raw"} for p in detail["posts"]],
        "evidence": ev_entries,
        "timeline": [e.to_dict() for e in detail["events"]],
    }
    summary = _render_summary(manifest).encode("utf-8")
    manifest["files"] = [{"path": "summary.html", "sha256": _sha256(summary),
                          "size": len(summary)}] + [
        {"path": n, "sha256": _sha256(b), "size": len(b)} for n, b in sorted(files.items())]
    mbytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", mbytes)
        zf.writestr("summary.html", summary)
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
    os.replace(tmp, out)
    with store._write() as conn:
        store_cases.append_case_event(conn, case_id, actor, "evidence.export",
                                      {"package": out.name, "manifest_sha256": _sha256(mbytes),
                                       "n_evidence": len(items)})
    return out


def verify_package(path: str | Path) -> list[str]:
    """Problems found in an evidence package, from the ZIP alone (no database); [] when
    every listed file is present with its SHA-256 and size, every evidence artifact is
    listed, and no unlisted file is present."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"not a readable ZIP file: {exc}"]
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            return ["manifest.json is missing"]
        try:
            manifest = json.loads(zf.read("manifest.json").decode("utf-8"))
            listed = {f["path"]: f for f in manifest["files"]}
            evidence = manifest["evidence"]
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            return [f"manifest.json is not a valid manifest: {exc}"]
        if manifest.get("format") != MANIFEST_FORMAT:
            problems.append(f"unknown manifest format {manifest.get('format')!r}")
        for ev in evidence:
            for art in ev.get("artifacts", []):
                f = listed.get(art.get("path"))
                if f is None or f.get("sha256") != art.get("sha256"):
                    problems.append(f"evidence {ev.get('id')}: artifact {art.get('path')} "
                                    "not listed with the same SHA-256")
        for name, f in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: listed in the manifest but missing")
                continue
            try:
                data = zf.read(name)
            except (zipfile.BadZipFile, OSError, zlib.error) as exc:
                problems.append(f"{name}: unreadable ({exc})")
                continue
            if _sha256(data) != f.get("sha256"):
                problems.append(f"{name}: SHA-256 {_sha256(data)} != manifest {f.get('sha256')}")
            elif len(data) != f.get("size"):
                problems.append(f"{name}: size {len(data)} != manifest {f.get('size')}")
        for name in sorted(names - set(listed) - {"manifest.json"}):
            problems.append(f"{name}: not listed in the manifest")
    return problems
