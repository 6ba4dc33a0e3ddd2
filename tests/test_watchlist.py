"""Watchlist / allowlist values, store round trips (SQLite and PostgreSQL) and the
``patroli watchlist`` commands."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from patroli.analysis.entities import extract_entities
from patroli.cli_verify import watchlist_app
from patroli.store import Store
from patroli.store.registry import (
    add_watch,
    export_watchlist,
    import_watchlist,
    remove_watch,
    watch_entries,
)
from patroli.verify.model import WatchEntry
from patroli.verify.watchlist import (
    WatchValueError,
    default_allowlist_path,
    domain_covers,
    normalize_watch_value,
    read_watchlist,
)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("phone", "0812-0000-3185", "+6281200003185"),
    ("phone", "+62 812 0000 3185", "+6281200003185"),
    ("phone", "62 812 0000 3185", "+6281200003185"),
    ("phone", "0062 812-0000-3185", "+6281200003185"),
    ("phone", "wa.me/6281200003185", "+6281200003185"),
    ("phone", "O812 OOOO 3185", "+6281200003185"),
    ("phone", "(021) 0000-4417", "+622100004417"),
    ("phone", "+60 11-0000 5521", "+601100005521"),
    ("phone", "0800-1000", "+628001000"),
    ("telegram", "@Loker_TW", "@loker_tw"),
    ("telegram", "Loker_TW", "@loker_tw"),
    ("telegram", "https://t.me/Loker_TW", "@loker_tw"),
    ("domain", "https://www.Agen-Kerja.example/daftar?x=1", "agen-kerja.example"),
    ("domain", "KP2MI.go.id", "kp2mi.go.id"),
    ("domain", "*.go.id", "go.id"),
    ("url", "WWW.Agen.example/Daftar", "https://agen.example/Daftar"),
    ("url", "bit.ly/loker123", "https://bit.ly/loker123"),
    ("email", " Info@Agen.Example ", "info@agen.example"),
    ("account", "fb.com/Loker.TW", "facebook:loker.tw"),
    ("account", "https://www.instagram.com/LokerLN/", "instagram:lokerln"),
    ("account", "IG:@LokerLN", "instagram:lokerln"),
    ("account", "tiktok.com/@Kerja.Jepang", "tiktok:kerja.jepang"),
    ("account", "twitter:LokerLN", "x:lokerln"),
    ("bank_account", "0000-01-123456-50-7", "000001123456507"),
    ("bank_account", "BRI 0000-01-123456-50-7", "bri:000001123456507"),
    ("bank_account", "Bank Mandiri: 000 0123 4567", "mandiri:00001234567"),
])
def test_normalize_watch_value(kind: str, raw: str, expected: str) -> None:
    assert normalize_watch_value(kind, raw) == expected


@pytest.mark.parametrize(("kind", "raw"), [
    ("phone", "0812"), ("phone", "hubungi kami"), ("phone", "0812-0000-3185 / 0857-0000-2290"),
    ("telegram", "@a"), ("telegram", "two words"), ("domain", "localhost"),
    ("domain", "not a domain"), ("url", "ftp://x.example/a"), ("email", "no-at.example"),
    ("account", "loker.tw"), ("account", "myspace:loker"), ("bank_account", "12"),
    ("pager", "123"), ("phone", ""), ("phone", "   "),
])
def test_bad_values_raise(kind: str, raw: str) -> None:
    with pytest.raises(WatchValueError):
        normalize_watch_value(kind, raw)


def test_values_equal_what_analysis_extracts() -> None:
    text = ("Hub WA 0812-0000-3185 atau t.me/Loker_TW, daftar di https://www.Agen.example/x, "
            "email Rekrut@Agen.example")
    ents = {(e.kind, e.value) for e in extract_entities(text)}
    for kind, raw in (("phone", "0812 0000 3185"), ("telegram", "@LOKER_TW"),
                      ("domain", "agen.example"), ("url", "https://www.Agen.example/x"),
                      ("email", "rekrut@agen.example")):
        assert (kind, normalize_watch_value(kind, raw)) in ents


@settings(max_examples=60, deadline=None)
@given(st.text("0123456789", min_size=8, max_size=8),
       st.sampled_from(["0812{}", "+62812{}", "62 812 {}", "0812-{}", "(0812) {}", "0062812{}"]))
def test_phone_forms_normalise_alike(digits: str, template: str) -> None:
    sub = digits[:4] + ("-" if "-" in template else " ") + digits[4:]
    got = normalize_watch_value("phone", template.format(sub))
    assert got == "+62812" + digits


def test_domain_covers() -> None:
    assert domain_covers("go.id", "kp2mi.go.id")
    assert domain_covers("agen.example", "agen.example")
    assert not domain_covers("agen.example", "fakeagen.example")
    assert not domain_covers("go.id", "go.id.example")


def test_bundled_allowlist_reads_clean() -> None:
    errors: list = []
    entries = read_watchlist(default_allowlist_path(), "allow", added_by="test",
                             on_error=errors.append)
    assert errors == []
    values = {(e.kind, e.value) for e in entries}
    for host in ("go.id", "kp2mi.go.id", "bp2mi.go.id", "kemnaker.go.id", "kemlu.go.id",
                 "komdigi.go.id", "aduankonten.id", "lapor.go.id"):
        assert ("domain", host) in values
    assert ("phone", "+628001000") in values
    assert all(e.reason and e.source and e.added_at for e in entries)


def test_add_dedupe_remove_list(store: Store) -> None:
    e = add_watch(store, WatchEntry("phone", "0812-0000-3185", reason="kasus 12/2026",
                                    source="case-12", added_by="ani"))
    assert e.value == "+6281200003185" and e.entry_id is not None
    assert e.added_at is not None and e.added_at.tzinfo is not None
    again = add_watch(store, WatchEntry("phone", "+62 812 0000 3185", reason="kasus 15",
                                        source="case-15", added_by="budi"))
    assert again.entry_id == e.entry_id
    (only,) = watch_entries(store, "watch")
    assert (only.reason, only.source, only.added_by) == ("kasus 15", "case-15", "budi")
    # same value on the other list is another entry
    add_watch(store, WatchEntry("phone", "0812 0000 3185", list_name="allow",
                                reason="nomor kantor", added_by="ani"))
    assert len(watch_entries(store)) == 2
    assert len(watch_entries(store, kind="phone", list_name="allow")) == 1
    with pytest.raises(WatchValueError):
        remove_watch(store, "phone", "0812-0000-3185", "watch", removed_by="", reason="x")
    assert remove_watch(store, "phone", "0812-0000-3185", "watch", "ani", "salah input")
    assert not remove_watch(store, "phone", "0812-0000-3185", "watch", "ani", "lagi")
    assert [x.list_name for x in watch_entries(store)] == ["allow"]
    removed = [x for x in watch_entries(store, "watch", active_only=False) if x.removed_at]
    assert [(x.removed_by, x.removed_reason) for x in removed] == [("ani", "salah input")]
    # re-adding after removal creates a new active entry; the removed one stays for the audit
    add_watch(store, WatchEntry("phone", "0812-0000-3185", reason="muncul lagi"))
    assert len(watch_entries(store, "watch", active_only=False)) == 2
    assert len(watch_entries(store, "watch")) == 1


def test_allowlist_needs_who_and_why(store: Store) -> None:
    with pytest.raises(WatchValueError, match="added_by"):
        add_watch(store, WatchEntry("domain", "kp2mi.go.id", list_name="allow", reason="x"))
    with pytest.raises(WatchValueError, match="reason"):
        add_watch(store, WatchEntry("domain", "kp2mi.go.id", list_name="allow",
                                    added_by="ani"))
    with pytest.raises(WatchValueError):
        add_watch(store, WatchEntry("domain", "kp2mi.go.id", list_name="grey", reason="x"))
    assert watch_entries(store) == []


def test_import_export_round_trip(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["kind", "value", "reason", "source", "date", "note"])
        w.writerow(["phone", "0812-0000-3185", "penipuan kerja Kamboja", "", "2026-10-01", "a"])
        w.writerow(["telegram", "t.me/Loker_Asia", "=HYPERLINK(\"x\")", "Komdigi notice 7",
                    "2026-10-02T08:30:00+07:00", ""])
        w.writerow(["domain", "https://www.kerja-cepat.example/daftar", "situs palsu", "", "",
                    ""])
        w.writerow(["bank_account", "BRI 0000-01-123456-50-7", "rekening pribadi", "", "", ""])
        w.writerow(["phone", "12", "too short", "", "", ""])          # row 6
        w.writerow(["fax", "021 0000 1", "unknown kind", "", "", ""])  # row 7
        w.writerow(["email", "x@agen.example", "bad date", "", "kemarin", ""])  # row 8
        w.writerow(["", "", "", "", "", ""])                           # blank, ignored
    n, errors = import_watchlist(store, src, "watch", added_by="ani", source="case-9")
    assert n == 4
    assert [e.row for e in errors] == [6, 7, 8]
    got = {e.kind: e for e in watch_entries(store, "watch")}
    assert got["phone"].value == "+6281200003185" and got["phone"].source == "case-9"
    assert got["phone"].added_at == datetime(2026, 10, 1, tzinfo=UTC)
    assert got["telegram"].value == "@loker_asia" and got["telegram"].source == "Komdigi notice 7"
    assert got["telegram"].added_at == datetime(2026, 10, 2, 1, 30, tzinfo=UTC)
    assert got["domain"].value == "kerja-cepat.example"
    assert got["bank_account"].value == "bri:000001123456507"

    out = tmp_path / "out.csv"
    assert export_watchlist(store, out, "watch") == 4
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["kind"] for r in rows] == ["phone", "telegram", "domain", "bank_account"]
    tg = next(r for r in rows if r["kind"] == "telegram")
    assert tg["reason"] == "'=HYPERLINK(\"x\")"  # spreadsheet formula guard
    # importing the export into a fresh list gives the same entries
    n2, errors2 = import_watchlist(store, out, "allow", added_by="budi", source="")
    assert (n2, errors2) == (4, [])
    a = {(e.kind, e.value, e.reason, e.source, e.added_at) for e in watch_entries(store, "watch")}
    b = {(e.kind, e.value, e.reason, e.source, e.added_at) for e in watch_entries(store, "allow")}
    assert a == b


def test_allowlist_import_rows_need_reason(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "allow.csv"
    src.write_text("kind,value,reason,source,date\ndomain,kemnaker.go.id,,,\n"
                   "domain,kemlu.go.id,kementerian,kemlu.go.id,\n", encoding="utf-8")
    with pytest.raises(WatchValueError):
        import_watchlist(store, src, "allow", added_by="", source="s")
    n, errors = import_watchlist(store, src, "allow", added_by="ani", source="s")
    assert n == 1 and [e.row for e in errors] == [2]
    n, errors = import_watchlist(store, default_allowlist_path(), "allow", added_by="ani",
                                 source="bundled")
    assert errors == [] and n >= 10
    assert ("phone", "+628001000") in {(e.kind, e.value) for e in watch_entries(store, "allow")}


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(watchlist_app, name="watchlist")

    @app.callback()
    def main() -> None:
        """test root"""

    return app


def test_cli_watchlist(tmp_path: Path) -> None:
    runner = CliRunner()
    app = cli_app()
    db = str(tmp_path / "w.db")

    def run(*args: str) -> object:
        return runner.invoke(app, ["watchlist", *args, "--db", db], env={"COLUMNS": "200"})

    r = run("add", "phone", "0812-0000-3185", "--reason", "kasus 12", "--source", "case-12",
            "--by", "ani")
    assert r.exit_code == 0 and "+6281200003185" in r.output
    r = run("add", "phone", "0812", "--reason", "x")
    assert r.exit_code == 2 and "phone" in r.output
    r = run("add", "phone", "0812-0000-3185")
    assert r.exit_code == 2 and "--reason" in r.output
    # allowlist: who and why
    r = run("add", "domain", "kp2mi.go.id", "--allow", "--reason", "kementerian")
    assert r.exit_code == 2 and "--by" in r.output
    r = run("add", "domain", "kp2mi.go.id", "--allow", "--reason", "kementerian", "--by", "ani")
    assert r.exit_code == 0
    r = run("import", str(default_allowlist_path()), "--allow", "--source", "bundled")
    assert r.exit_code == 2 and "--by" in r.output
    r = run("import", str(default_allowlist_path()), "--allow", "--by", "ani", "--source",
            "bundled")
    assert r.exit_code == 0 and "10 permintaan" in r.output  # requests, not entries yet
    r = run("list", "--allow", "--json")
    assert json.loads(r.output) == []
    from patroli.store import Store
    from patroli.store.registry import import_watchlist

    store = Store(db)  # what the approvals would add
    import_watchlist(store, default_allowlist_path(), "allow", added_by="ani", source="bundled")
    store.close()
    r = run("import", str(tmp_path / "missing.csv"), "--by", "ani")
    assert r.exit_code == 2
    r = run("list", "--json")
    assert [e["value"] for e in json.loads(r.output)] == ["+6281200003185"]
    r = run("list", "--allow", "--kind", "phone", "--json")
    assert [e["value"] for e in json.loads(r.output)] == ["+628001000"]
    r = run("list", "--allow")
    assert r.exit_code == 0 and "kp2mi.go.id" in r.output
    out = tmp_path / "allow.csv"
    r = run("export", str(out), "--allow")
    assert r.exit_code == 0 and len(list(csv.DictReader(out.open()))) == 10
    r = run("remove", "phone", "+62 812 0000 3185", "--by", "ani")
    assert r.exit_code == 2
    r = run("remove", "phone", "+62 812 0000 3185", "--by", "ani", "--reason", "selesai")
    assert r.exit_code == 0
    r = run("remove", "phone", "+62 812 0000 3185", "--by", "ani", "--reason", "selesai")
    assert r.exit_code == 1
    r = run("list", "--all", "--json")
    (entry,) = json.loads(r.output)
    assert entry["removed_by"] == "ani" and entry["removed_reason"] == "selesai"


def _two_supervisors(path: Path) -> str:
    """A database at ``path`` with supervisors "sari" and "ani"; returns its path."""
    from patroli.store import Store
    from patroli.store.users import add_user
    from patroli.web.security import PasswordService

    store = Store(str(path))
    pw = PasswordService(fast=True).hash("kata-sandi-panjang")
    add_user(store, "sari", pw, "supervisor", actor="test")
    add_user(store, "ani", pw, "supervisor", actor="test")
    store.close()
    return str(path)


def test_cli_allowlist_needs_a_second_person(tmp_path: Path) -> None:
    """`watchlist add --allow` only asks; a different supervisor approves it (insider
    safeguard, issue 6); the requester cannot approve their own request."""
    from patroli.cli import app
    db = _two_supervisors(tmp_path / "a.db")

    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})

    r = run("watchlist", "add", "phone", "0812-0000-3185", "--allow", "--reason",
            "hotline agensi", "--by", "ani")
    assert r.exit_code == 0 and "second-approve" in r.output
    aid = r.output.split("(#")[1].split(")")[0]
    assert "+6281200003185" not in run("watchlist", "list", "--allow").output
    r = run("takedown", "second-approve", aid, "--by", "ani")
    assert r.exit_code != 0  # never the requester
    r = run("takedown", "second-approve", aid, "--by", "sari")
    assert r.exit_code == 0, r.output
    assert "+6281200003185" in run("watchlist", "list", "--allow").output


def test_cli_bulk_allowlist_import_waits_for_a_second_person(tmp_path: Path) -> None:
    """`watchlist import --allow` files one request per good row (bad rows listed with
    their row number); nothing is allow-listed until another supervisor approves."""
    from patroli.cli import app
    db = _two_supervisors(tmp_path / "b.db")
    src = tmp_path / "allow.csv"
    src.write_text("kind,value,reason,source\n"
                   "phone,0812-0000-3185,kantor agensi terdaftar,BP3MI\n"
                   "domain,lintas-samudra.co.id,situs agensi,\n"
                   "phone,12,nomor rusak,\n"
                   "domain,contoh.id,,\n", encoding="utf-8")
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(app, [*args, "--db", db], env={"COLUMNS": "200"})

    r = run("watchlist", "import", str(src), "--allow", "--by", "ani")
    assert r.exit_code == 0, r.output
    assert "2 permintaan" in r.output and "2 baris dilewati" in r.output
    assert "allow.csv:4:" in r.output and "allow.csv:5:" in r.output
    ids = r.output.split("approval ids: ")[1].split(")")[0].split(", ")
    assert len(ids) == 2
    assert json.loads(run("watchlist", "list", "--allow", "--json").output) == []
    assert run("takedown", "second-approve", ids[0], "--by", "ani").exit_code != 0
    for aid in ids:
        r = run("takedown", "second-approve", aid, "--by", "sari")
        assert r.exit_code == 0, r.output
    values = {e["value"] for e in json.loads(run("watchlist", "list", "--allow",
                                                  "--json").output)}
    assert values == {"+6281200003185", "lintas-samudra.co.id"}
