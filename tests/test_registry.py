"""Registry import (CSV/XLSX, row validation, column mapping), snapshots in the store, the
bundled demo registry and the ``patroli registry`` commands (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from patroli.analysis.entities import extract_entities
from patroli.cli_verify import registry_app, watchlist_app
from patroli.store import Store
from patroli.store.registry import (
    SnapshotNotFoundError,
    find_agency,
    latest_snapshot,
    registry_stats,
    save_snapshot,
    snapshot,
    snapshots,
)
from patroli.verify.registry import (
    ColumnMapping,
    RegistryFormatError,
    RegistryRowError,
    agency_hosts,
    default_registry_paths,
    load_default_registry,
    normalize_agency_name,
    parse_date,
    read_registry,
    resolve_country,
)

from conftest import shared_path

REF = date(2026, 11, 29)
DEMO = Path(__file__).resolve().parent.parent / "src" / "patroli" / "data" / "demo"
AGENCY_HEADER = ["agency_id", "name", "licence_number", "licence_valid_until", "province",
                 "city", "address", "phone", "website", "status"]
PERMIT_HEADER = ["permit_number", "agency_id", "destination_country", "employer", "position",
                 "quota", "issued_on", "valid_until"]


def write_csv(path: Path, header: list[str], rows: list[list[object]], *,
              delimiter: str = ",", encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def collect(agencies: Path, permits: Path | None = None, **kw: object
            ) -> tuple[object, list[RegistryRowError]]:
    errors: list[RegistryRowError] = []
    snap = read_registry(agencies, permits, on_error=errors.append, **kw)  # type: ignore[arg-type]
    return snap, errors


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


def cli_app() -> typer.Typer:
    """The commands as ``patroli.cli`` mounts them."""
    app = typer.Typer()
    app.add_typer(registry_app, name="registry")
    app.add_typer(watchlist_app, name="watchlist")

    @app.callback()
    def main() -> None:
        """test root"""

    return app


# -- import ---------------------------------------------------------------------------------


def test_shared_registry_imports_without_errors() -> None:
    agencies = shared_path("data", "registry", "agencies.csv")
    permits = shared_path("data", "registry", "job_orders.csv")
    snap, errors = collect(agencies, permits)
    assert errors == []
    assert (len(snap.agencies), len(snap.permits)) == (40, 60)
    a = {x.agency_id: x for x in snap.agencies}
    assert a["A001"].licence_number == "KEP-214/P3MI/2022"
    assert a["A001"].licence_valid_until == date(2027, 3, 14)
    assert all(p.startswith("+62") for x in snap.agencies for p in x.phones)
    assert agency_hosts(a["A001"]) == ["lintassamudrakarya.example"]
    assert sum(not x.in_good_standing(REF) for x in snap.agencies) == 10
    # every permit's destination resolves to the code in its number
    assert all(p.permit_number.split("/")[1] == p.destination for p in snap.permits)
    assert sum(not p.valid_on(REF) for p in snap.permits) == 10
    assert snap.sources == [str(agencies), str(permits)]


def test_bundled_registry_is_clean_and_mixed() -> None:
    snap = load_default_registry()
    assert 20 <= len(snap.agencies) <= 40 and 30 <= len(snap.permits) <= 60
    statuses = {a.status for a in snap.agencies}
    assert statuses == {"active", "suspended", "revoked"}
    assert any(a.status == "active" and not a.in_good_standing(REF) for a in snap.agencies)
    assert any(not p.valid_on(REF) for p in snap.permits)
    # fictional placeholders only
    assert all("0000" in p for a in snap.agencies for p in a.phones)
    assert all(h.endswith(".example") for a in snap.agencies for h in agency_hosts(a))
    assert all(Path(p).exists() for p in default_registry_paths())


def _demo_posts() -> list[dict]:
    with (DEMO / "posts.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_bundled_registry_verifies_the_demo_posts() -> None:
    """Each demo post naming an agency and permits finds records consistent with its gold
    label: legitimate -> exact name, its licence, permits of that agency, valid on the
    post's date, destination cited; illegal -> not in good standing or permit expired."""
    snap = load_default_registry()
    by_name = {normalize_agency_name(a.name): a for a in snap.agencies}
    permits = {p.permit_number: p for p in snap.permits}
    checked = {"legitimate": 0, "illegal": 0}
    for post in _demo_posts():
        ents = extract_entities(post["text"])
        nums = [e.value for e in ents if e.kind == "permit_number"]
        names = [e.value for e in ents if e.kind == "agency_name"
                 and normalize_agency_name(e.value) in by_name]
        if post["label"] not in checked or not nums:
            continue
        day = datetime.fromisoformat(post["posted_at"]).date()
        assert names, post["id"]
        agency = by_name[normalize_agency_name(names[0])]
        licences = [e.value for e in ents if e.kind == "licence_number"]
        cited = [permits.get(n) for n in nums]
        if post["label"] == "legitimate":
            assert agency.in_good_standing(day), post["id"]
            assert licences == [agency.licence_number], post["id"]
            for p in cited:
                assert p is not None and p.agency_id == agency.agency_id, post["id"]
                assert p.valid_on(day), post["id"]
                assert resolve_country(post["destination"]) == p.destination, post["id"]
            hosts = {e.value for e in ents if e.kind == "domain"}
            assert hosts <= set(agency_hosts(agency)), post["id"]
            phones = {e.value for e in ents if e.kind == "phone"}
            assert phones <= set(agency.phones), post["id"]
        else:
            assert not agency.in_good_standing(day) or any(
                p is None or not p.valid_on(day) for p in cited), post["id"]
        checked[post["label"]] += 1
    assert checked["legitimate"] >= 6 and checked["illegal"] >= 1


def test_bundled_registry_covers_every_permit_in_demo_files() -> None:
    snap = load_default_registry()
    known = {p.permit_number for p in snap.permits}
    licences = {a.licence_number for a in snap.agencies}
    for path in (DEMO / "posts.jsonl", DEMO / "posts.csv", DEMO / "whatsapp_grup_loker.txt"):
        text = path.read_text(encoding="utf-8-sig")
        ents = extract_entities(text)
        for e in ents:
            if e.kind == "permit_number":
                assert e.value in known, (path.name, e.value)
            if e.kind == "licence_number":
                assert e.value in licences, (path.name, e.value)


def test_xlsx_with_bad_rows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "P3MI"
    ws.append(AGENCY_HEADER)
    ws.append(["A1", "PT Satu Karya", "KEP-001/P3MI/2024", datetime(2028, 1, 31), "Bali",
               "Denpasar", "Jl. X 1", 623610000111, "www.satu.example", "active"])  # row 2
    ws.append(["A2", "PT Dua Karya", "KEP-002/P3MI/2024", "31/13/2028", None, None, None,
               None, None, "active"])  # 3: bad date
    ws.append(["A3", "PT Tiga Karya", "KEP-003/P3MI/2024", "2028-01-31", None, None, None,
               None, None, "dormant"])  # 4: unknown status
    ws.append(["A4", None, "KEP-004/P3MI/2024", "2028-01-31", None, None, None, None, None,
               "active"])  # 5: missing name
    ws.append(["A1", "PT Satu Karya Lagi", "KEP-005/P3MI/2024", "2028-01-31", None, None,
               None, None, None, "active"])  # 6: duplicate id
    ws.append(["A6", "PT Enam Karya", "KEP/006", "2028-01-31", None, None, None, None, None,
               "active"])  # 7: bad licence format
    ws.append([None] * 10)  # 8: empty, ignored
    ws.append(["A7", "PT Tujuh Karya", "KEP-007/P3MI/2024", date(2026, 1, 1), None, None,
               None, "bukan telp", None, "Dibekukan"])  # 9: kept, phone dropped
    apath = tmp_path / "agencies.xlsx"
    wb.save(apath)

    wb2 = openpyxl.Workbook()
    ws2 = wb2.active
    ws2.append(PERMIT_HEADER)
    ws2.append(["SIP-2026/TW/0001", "A1", "Taiwan", "Emp", "Operator", 10,
                datetime(2026, 1, 5), datetime(2027, 1, 4)])  # 2
    ws2.append(["SIP-2026/TW/0002", "A9", "Taiwan", None, None, 5, None, None])  # 3
    ws2.append(["SIP-2026/XX/0003", "A1", "Narnia", None, None, 5, None, None])  # 4
    ws2.append(["SIP-2026/MY/0004", "A1", "Taiwan", None, None, 5, None, None])  # 5
    ws2.append(["SIP-2026/TW/0001", "A1", "Taiwan", None, None, 5, None, None])  # 6
    ws2.append(["SIP-2026/SA/0007", "a7", "Arab Saudi", None, None, "banyak", None,
                None])  # 7: bad quota
    ws2.append(["SIP-2026/HK/0008", "A7", "Hong Kong", None, None, 3, "2026-02-01",
                "2025-02-01"])  # 8: ends before it starts
    ws2.append(["SIP-2026/HK/0009", "a7", "Hong Kong", None, None, 3, "2026-02-01",
                "2027-01-31"])  # 9: ok (agency id case-insensitive)
    ppath = tmp_path / "permits.xlsx"
    wb2.save(ppath)

    snap, errors = collect(apath, ppath)
    assert [a.agency_id for a in snap.agencies] == ["A1", "A7"]
    a1, a7 = snap.agencies
    assert a1.licence_valid_until == date(2028, 1, 31)
    assert a1.phones == ["+623610000111"] and a1.websites == ["https://www.satu.example"]
    assert a7.status == "suspended" and a7.phones == []
    assert [p.permit_number for p in snap.permits] == ["SIP-2026/TW/0001", "SIP-2026/HK/0009"]
    assert snap.permits[0].issued_on == date(2026, 1, 5) and snap.permits[0].quota == 10
    assert snap.permits[1].agency_id == "A7"
    got = {(e.file, e.row): (e.reason, e.skipped) for e in errors}
    expect_words = {
        ("agencies.xlsx", 3): "bad date",
        ("agencies.xlsx", 4): "unknown status",
        ("agencies.xlsx", 5): "missing name",
        ("agencies.xlsx", 6): "duplicate agency id",
        ("agencies.xlsx", 7): "bad licence number",
        ("agencies.xlsx", 9): "phone",
        ("permits.xlsx", 3): "unknown agency id",
        ("permits.xlsx", 4): "not a known country",
        ("permits.xlsx", 5): "does not match destination",
        ("permits.xlsx", 6): "duplicate permit number",
        ("permits.xlsx", 7): "bad quota",
        ("permits.xlsx", 8): "before issued_on",
    }
    assert set(got) == set(expect_words)
    for key, word in expect_words.items():
        assert word in got[key][0], (key, got[key])
    assert got[("agencies.xlsx", 9)][1] is False  # row kept
    assert all(skipped for k, (_, skipped) in got.items() if k != ("agencies.xlsx", 9))


def test_semicolon_cp1252_indonesian_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p3mi.csv",
                     ["Kode Perusahaan", "Nama Perusahaan", "No Izin", "Berlaku Sampai",
                      "Status", "Kota", "Telepon", "Alamat"],
                     [["X1", "PT Karya Bumi Persada", "KEP 12 / P3MI / 2023", "14/03/2027",
                       "Aktif", "Bandung", "(022) 0000-1234", "Jl. Braga No. 1 – Sumur Bandung"],
                      ["X2", "PT Sinar Laut Jaya", "KEP-13/P3MI/2023", "1 Agustus 2025",
                       "Dicabut", "Cirebon", "0231 0000 567; 0812-0000-3185", "Jl. Café"]],
                     delimiter=";", encoding="cp1252")
    snap, errors = collect(path)
    assert errors == []
    x1, x2 = snap.agencies
    assert x1.licence_number == "KEP-12/P3MI/2023" and x1.licence_valid_until == date(2027, 3, 14)
    assert x1.address == "Jl. Braga No. 1 – Sumur Bandung"
    assert x1.phones == ["+622200001234"]
    assert x2.status == "revoked" and x2.licence_valid_until == date(2025, 8, 1)
    assert x2.phones == ["+622310000567", "+6281200003185"] and x2.address == "Jl. Café"


def test_column_mapping_for_another_shape(tmp_path: Path) -> None:
    apath = write_csv(tmp_path / "ekspor.csv",
                      ["NIB", "Badan Usaha", "Nomor SIP3MI", "Tgl Akhir", "Keadaan", "Nama Dagang"],
                      [["9001", "PT Arum Sari Sejahtera", "SIP3MI/77/2024", "31.12.2027",
                        "active", "Arum Sari; ASS Manpower"]])
    ppath = write_csv(tmp_path / "jo.csv",
                      ["No. Rekom", "NIB Perusahaan", "Negara Penempatan", "Kuota TKI",
                       "Tgl Terbit", "Tgl Berakhir"],
                      [["REK-55", "9001", "Jepang", "1.200", "01/02/2026", "31/01/2027"]])
    mapping = ColumnMapping(
        agency_id="NIB", name="Badan Usaha", licence_number="Nomor SIP3MI",
        licence_valid_until="Tgl Akhir", status="Keadaan", aliases="Nama Dagang",
        permit_number="No. Rekom", permit_agency_id="NIB Perusahaan",
        permit_destination="Negara Penempatan", permit_quota="Kuota TKI",
        permit_issued_on="Tgl Terbit", permit_valid_until="Tgl Berakhir",
        licence_pattern=r"SIP3MI/\d+/\d{4}", permit_pattern=r"REK-\d+")
    snap, errors = collect(apath, ppath, mapping=mapping)
    assert errors == []
    (a,) = snap.agencies
    assert (a.agency_id, a.licence_number, a.licence_valid_until) == (
        "9001", "SIP3MI/77/2024", date(2027, 12, 31))
    assert a.aliases == ["Arum Sari", "ASS Manpower"]
    (p,) = snap.permits
    assert (p.permit_number, p.agency_id, p.destination, p.quota) == ("REK-55", "9001", "JP", 1200)
    assert p.valid_until == date(2027, 1, 31)
    # the same files without the mapping: the headers are not found -> one-line error
    with pytest.raises(RegistryFormatError) as exc:
        read_registry(apath, ppath)
    assert "\n" not in str(exc.value)
    with pytest.raises(RegistryFormatError, match="columns NIB and Nama"):
        read_registry(apath, mapping=ColumnMapping(agency_id="NIB", name="Nama"))


def test_unreadable_files_raise_one_line(tmp_path: Path) -> None:
    (tmp_path / "bin.csv").write_bytes(b"\x00\x01\x02PK" * 50)
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04not really a zip")
    (tmp_path / "fake.xlsx").write_text("agency_id,name\nA1,PT X\n", encoding="utf-8")
    for name in ("missing.csv", "bin.csv", "empty.csv", "broken.xlsx", "fake.xlsx"):
        with pytest.raises(RegistryFormatError) as exc:
            read_registry(tmp_path / name)
        assert "\n" not in str(exc.value) and name in str(exc.value)


def test_header_after_title_rows_keeps_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Daftar P3MI per 1 Nov 2026\n\nagency_id,name,status\n"
                    "A1,PT Satu,active\nA2,,active\n", encoding="utf-8-sig")
    snap, errors = collect(path)
    assert [a.agency_id for a in snap.agencies] == ["A1"]
    assert [(e.row, "missing name" in e.reason) for e in errors] == [(5, True)]


def test_parse_date_and_resolve_country() -> None:
    assert parse_date("2027-03-14") == date(2027, 3, 14)
    assert parse_date("14-03-2027") == date(2027, 3, 14)
    assert parse_date("14 Mar 2027") == date(2027, 3, 14)
    assert parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("2027-02-30")
    with pytest.raises(ValueError):
        parse_date("next year")
    assert [resolve_country(n) for n in ("Taiwan", "Arab Saudi", "Hong Kong", "UAE", "BRN",
                                         "Korea, Republic of", "Atlantis")] == [
        "TW", "SA", "HK", "AE", "BN", "KR", None]


def test_normalize_agency_name() -> None:
    assert normalize_agency_name("PT. Lintas Samudra-Karya") == "lintas samudra karya"
    assert normalize_agency_name("P.T. LINTAS SAMUDRA KARYA, Tbk") == "lintas samudra karya"
    assert normalize_agency_name("Perseroan Terbatas Lintas Samudra Karya") == (
        "lintas samudra karya")
    assert normalize_agency_name("PT Ptera Jaya") == "ptera jaya"


# -- store ----------------------------------------------------------------------------------


def test_snapshots_are_versioned_latest_wins(store: Store, tmp_path: Path) -> None:
    assert latest_snapshot(store) is None
    assert registry_stats(store)["snapshot_id"] is None
    first = save_snapshot(store, load_default_registry(), imported_by="ani")
    assert first.snapshot_id is not None and first.imported_at is not None
    assert first.imported_at.tzinfo is not None
    assert first.version == f"registry-{first.snapshot_id}-{first.imported_at.date()}"
    smaller = write_csv(tmp_path / "a.csv", AGENCY_HEADER,
                        [["A002", "PT Cahaya Mandiri Sejahtera Abadi", "KEP-087/P3MI/2023",
                          "2028-04-30", "", "Malang", "", "", "", "suspended"]])
    second = save_snapshot(store, read_registry(smaller), imported_by="budi")
    assert second.snapshot_id > first.snapshot_id
    latest = latest_snapshot(store)
    assert latest is not None and latest.snapshot_id == second.snapshot_id
    assert [(a.agency_id, a.status) for a in latest.agencies] == [("A002", "suspended")]
    old = snapshot(store, first.snapshot_id)
    assert len(old.agencies) == len(first.agencies) and len(old.permits) == len(first.permits)
    assert old.agencies[0] == first.agencies[0] and old.permits[0] == first.permits[0]
    with pytest.raises(SnapshotNotFoundError):
        snapshot(store, 999_999)
    listed = snapshots(store)
    assert [s["imported_by"] for s in listed] == ["budi", "ani"]
    assert listed[1]["counts"]["agencies"] == len(first.agencies)
    # find_agency answers from the latest snapshot unless told otherwise
    assert find_agency(store, "A002")[0]["status"] == "suspended"
    assert find_agency(store, "A002", snapshot_id=first.snapshot_id)[0]["status"] == "active"


def test_stats_and_find_agency(store: Store) -> None:
    snap = save_snapshot(store, load_default_registry())
    st = registry_stats(store, on=REF)
    assert st["agencies"] == len(snap.agencies) and st["permits"] == len(snap.permits)
    assert st["agencies_by_status"] == {
        s: sum(a.status == s for a in snap.agencies) for s in ("active", "revoked", "suspended")}
    assert st["licences_expired"] == sum(
        a.licence_valid_until is not None and a.licence_valid_until < REF for a in snap.agencies)
    assert st["in_good_standing"] == sum(a.in_good_standing(REF) for a in snap.agencies)
    assert st["permits_expired"] == sum(p.valid_until < REF for p in snap.permits)
    assert st["permits_valid"] == sum(p.valid_on(REF) for p in snap.permits)
    assert sum(st["permits_by_destination"].values()) == len(snap.permits)
    assert st["version"] == snap.version

    (hit,) = find_agency(store, "a036", on=REF)
    assert hit["name"] == "PT Citra Pesona Nusa" and hit["licence_expired"]
    assert not hit["in_good_standing"]
    assert [p["permit_number"] for p in hit["permits"]] == ["SIP-2025/JP/0290"]
    assert hit["permits"][0]["expired"] and not hit["permits"][0]["valid"]
    assert find_agency(store, "pt. cahaya mandiri sejahtera abadi")[0]["match"] == "name"
    assert find_agency(store, "Pesona")[0]["agency_id"] == "A036"
    fuzzy = find_agency(store, "PT Samudra Biru Maning Agency")
    assert fuzzy[0]["agency_id"] == "A013" and fuzzy[0]["match"] == "fuzzy"
    assert find_agency(store, "kep-260/p3mi/2024")[0]["agency_id"] == "A015"
    assert find_agency(store, "SIP-2026/TW/0206")[0]["agency_id"] == "A028"
    assert find_agency(store, "Zzyzx Qwerty") == []


# -- CLI ------------------------------------------------------------------------------------


def test_cli_registry_import_show_stats(tmp_path: Path) -> None:
    runner = CliRunner()
    app = cli_app()
    db = str(tmp_path / "p.db")
    agencies, permits = default_registry_paths()
    r = runner.invoke(app, ["registry", "import", str(agencies), str(permits), "--db", db,
                            "--by", "ani"])
    assert r.exit_code == 0, r.output
    assert "25" in r.output and "44" in r.output

    bad = write_csv(tmp_path / "bad.csv", AGENCY_HEADER,
                    [["B1", "PT [bold]Markup[/bold] Karya", "KEP-1/P3MI/2024", "2029-01-01",
                      "", "", "", "", "", "active"],
                     ["B2", "PT Dua", "KEP-2/P3MI/2024", "kemarin", "", "", "", "", "",
                      "active"]])
    r = runner.invoke(app, ["registry", "import", str(bad), "--db", db])
    assert r.exit_code == 0, r.output
    assert "bad.csv:3:" in r.output and "bad date" in r.output

    r = runner.invoke(app, ["registry", "show", "Markup", "--db", db])
    assert r.exit_code == 0, r.output
    assert "[bold]Markup[/bold]" in r.output  # data printed as text, not markup

    r = runner.invoke(app, ["registry", "stats", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.output)
    assert stats["agencies"] == 1 and stats["snapshot_id"] == 2

    r = runner.invoke(app, ["registry", "import", str(tmp_path / "nope.csv"), "--db", db])
    assert r.exit_code == 2 and "no such file" in r.output

    r = runner.invoke(app, ["registry", "import", str(agencies), str(permits), "--db", db])
    assert r.exit_code == 0
    r = runner.invoke(app, ["registry", "show", "Citra Pesona Nusa", "--db", db],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "EXPIRED" in r.output and "SIP-2025/JP/0290" in r.output and "expired" in r.output
    r = runner.invoke(app, ["registry", "show", "Delta Maju Bersama", "--db", db],
                      env={"COLUMNS": "200"})
    assert "REVOKED" in r.output
    r = runner.invoke(app, ["registry", "show", "Zzyzx Qwerty", "--db", db])
    assert r.exit_code == 1 and "not found" in r.output
    r = runner.invoke(app, ["registry", "stats", "--db", db], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "in good standing" in r.output


def test_cli_registry_empty_db(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "e.db")
    r = runner.invoke(cli_app(), ["registry", "stats", "--db", db])
    assert r.exit_code == 1 and "no registry imported" in r.output
    only_bad = write_csv(tmp_path / "a.csv", AGENCY_HEADER,
                         [["", "PT X", "", "", "", "", "", "", "", "active"]])
    r = runner.invoke(cli_app(), ["registry", "import", str(only_bad), "--db", db])
    assert r.exit_code == 1 and "nothing imported" in r.output
    r = runner.invoke(cli_app(), ["registry", "import", str(only_bad), "--db",
                                  "nosuchdb://x"])
    assert r.exit_code in (1, 2)
