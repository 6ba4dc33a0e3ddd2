"""patroli.sources.whatsapp: line formats, system lines, placeholders, zip, properties."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from patroli.sources import RecordError, SourceOptions, detect_format, read_posts
from patroli.sources.whatsapp import clean_text, match_header, sniff

FIX = Path(__file__).parent / "fixtures" / "sources"


def read_all(path, options=None):
    errors: list[RecordError] = []
    posts = list(read_posts(path, options, on_error=errors.append))
    return posts, errors


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_android_indonesian_dot_time_crlf_system_media_multiline():
    path = FIX / "whatsapp_android_id.txt"
    posts, errors = read_all(path)
    assert errors == []
    assert [(p.author, p.location) for p in posts] == [
        ("Agen Loker", f"{path}:4"), ("+62 812-0000-0002", f"{path}:12"),
        ("Agen Loker", f"{path}:13"), ("Budi", f"{path}:15")]
    ad = posts[0]
    # continuation lines kept, including a blank line, a numbered list and a line that
    # starts with a date but is not a header
    assert ad.text.splitlines() == [
        "LOKER TAIWAN PABRIK", "Gaji 25jt/bulan, tanpa pengalaman", "", "1. Usia 18-35",
        "2. Biaya proses 5jt", "31/08/25 berangkat dari Jakarta, hubungi wa.me/6281200000001"]
    assert "\r" not in ad.text
    assert ad.posted_at == utc(2025, 8, 30, 11, 5)  # 18.05 WIB
    assert ad.platform == "whatsapp" and ad.raw["sender"] == "Agen Loker"
    # attachment line dropped, its caption kept
    assert posts[2].text == "Brosur: daftar sebelum 5/9, kuota terbatas"
    assert posts[3].text == "Jam kerja: 12 jam per hari"  # ": " inside the text


def test_ios_12h_narrow_nbsp_lrm_bom_and_credited_system_lines():
    posts, errors = read_all(FIX / "whatsapp_ios_12h.txt")
    assert errors == []
    assert [(p.author, p.text) for p in posts] == [
        ("Rina", "Dicari ART ke Malaysia, gaji RM 1800\nPP ditanggung majikan"),
        ("Sari", "Berapa biayanya?"),
        ("Rina", "Daftar via t.me/contoh_loker"),
    ]
    # month-first (second field 30 > 12); 6:15 PM WIB = 11:15 UTC; 12:10 PM = noon
    assert posts[0].posted_at == utc(2025, 8, 30, 11, 15)
    assert posts[1].posted_at == utc(2025, 8, 30, 2, 45, 10)
    assert posts[2].posted_at == utc(2025, 8, 31, 5, 10)


def test_arabic_indic_digits_rlm_and_arabic_am_pm():
    posts, errors = read_all(FIX / "whatsapp_arabic.txt")
    assert errors == []
    assert [(p.author, p.text) for p in posts] == [
        ("Ahmad", "Kerja di Riyadh, gaji 1500 SAR"), ("Siti", "Visa ziarah bisa?")]
    assert posts[0].posted_at == utc(2025, 9, 15, 15, 30)  # 22:30 WIB
    assert posts[1].posted_at == utc(2025, 9, 16, 2, 5)


def test_timezone_option(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("30/08/2025 18.00 - A: Loker\n", encoding="utf-8")
    [post] = read_posts(p, SourceOptions(timezone="Asia/Makassar"))
    assert post.posted_at == utc(2025, 8, 30, 10, 0)
    [post] = read_posts(p, SourceOptions(timezone="+03:00"))
    assert post.posted_at == utc(2025, 8, 30, 15, 0)


@pytest.mark.parametrize("line,sender,text,local", [
    ("30/08/25 18.00 - Nama: teks", "Nama", "teks", (2025, 8, 30, 18, 0)),
    ("30/08/25, 18.00 - Nama: teks", "Nama", "teks", (2025, 8, 30, 18, 0)),
    ("21/07/2026 03.16 - Budi: halo", "Budi", "halo", (2026, 7, 21, 3, 16)),
    ("[29/11/26 20.15.32] Nama: teks", "Nama", "teks", (2026, 11, 29, 20, 15, 32)),
    ("13.06.18 21.25.15: a: m", "a", "m", (2018, 6, 13, 21, 25, 15)),
    ("15.01.2020, 02:22 - +1 123 456 789: hi", "+1 123 456 789", "hi", (2020, 1, 15, 2, 22)),
    ("[15-01-20 02:22:56] Name: x", "Name", "x", (2020, 1, 15, 2, 22, 56)),
    ("2019-01-30, 8:49 PM - A B: c", "A B", "c", (2019, 1, 30, 20, 49)),
    ("13. 6. 2018. 21:25 - x: y", "x", "y", (2018, 6, 13, 21, 25)),
    ("13.6.2018 klo 21.25.15 - x: y", "x", "y", (2018, 6, 13, 21, 25, 15)),
    ("\u200e[3/6/18 1:55:00\u202fp.\u00a0m.] a: m", "a", "m", (2018, 6, 3, 13, 55)),
    ("1/2/19, 12:05\u202fAM - a: b", "a", "b", (2019, 2, 1, 0, 5)),
])
def test_header_variants(line, sender, text, local):
    h = match_header(line)
    assert h is not None and (h.sender, h.text) == (sender, text)
    assert h.local_time(day_first=True) == datetime(*local)


@pytest.mark.parametrize("line", [
    "30/08/25 18.00 - Pesan dan panggilan terenkripsi secara end-to-end.",
    "30/08/25 18.00 - Grup: Pesan dan panggilan terenkripsi secara end-to-end. Ketuk.",
    "01/01/19, 11:25 - Alice added Bob",
    "01/01/19, 11:25 - +62 812 created group \"Loker: Taiwan\"",
    "01/01/19, 11:25 - Alice changed the subject from \"A\" to \"Loker: B\"",
    "[01/01/19 11:25:00] Grup Loker: \u200eMessages and calls are end-to-end encrypted.",
    "[01/01/19 11:25:00] Grup Loker: \u200eBudi menambahkan Ani",
])
def test_system_lines_have_no_sender(line):
    h = match_header(line)
    assert h is not None and h.sender is None


@pytest.mark.parametrize("line", [
    "31/08/25 berangkat dari Jakarta", "1. Usia 18-35", "Hubungi 0812-0000-0001",
    "2025 ada 20 lowongan: cepat", "12:30 - kumpul di kantor",
])
def test_non_headers(line):
    assert match_header(line) is None


@pytest.mark.parametrize("text", [
    "<Media omitted>", "<Media tidak disertakan>", "\u200e<attached: 0001-PHOTO.jpg>",
    "IMG-20250101-WA0001.jpg (file attached)", "DOC-1.pdf (file terlampir)",
    "This message was deleted", "Pesan ini telah dihapus", "\u200eimage omitted",
    "<terlampir: 00000012-PHOTO-2025.jpg>", "null",
])
def test_placeholders_are_not_ad_text(text):
    assert clean_text(text) == ""


def test_message_mentioning_encryption_is_kept():
    h = match_header("01/01/19, 11:25 - Agen: Chat kami END-TO-END ENCRYPTED, aman daftar")
    assert h is not None and h.sender == "Agen"


def test_edited_marker_removed_and_text_kept():
    assert clean_text("Gaji 10jt <This message was edited>") == "Gaji 10jt"


def test_sniff_and_text_fallback(tmp_path):
    assert sniff("\ufeff[01/01/19 11:25] A: b\n")
    assert not sniff("Loker Taiwan\n30/08/25 18.00 - A: b\n")
    p = tmp_path / "notes.txt"
    p.write_text("Catatan patroli\n30/08/25 18.00 - A: b\n", encoding="utf-8")
    assert detect_format(p) == "text"


def test_impossible_date_is_record_error(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("13/01/25 10.00 - A: satu\n31/02/25 10.00 - A: dua\n01/03/25 10.00 - A: tiga\n",
                 encoding="utf-8")
    posts, errors = read_all(p)
    assert [q.text for q in posts] == ["satu", "tiga"]
    assert [e.location for e in errors] == [f"{p}:2"]


@pytest.mark.parametrize("member", ["_chat.txt", "WhatsApp Chat with Agen.txt",
                                    "Chat WhatsApp dengan Agen.txt"])
def test_zip_export(tmp_path, member):
    p = tmp_path / "export.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("IMG-0001.jpg", b"\xff\xd8\xff")
        zf.writestr(member, "\ufeff[30/08/25 18.00.00] Agen: Loker Jepang\n"
                            "[30/08/25 18.01.00] Agen: \u200e<attached: IMG-0001.jpg>\n")
    assert detect_format(p) == "whatsapp"
    posts, errors = read_all(p)
    assert errors == [] and [q.text for q in posts] == ["Loker Jepang"]
    assert posts[0].source == str(p) and posts[0].location == f"{p}!{member}:1"


# ---------------------------------------------------------------- properties

_LINE_FORMATS = {
    "android_24": lambda d, t, s, x: f"{d:%d/%m/%y}, {t:%H:%M} - {s}: {x}",
    "android_id_dot": lambda d, t, s, x: f"{d:%d/%m/%y} {t:%H.%M} - {s}: {x}",
    "android_12h": lambda d, t, s, x: f"{d:%d/%m/%Y}, {_h12(t)}\u202f{t:%p} - {s}: {x}",
    "android_es": lambda d, t, s, x:
        f"{d:%d/%m/%Y}, {_h12(t)} {'a. m.' if t.hour < 12 else 'p. m.'} - {s}: {x}",
    "ios": lambda d, t, s, x: f"[{d:%d/%m/%y}, {t:%H:%M:%S}] {s}: {x}",
    "ios_lrm_12h": lambda d, t, s, x: f"\u200e[{d:%d.%m.%y} {_h12(t)}:{t:%S}\u00a0{t:%p}] {s}: {x}",
    "iso_date": lambda d, t, s, x: f"{d:%Y-%m-%d}, {t:%H:%M} - {s}: {x}",
}


def _h12(t: datetime) -> str:
    return f"{(t.hour % 12) or 12}:{t:%M}"


_sender = st.text(st.characters(categories=("L", "N", "So"), include_characters=" +-."),
                  min_size=1, max_size=25).map(str.strip).filter(
    lambda s: s and ": " not in s and len(s) <= 25)
_body = st.text(st.characters(categories=("L", "N", "P", "Zs", "So"),
                              exclude_characters="\u2028\u2029\u0085"),
                min_size=1, max_size=80).map(str.strip).filter(bool)
_when = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


@settings(max_examples=200, deadline=None)
@given(fmt=st.sampled_from(sorted(_LINE_FORMATS)), when=_when, sender=_sender, body=_body)
def test_header_round_trip(fmt, when, sender, body):
    when = when.replace(microsecond=0)
    if "ios" not in fmt:
        when = when.replace(second=0)
    line = _LINE_FORMATS[fmt](when, when, sender, body)
    h = match_header(line)
    assert h is not None
    if h.sender is None:  # the generated text happens to read as a system notice
        return
    assert (h.sender, h.text) == (sender, body)
    assert h.local_time(day_first=True) == when


@settings(max_examples=40, deadline=None)
@given(when=st.lists(_when, min_size=1, max_size=6), body=_body,
       fmt=st.sampled_from(["android_24", "android_id_dot", "ios"]))
def test_file_round_trip_utc(tmp_path_factory, when, body, fmt):
    assume(match_header(f"01/01/20, 10:00 - Agen: {body} 0").sender == "Agen")
    lines = [_LINE_FORMATS[fmt](w.replace(second=0, microsecond=0),
                                w.replace(second=0, microsecond=0), "Agen", f"{body} {i}")
             for i, w in enumerate(when)]
    p = tmp_path_factory.mktemp("wa") / "chat.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    posts, errors = read_all(p)
    assert errors == []
    assert [q.text for q in posts] == [f"{body} {i}" for i in range(len(when))]
    wib = timezone(timedelta(hours=7))
    assert [q.posted_at for q in posts] == [
        w.replace(second=0, microsecond=0, tzinfo=wib).astimezone(UTC) for w in when]
