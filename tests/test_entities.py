"""Tests for patroli.analysis.entities (and its helpers phones/money/urls/places)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patroli.analysis.entities import extract_entities
from patroli.analysis.money import parse_number


def _values(text: str, kind: str) -> list[str]:
    return [e.value for e in extract_entities(text) if e.kind == kind]


def _money(text: str) -> list[tuple[float, str, str | None]]:
    return [(e.data["amount"], e.data["currency"], e.data["period"])
            for e in extract_entities(text) if e.kind == "money"]


# ---------------------------------------------------------------- phones
@pytest.mark.parametrize("text,expected", [
    ("hubungi 0813-7700-1234 ya", "+6281377001234"),
    ("WA: 0.8.1.3.7.7.0.0.1.2.3.4 sekarang", "+6281377001234"),
    ("wa O813 77OO l234 ok", "+6281377001234"),
    ("call 0 8 1 3 - 7 7 0 0 - 1 2 3 4", "+6281377001234"),
    ("wa 62 813 7700 1234", "+6281377001234"),
    ("tel 0062 813 7700 1234", "+6281377001234"),
    ("tel +62 0813 7700 1234", "+6281377001234"),
    ("kantor (022) 7700-4321", "+622277004321"),
    ("wa nol delapan satu tiga tujuh tujuh kosong kosong satu dua tiga empat", "+6281377001234"),
    ("hubungi 016-770 1234 (Malaysia)", "+60167701234"),
    ("contact +855 12 770 678", "+85512770678"),
    ("LINE +886 912 345 678", "+886912345678"),
])
def test_phone_forms(text: str, expected: str) -> None:
    assert _values(text, "phone") == [expected]


@pytest.mark.parametrize("text", [
    "transfer ke rek BCA 0812770012345 a.n. Budi",
    "NIK 3201234567890001 wajib",
    "gaji Rp 8.500.000 per bulan",
    "periode 2024-2026, kode 20261129",
    "no. rek 0123456789",
])
def test_not_phones(text: str) -> None:
    assert _values(text, "phone") == []


def test_two_numbers_side_by_side() -> None:
    assert _values("Hub 0852-7700-3176 / 0838-7700-4402", "phone") == [
        "+6285277003176", "+6283877004402"]


def test_whatsapp_links_give_url_and_phone() -> None:
    ents = extract_entities("klik wa.me/6281377001234 atau api.whatsapp.com/send?phone=6285277003176")
    phones = [e for e in ents if e.kind == "phone"]
    assert [p.value for p in phones] == ["+6281377001234", "+6285277003176"]
    assert all(p.data.get("channel") == "whatsapp" for p in phones)
    assert "https://wa.me/6281377001234" in [e.value for e in ents if e.kind == "url"]


@given(st.lists(st.sampled_from([" ", ".", "-", "", " - ", ". "]), min_size=11, max_size=11),
       st.integers(min_value=10_000_000, max_value=99_999_999))
@settings(max_examples=150, deadline=None)
def test_separators_between_digits_keep_value(seps: list[str], tail: int) -> None:
    digits = "0813" + str(tail)
    written = "".join(d + s for d, s in zip(digits, seps + [""]))
    assert _values(f"WA {written} ya", "phone") == ["+62813" + str(tail)]


# ---------------------------------------------------------------- urls
@pytest.mark.parametrize("text,expected", [
    ("Daftar:https://loker.example/form!", "https://loker.example/form"),
    ("link: www.loker.example/daftar.", "https://loker.example/daftar"),
    ("klik bit(.)ly/abc-12 sekarang", "https://bit.ly/abc-12"),
    ("hxxps://evil[.]example/x", "https://evil.example/x"),
    ("cek s[dot]id/kerja2026", "https://s.id/kerja2026"),
    ("join t . me / lokerkh", "https://t.me/lokerkh"),
    ("situs kerjaku titik example garing daftar", "https://kerjaku.example/daftar"),
    ("(lihat loker.example/x)", "https://loker.example/x"),
])
def test_url_forms(text: str, expected: str) -> None:
    assert _values(text, "url") == [expected]


def test_shortener_flag_and_domain() -> None:
    ents = extract_entities("isi form di tinyurl.com/abc")
    url = next(e for e in ents if e.kind == "url")
    assert url.data.get("shortener") is True
    assert "tinyurl.com" in [e.value for e in ents if e.kind == "domain"]


@pytest.mark.parametrize(("text", "url"), [
    ("INFO LENGKAP HUB T.ME/LOKER_KAMBOJA SEKARANG", "https://t.me/LOKER_KAMBOJA"),
    ("DAFTAR DI BIT.LY/KERJA-JEPANG!!!", "https://bit.ly/KERJA-JEPANG"),
    ("FORMULIR: LOKERJEPANG.COM/DAFTAR", "https://lokerjepang.com/DAFTAR"),
    ("KUNJUNGI LOKERJEPANG.COM", "https://lokerjepang.com"),
])
def test_links_written_in_capitals(text: str, url: str) -> None:
    """All-capital posts are common: their links are links ("PT.ASIA" is not, below)."""
    assert _values(text, "url") == [url]


@pytest.mark.parametrize("text", [
    "PT.ASIA MANDIRI buka loker", "gaji Rp15.000.000 per bulan", "Jl.Merdeka no 5",
    "Link pendek (bit.ly, s.id) berbahaya", "Sdn.Bhd. dan Co.Ltd", "CV.MAJU.COM MEMBUKA",
    "JL.MERDEKA.ID NO 5", "SELESAI.BERANGKAT BESOK",
])
def test_not_urls(text: str) -> None:
    assert _values(text, "url") == []


# ---------------------------------------------------------------- telegram / email
def test_telegram_from_link_and_context() -> None:
    assert _values("Channel: t.me/Loker_KH", "telegram") == ["@loker_kh"]
    assert _values("Telegram @Kerja_Jepang", "telegram") == ["@kerja_jepang"]
    assert _values("Daftar: @rekrut_abc (fast respon)", "telegram") == ["@rekrut_abc"]
    assert _values("t.me/+AbCdEf123 dan t.me/joinchat/xyz", "telegram") == []


def test_handles_of_other_platforms_are_not_telegram() -> None:
    assert _values("follow IG @toko_kue ya", "telegram") == []
    assert _values("Kami @AgensiDigital lagi cari admin", "telegram") == []
    assert _values("email hr@mail.example", "telegram") == []


@pytest.mark.parametrize("text,expected", [
    ("kirim CV ke HR@Mail.Example", "hr@mail.example"),
    ("kirim ke hr.kerja(at)mail.example", "hr.kerja@mail.example"),
    ("email: rekrut [at] loker [dot] example", "rekrut@loker.example"),
    ("email rekrut_2 at loker dot example", "rekrut_2@loker.example"),
])
def test_email_forms(text: str, expected: str) -> None:
    assert _values(text, "email") == [expected]


def test_apply_at_site_is_not_email() -> None:
    assert _values("Apply at careers.example/jobs", "email") == []


# ---------------------------------------------------------------- money
@pytest.mark.parametrize("text,expected", [
    ("gaji Rp 15 juta/bln", [(15e6, "IDR", "month")]),
    ("gaji 1,5jt sebulan", [(1.5e6, "IDR", "month")]),
    ("Biaya Rp15.000.000,- lunas", [(15e6, "IDR", None)]),
    ("gaji RM 2k", [(2000, "MYR", "month")]),
    ("salary USD 1,000/month", [(1000, "USD", "month")]),
    ("gaji 8-10jt", [(8e6, "IDR", "month"), (10e6, "IDR", "month")]),
    ("upah 150rb/hari", [(150000, "IDR", "day")]),
    ("gaji NT$ 28.000", [(28000, "TWD", "month")]),
    ("gaji 1.200 yen/jam", [(1200, "JPY", "hour")]),
    ("DP 5jt minggu ini", [(5e6, "IDR", None)]),
    ("gaji harian RM 120", [(120, "MYR", "day")]),
    ("Gaji: 12.500.000", [(12.5e6, "IDR", "month")]),
    ("gaji €1.400 nett", [(1400, "EUR", "month")]),
    ("fee IDR 2.5 million", [(2.5e6, "IDR", None)]),
    ("kerugian Rp 1,3 miliar", [(1.3e9, "IDR", None)]),
])
def test_money_forms(text: str, expected: list) -> None:
    assert _money(text) == expected


@pytest.mark.parametrize("text", [
    "kurs 1 USD = 15.000", "kadar RM1 = Rp 3,640", "dibutuhkan 20 orang umur 18-35",
    "WA 0812-7700-3185", "tanggal 12/11/2026",
])
def test_not_money(text: str) -> None:
    assert _money(text) == []


def test_parse_number_conventions() -> None:
    assert parse_number("15.000.000") == 15_000_000
    assert parse_number("1,5") == 1.5
    assert parse_number("1,000.50") == 1000.5
    assert parse_number("3.640") == 3640


# ---------------------------------------------------------------- agency / licence / places
def test_agency_licence_permit() -> None:
    text = ("PT Lintas Samudra Karya (KEP-214/P3MI/2022) membuka sip 2026/tw/0457. "
            "No. SIP: SIP-2026/MY/0612 untuk Sinar Perai Electronics Sdn. Bhd., Penang")
    ents = extract_entities(text)
    assert "PT Lintas Samudra Karya" in [e.value for e in ents if e.kind == "agency_name"]
    assert "Sinar Perai Electronics Sdn. Bhd." in [e.value for e in ents
                                                    if e.kind == "agency_name"]
    assert [e.value for e in ents if e.kind == "licence_number"] == ["KEP-214/P3MI/2022"]
    assert [e.value for e in ents if e.kind == "permit_number"] == [
        "SIP-2026/TW/0457", "SIP-2026/MY/0612"]


def test_places() -> None:
    ents = extract_entities("Kerja di Thailand (Mae Sot), Arab Saudi, Hongkong, Korsel; "
                            "bukan Amerika Selatan. Romansa di Omanland? tidak.")
    countries = [e.value for e in ents if e.kind == "country"]
    assert countries == ["TH", "SA", "HK", "KR"]
    assert [(e.value, e.data["country"]) for e in ents if e.kind == "city"] == [("mae sot", "TH")]


def test_sorted_unique_and_spans_inside_text() -> None:
    text = "🔥 G4JI 15jt! WA 0812-7700-3185 / wa.me/6281277003185 bit.ly/x1 Kamboja 🇰🇭"
    ents = extract_entities(text)
    assert [e.span for e in ents] == sorted(e.span for e in ents)
    keys = [(e.kind, e.value, e.span) for e in ents]
    assert len(keys) == len(set(keys))
    for e in ents:
        assert 0 <= e.span[0] < e.span[1] <= len(text)


def test_large_post_completes() -> None:
    chunk = "LOKER 🇰🇭 g4ji 15jt/bln WA 0812-7700-3185 bit.ly/abc Rp 8.500.000 @x_y PT Maju Jaya. "
    t0 = time.perf_counter()
    ents = extract_entities(chunk * 12000)  # ~1 MB
    assert len(ents) > 12000
    assert time.perf_counter() - t0 < 60


# ---------------------------------------------------------------- corpus figures
def test_corpus_precision_recall(corpus_rows: list[dict]) -> None:
    kinds = {"phones": "phone", "urls": "url", "telegram": "telegram", "emails": "email"}
    stats = {k: [0, 0, 0] for k in [*kinds, "money"]}
    for r in corpus_rows:
        ents = extract_entities(r["text"])
        for gk, kind in kinds.items():
            gold = {v.lower() if kind == "telegram" else v for v in r["entities"][gk]}
            got = {e.value for e in ents if e.kind == kind}
            stats[gk][0] += len(gold & got)
            stats[gk][1] += len(got - gold)
            stats[gk][2] += len(gold - got)
        gold_m = Counter((float(m["amount"]), m["currency"], m["period"])
                         for m in r["entities"]["money"])
        got_m = Counter((e.data["amount"], e.data["currency"], e.data["period"])
                        for e in ents if e.kind == "money")
        stats["money"][0] += sum((gold_m & got_m).values())
        stats["money"][1] += sum((got_m - gold_m).values())
        stats["money"][2] += sum((gold_m - got_m).values())
    targets = {"phones": 0.97, "urls": 0.95, "telegram": 0.95, "emails": 0.95, "money": 0.85}
    for k, (tp, fp, fn) in stats.items():
        p = tp / max(1, tp + fp)
        r_ = tp / max(1, tp + fn)
        print(f"{k}: P={p:.3f} R={r_:.3f} (tp={tp} fp={fp} fn={fn})")
        assert p >= targets[k] and r_ >= targets[k], (k, p, r_)


def test_norway_is_a_country_code_not_a_boolean() -> None:
    """YAML 1.1 reads an unquoted NO as false: the lexicon must keep it a string."""
    from patroli.analysis.entities import extract_entities

    ents = extract_entities("Lowongan kerja kapal di Norwegia, gaji besar")
    assert [e.value for e in ents if e.kind == "country"] == ["NO"]
    assert all(isinstance(e.value, str) for e in ents)


@pytest.mark.parametrize("text", [
    "Kontak: O 8 5 2 - O O O O - 7 7 1 3 (WA only)",
    "Konsultasi: nol-delapan-lima-dua/nol-nol-nol-nol/tujuh-tujuh-satu-tiga",
    "hub nol delapan lima dua, nol nol nol nol, tujuh tujuh satu tiga",
])
def test_spaced_letter_o_and_slashed_digit_words(text: str) -> None:
    from patroli.analysis.entities import extract_entities

    assert [e.value for e in extract_entities(text) if e.kind == "phone"] == ["+6285200007713"]
