"""Verification: name matching, the Verifier, and its effect on analysis and scoring."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from patroli.analysis import analyze
from patroli.types import Post
from patroli.verify.matching import AgencyIndex, normalize_agency_name
from patroli.verify.model import Agency, Permit, RegistrySnapshot, WatchEntry
from patroli.verify.verifier import STATUSES, Verifier

from conftest import shared_path

TODAY = date(2026, 11, 29)


def _snapshot() -> RegistrySnapshot:
    agencies = [
        Agency("A1", "PT Lintas Samudra Karya", "KEP-214/P3MI/2022", date(2027, 3, 14),
               city="Jakarta Timur", phones=["+622100004417"],
               websites=["https://www.lintassamudra.example"]),
        Agency("A2", "PT Cahaya Mandiri Sejahtera Abadi", "KEP-087/P3MI/2023",
               date(2028, 5, 20), city="Malang"),
        Agency("A3", "PT Bina Tenaga Nusa Mulia", "KEP-132/P3MI/2022", date(2027, 8, 9),
               city="Semarang"),
        Agency("A4", "PT Sakti Wira Penempatan", "KEP-108/P3MI/2022", date(2027, 7, 7),
               status="suspended", status_since=date(2026, 5, 2), city="Madiun"),
        Agency("A5", "PT Bumi Serasi Karya", "KEP-054/P3MI/2022", date(2027, 2, 14),
               status="revoked", city="Lombok Timur"),
        Agency("A6", "PT Citra Pesona Nusa", "KEP-011/P3MI/2021", date(2026, 9, 14),
               city="Wonosobo"),
        Agency("A7", "PT Mutiara Hijrah Sejahtera", "KEP-211/P3MI/2023", date(2028, 11, 28),
               city="Karawang"),
    ]
    permits = [
        Permit("SIP-2026/TW/0457", "A1", "TW", "Taiwan", position="Factory operator",
               issued_on=date(2026, 2, 10), valid_until=date(2027, 2, 9)),
        Permit("SIP-2025/TW/0388", "A1", "TW", "Taiwan", position="Factory operator",
               issued_on=date(2024, 10, 1), valid_until=date(2025, 10, 1)),
        Permit("SIP-2026/HK/0233", "A2", "HK", "Hong Kong", position="Domestic helper",
               issued_on=date(2026, 3, 2), valid_until=date(2027, 3, 1)),
        Permit("SIP-2026/SA/0418", "A7", "SA", "Saudi Arabia", position="Hotel waiter/waitress",
               issued_on=date(2026, 4, 1), valid_until=date(2027, 3, 31)),
    ]
    return RegistrySnapshot(agencies, permits, imported_at=datetime(2026, 11, 1, tzinfo=UTC),
                            snapshot_id=3)


WATCH = [
    WatchEntry("phone", "+6281200007788", reason="kasus TPPO 2025", source="BP3MI Jabar"),
    WatchEntry("domain", "kerja-cepat.example", reason="situs penipuan", source="Komdigi"),
    WatchEntry("domain", "go.id", list_name="allow", reason="pemerintah"),
]
V = Verifier(_snapshot(), WATCH, today=TODAY)


def _check(text: str, verifier: Verifier = V, **kw):
    return analyze(Post(key="t", text=text, **kw), verifier=verifier)


# ---------------------------------------------------------------- matching
@pytest.mark.parametrize("written", [
    "PT Lintas Samudra Karya", "PT. Lintas Samudra Karya", "P.T. LINTAS SAMUDRA KARYA",
    "Perseroan Terbatas Lintas Samudra Karya", "PT Lintas-Samudra  Karya",
    "PT Lintas Samudra Karya Jakarta Timur", "PT Lintas Samudra Karya Surabaya",
])
def test_exact_after_normalisation(written: str) -> None:
    m = AgencyIndex(_snapshot().agencies).match_name(written)
    assert m.kind == "exact" and m.agency is not None and m.agency.agency_id == "A1"


@pytest.mark.parametrize(("written", "target", "how"), [
    ("PT Cahaya Mandiri Sejahtera", "A2", "word_missing"),        # one word missing
    ("PT Lintas Samudra Karya Indonesia", "A1", "word_extra"),   # one word extra
    ("PT Lintas Samudera Karya", "A1", "similar"),               # changed letter
    ("PT Lintsa Samudra Karya", "A1", "similar"),                # swapped letters
    ("PT Bina Tenaga Nusantara Mulia", "A3", "similar"),         # Nusantara for Nusa
])
def test_lookalikes(written: str, target: str, how: str) -> None:
    m = AgencyIndex(_snapshot().agencies).match_name(written)
    assert (m.kind, m.agency.agency_id if m.agency else None, m.how) == ("lookalike", target, how)


@pytest.mark.parametrize("written", ["PT Sulawesi Nikel Perkasa", "PT Karya Utama",
                                     "PT Mitra Logistik Andalan", "CV Kilat Ekspedisi"])
def test_unrelated_names_not_found(written: str) -> None:
    assert AgencyIndex(_snapshot().agencies).match_name(written).kind == "none"


def test_normalize_folds_legal_forms_only() -> None:
    assert normalize_agency_name("P.T. Maju-Jaya, Tbk.") == "maju jaya"
    assert normalize_agency_name("CV. Maju Jaya") == "maju jaya"
    assert normalize_agency_name("PT Sejahtra Abadi") != normalize_agency_name("PT Sejahtera Abadi")


# ---------------------------------------------------------------- the Verifier
def test_verified_with_valid_permit_lowers_risk() -> None:
    text = ("Lowongan operator pabrik Taiwan. PT Lintas Samudra Karya (KEP-214/P3MI/2022), "
            "SIP-2026/TW/0457. Daftar di LTSA, telp (021) 0000-4417. Gaji NT$ 27.470.")
    a = _check(text)
    v = a.verification
    assert v["status"] == "verified" and v["permits_ok"]
    assert v["agency"]["agency_id"] == "A1" and v["agency"]["licence_valid"]
    p = v["permits"][0]
    assert p["belongs_to_agency"] and p["destination_matches"] and p["valid_on_date"]
    assert p["position_plausible"]
    assert v["contacts"] and v["contacts"][0]["same_agency"] is True
    assert v["summary_id"].startswith("Terverifikasi: PT Lintas Samudra Karya")
    assert v["registry_version"].startswith("registry-3-2026-11-01")
    assert a.label == "legitimate"
    plain = analyze(Post(key="t", text=text))
    assert a.risk_score <= plain.risk_score


def test_pt_dot_is_exact_not_lookalike() -> None:
    a = _check("PT. Lintas Samudra Karya buka lowongan pabrik Taiwan SIP-2026/TW/0457")
    assert a.verification["status"] == "verified"
    assert "unlicensed_agency_claim" not in a.indicators


def test_lookalike_is_red_flag_with_registered_name() -> None:
    text = "PT Cahaya Mandiri Sejahtera buka lowongan PRT Hong Kong, gaji 9jt, daftar WA 0812 0000 1111"
    a = _check(text)
    v = a.verification
    assert v["status"] == "lookalike"
    assert v["lookalike_of"]["name"] == "PT Cahaya Mandiri Sejahtera Abadi"
    f = next(f for f in a.findings if f.indicator == "unlicensed_agency_claim")
    assert "Mirip nama P3MI terdaftar" in f.explanation_id
    assert any(text[s:e] == "PT Cahaya Mandiri Sejahtera" for s, e in f.spans)
    assert a.label == "illegal"


def test_unregistered_company() -> None:
    a = _check("PT Sulawesi Nikel Perkasa membuka lowongan operator alat berat di Morowali")
    assert a.verification["status"] == "not_found"
    assert "unlicensed_agency_claim" not in a.indicators


def test_no_agency() -> None:
    a = _check("Kerja di Malaysia gaji besar, hubungi WA 0812 0000 2222")
    assert a.verification["status"] == "no_agency"
    assert a.verification["summary_id"].startswith("Tidak menyebut perusahaan")


@pytest.mark.parametrize(("text", "status", "words"), [
    ("PT Sakti Wira Penempatan Madiun buka lowongan pabrik Taiwan", "suspended",
     "dibekukan sejak 2026-05-02"),
    ("PT BUMI SERASI KARYA rekrut pekerja sawit Malaysia", "revoked", "dicabut"),
    ("PT Citra Pesona Nusa buka lowongan pabrik Jepang", "licence_expired",
     "kedaluwarsa pada 2026-09-14"),
])
def test_agency_status(text: str, status: str, words: str) -> None:
    a = _check(text)
    assert a.verification["status"] == status
    assert words in a.verification["summary_id"]
    f = next(f for f in a.findings if f.indicator == "unlicensed_agency_claim")
    assert words in f.explanation_id and f.weight >= 50


@pytest.mark.parametrize(("text", "reason"), [
    # permit of another agency
    ("PT Bina Tenaga Nusa Mulia buka lowongan PRT Hong Kong, SIP-2026/HK/0233", "permit_other_agency"),
    # permit for another country
    ("PT Lintas Samudra Karya buka lowongan pabrik Malaysia, SIP-2026/TW/0457", "permit_other_country"),
    # expired permit
    ("PT Lintas Samudra Karya buka lowongan pabrik Taiwan, SIP-2025/TW/0388", "permit_expired"),
    # unknown permit whose number names another country than the ad
    ("PT Lintas Samudra Karya buka lowongan pabrik Taiwan, SIP-2026/MY/9999",
     "permit_other_country"),
    # licence number of another agency
    ("PT Lintas Samudra Karya (KEP-087/P3MI/2023) buka lowongan pabrik Taiwan", "licence_other"),
])
def test_permit_and_licence_problems(text: str, reason: str) -> None:
    a = _check(text)
    assert a.verification["status"] == "permit_invalid"
    assert reason in a.verification["reasons"]
    assert "unlicensed_agency_claim" in a.indicators


def test_unknown_permit_of_registered_agency_is_reported_not_flagged() -> None:
    a = _check("PT Lintas Samudra Karya buka lowongan pabrik Taiwan, SIP-2026/TW/9999")
    v = a.verification
    assert v["status"] == "verified" and not v["permits_ok"]
    assert v["unknown"] == [{"code": "permit_unknown", "number": "SIP-2026/TW/9999"}]
    assert "tidak ditemukan di registri" in v["summary_id"]
    assert "unlicensed_agency_claim" not in a.indicators
    b = _check("PT Lintas Samudera Karya buka lowongan pabrik Taiwan, SIP-2026/TW/9999")
    assert {"lookalike", "permit_unknown"} <= set(b.verification["reasons"])


def test_post_date_decides_validity() -> None:
    text = "PT Lintas Samudra Karya buka lowongan pabrik Taiwan, SIP-2025/TW/0388"
    a = _check(text, posted_at=datetime(2025, 6, 1, tzinfo=UTC))
    assert a.verification["checked_on"] == "2025-06-01"
    assert a.verification["status"] == "verified"


def test_watchlist_hit() -> None:
    a = _check("Loker pabrik Malaysia, hubungi WA 0812 0000 7788 atau https://kerja-cepat.example/daftar")
    hits = a.verification["watchlist"]
    assert {h["kind"] for h in hits} == {"phone", "domain"}
    assert any(h["reason"] == "kasus TPPO 2025" and h["source"] == "BP3MI Jabar" for h in hits)
    f = next(f for f in a.findings if f.indicator == "watchlist_hit")
    assert "kasus TPPO 2025" in f.explanation_id
    assert "watchlist_hit" not in analyze(Post(key="t", text="WA 0812 0000 7788")).indicators


def test_allowlisted_official_domain_is_not_evidence() -> None:
    text = "Info lowongan resmi hanya di https://bit.ly/loker-resmi dan https://siskop2mi.bp2mi.go.id"
    a = _check(text)
    assert any(x["value"].endswith("bp2mi.go.id") for x in a.verification["allowlisted"])
    watch = Verifier(_snapshot(), [WatchEntry("url", "https://bit.ly/loker-resmi",
                                              list_name="allow", reason="akun resmi")],
                     today=TODAY)
    plain = analyze(Post(key="t", text=text))
    b = analyze(Post(key="t", text=text), verifier=watch)
    assert "suspicious_shortlink" in plain.indicators
    assert "suspicious_shortlink" not in b.indicators


def test_moratorium_cleared_by_formal_sector_permit() -> None:
    text = ("Lowongan Waiter Hotel – Riyadh, Arab Saudi. PT Mutiara Hijrah Sejahtera "
            "(KEP-211/P3MI/2023), SIP-2026/SA/0418. Pengguna: hotel, bukan rumah tangga. "
            "Daftar di LTSA.")
    a = _check(text)
    assert a.verification["status"] == "verified"
    assert "moratorium_destination" not in a.indicators
    household = _check("Dibutuhkan ART untuk majikan di Riyadh. PT Mutiara Hijrah Sejahtera, "
                       "SIP-2026/SA/0418")
    assert household.verification["clears"] == []


def test_awareness_post_suppresses_registry_flag() -> None:
    text = ("WASPADA! Polisi menangkap perekrut yang memakai nama PT Cahaya Mandiri Sejahtera. "
            "Korban dipulangkan KBRI. Cek nama perusahaan di situs resmi KP2MI dan laporkan "
            "lowongan mencurigakan ke BP3MI.")
    a = _check(text)
    assert a.verification["status"] == "lookalike"
    assert a.label == "awareness"
    assert "unlicensed_agency_claim" not in a.indicators
    assert "unlicensed_agency_claim" in a.signals["suppressed"]


def test_verifier_is_pure_and_versioned() -> None:
    text = "PT Lintas Samudra Karya buka lowongan pabrik Taiwan, SIP-2026/TW/0457"
    a1, a2 = _check(text), _check(text)
    assert a1.verification == a2.verification
    assert V.version == "registry-3-2026-11-01+watch-2-allow-1"
    assert a1.verification["status"] in STATUSES
    json.dumps(a1.to_dict())  # JSON-ready


# ---------------------------------------------------------------- corpus
CORPUS_STATUS = {
    "D0079": "lookalike", "D0181": "lookalike", "D0190": "lookalike", "D0253": "lookalike",
    "D0293": "lookalike", "D0148": "suspended", "D0207": "suspended", "D0234": "suspended",
    "D0107": "revoked", "D0132": "revoked", "D0030": "licence_expired",
    "D0106": "licence_expired", "D0108": "licence_expired", "D0157": "permit_invalid",
}


def test_corpus_against_its_registry(corpus_rows: list[dict]) -> None:
    from patroli.verify.registry import read_registry

    snap = read_registry(shared_path("data", "registry", "agencies.csv"),
                         shared_path("data", "registry", "job_orders.csv"))
    ver = Verifier(snap, today=TODAY)
    registered = {normalize_agency_name(a.name) for a in snap.agencies}
    seen = set()
    for row in corpus_rows:
        a = analyze(Post(key=row["id"], text=row["text"]), verifier=ver)
        status = a.verification["status"]
        if row["id"] in CORPUS_STATUS:
            seen.add(row["id"])
            assert status == CORPUS_STATUS[row["id"]], (row["id"], a.verification["summary_en"])
            if row["label"] == "illegal":
                assert "unlicensed_agency_claim" in a.indicators, row["id"]
        elif row["label"] == "legitimate" and any(
                m["match"] == "exact" for m in a.verification["mentions"]):
            assert status == "verified", (row["id"], a.verification["summary_en"])
        if row["label"] == "legitimate":
            names = [m for m in a.verification["mentions"]
                     if normalize_agency_name(m["name"]) in registered]
            assert all(m["match"] == "exact" for m in names), row["id"]
    assert seen == set(CORPUS_STATUS)
