"""patroli.sources: JSONL, JSON, CSV, text, Telegram, directories, errors, keys."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patroli.sources import (
    FORMATS,
    READERS,
    RecordError,
    SourceError,
    SourceOptions,
    detect_format,
    read_posts,
)
from patroli.sources._jsonstream import EscapeRepairingReader
from patroli.sources.telegram import message_text

FIX = Path(__file__).parent / "fixtures" / "sources"


def read_all(path, options=None):
    errors: list[RecordError] = []
    posts = list(read_posts(path, options, on_error=errors.append))
    return posts, errors


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- registry / detection


def test_every_format_has_a_reader():
    assert set(FORMATS) <= set(READERS)


@pytest.mark.parametrize("name,fmt", [
    ("posts.jsonl", "jsonl"),
    ("telegram_result.json", "telegram"),
    ("excel_semicolon_cp1252.csv", "csv"),
    ("crowdtangle_full.csv", "csv"),
    ("whatsapp_android_id.txt", "whatsapp"),
    ("whatsapp_ios_12h.txt", "whatsapp"),
    ("whatsapp_arabic.txt", "whatsapp"),
])
def test_detect_format_fixtures(name, fmt):
    assert detect_format(FIX / name) == fmt


def test_detect_format_by_content(tmp_path):
    (tmp_path / "a.json").write_text('[{"text": "x"}]', encoding="utf-8")
    (tmp_path / "b.json").write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    (tmp_path / "c").write_text('{"data": [{"message": "x"}]}', encoding="utf-8")
    (tmp_path / "d.txt").write_text("Loker Taiwan gaji 30jt\nhubungi admin", encoding="utf-8")
    (tmp_path / "e.md").write_text("[link](http://x) bukan JSON", encoding="utf-8")
    assert detect_format(tmp_path / "a.json") == "json"
    assert detect_format(tmp_path / "b.json") == "jsonl"
    assert detect_format(tmp_path / "c") == "json"
    assert detect_format(tmp_path / "d.txt") == "text"
    assert detect_format(tmp_path / "e.md") == "text"


# ---------------------------------------------------------------- errors


def test_missing_file_is_source_error(tmp_path):
    with pytest.raises(SourceError) as exc:
        read_posts(tmp_path / "nope.jsonl")
    assert "nope.jsonl" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("name", ["x.bin", "x.txt", "x.jsonl", "x.csv"])
def test_binary_file_is_source_error(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(SourceError) as exc:
        list(read_posts(p))
    assert str(p) in str(exc.value) and "binary" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unknown_format_option(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("x", encoding="utf-8")
    with pytest.raises(SourceError):
        read_posts(p, SourceOptions(format="pdf"))


@pytest.mark.parametrize("name", ["e.jsonl", "e.json", "e.csv", "e.txt"])
def test_empty_file_gives_no_posts_no_error(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    assert read_all(p) == ([], [])


def test_empty_directory_is_source_error(tmp_path):
    with pytest.raises(SourceError):
        read_posts(tmp_path)


def test_directory_of_only_binary_files_is_source_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8\xff\x00\x00binary")
    errors: list[RecordError] = []
    with pytest.raises(SourceError):
        list(read_posts(tmp_path, on_error=errors.append))
    assert [e.location for e in errors] == [str(tmp_path / "a.jpg")]


def test_directory_reads_every_format_sorted_skips_hidden_and_binary(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (tmp_path / "b.txt").write_text("Lowongan kerja Jepang, gaji 20jt", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"id": "A1", "text": "satu"}\n', encoding="utf-8")
    (sub / "c.csv").write_text("id,text\nC1,dua\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("rahasia", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("git", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    posts, errors = read_all(tmp_path)
    assert [p.text for p in posts] == ["satu", "Lowongan kerja Jepang, gaji 20jt", "dua"]
    assert [p.source for p in posts] == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.txt"),
                                         str(sub / "c.csv")]
    assert len(errors) == 1 and errors[0].location == str(tmp_path / "photo.jpg")


# ---------------------------------------------------------------- JSONL


def test_jsonl_fixture_fields_and_errors():
    path = FIX / "posts.jsonl"
    posts, errors = read_all(path)
    assert [(e.location, e.message.split(":")[0]) for e in errors] == [
        (f"{path}:3", "invalid JSON"),
        (f"{path}:4", "not a JSON object but list"),
        (f"{path}:5", "no text (empty or missing"),
    ]
    p1 = posts[0]
    assert (p1.key, p1.record_id, p1.platform, p1.author, p1.language) == (
        "P1", "P1", "facebook", "agen_jepang", "id")
    assert p1.url == "https://facebook.com/x/posts/1"
    assert p1.posted_at == utc(2025, 8, 30, 3, 0)  # +07:00 honoured
    assert p1.raw["label"] == "illegal"
    assert p1.location == f"{path}:1" and p1.source == str(path)
    assert posts[1].key == "5" and posts[1].posted_at == utc(2025, 8, 30, 11, 0)  # epoch
    # identical keyless records: content keys made unique, deterministically
    assert posts[2].key.startswith("sha256:") and posts[3].key == posts[2].key + "#2"
    assert posts[2].posted_at == utc(2025, 8, 30, 12, 0)  # naive = UTC


def test_keys_stable_and_unique():
    for name in ("posts.jsonl", "telegram_result.json", "crowdtangle_full.csv",
                 "whatsapp_android_id.txt", "whatsapp_ios_12h.txt"):
        first = [p.key for p in read_posts(FIX / name)]
        again = [p.key for p in read_posts(FIX / name)]
        assert first == again and len(set(first)) == len(first), name


def test_jsonl_text_column_and_options(tmp_path):
    p = tmp_path / "x.jsonl"
    rows = [{"uid": "u1", "judul": "Loker", "isi": "Gaji 10jt", "link": "https://a.b/c",
             "ts": "2025-01-01T00:00:00Z", "src": "TikTok", "who": {"name": "agen"}}]
    p.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    opts = SourceOptions(text_column="judul, isi", id_column="uid", url_column="link",
                         time_column="ts", platform_column="src", author_column="who")
    [post] = read_posts(p, opts)
    assert post.text == "Loker\n\nGaji 10jt"
    assert (post.key, post.url, post.platform, post.author) == (
        "u1", "https://a.b/c", "tiktok", "agen")
    assert post.posted_at == utc(2025, 1, 1)


def test_jsonl_platform_option_is_default(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "a"}\n{"text": "b", "platform": "X"}\n', encoding="utf-8")
    posts = list(read_posts(p, SourceOptions(platform="facebook")))
    assert [q.platform for q in posts] == ["facebook", "x"]


def test_jsonl_one_megabyte_post(tmp_path):
    text = ("Loker Taiwan gaji 30jt hubungi wa.me/6281200000009 " * 20000)[:1_000_000]
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps({"id": "big", "text": text}) + "\n", encoding="utf-8")
    [post] = read_posts(p)
    assert post.text == text and len(post.text) == 1_000_000


_text = st.text(min_size=1, max_size=200).filter(lambda t: t.strip() != "")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_text, min_size=1, max_size=5), ascii_only=st.booleans())
def test_jsonl_arbitrary_text_round_trips(tmp_path, texts, ascii_only):
    p = tmp_path / "prop.jsonl"
    with p.open("w", encoding="utf-8", newline="\n") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": t}, ensure_ascii=ascii_only) + "\n")
    posts, errors = read_all(p)
    assert errors == []
    assert [q.text for q in posts] == texts
    assert [q.key for q in posts] == [str(i) for i in range(len(texts))]


# ---------------------------------------------------------------- JSON


def test_json_array_and_bad_items(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps([{"id": 1, "text": "satu"}, 7, {"id": 3}, {"id": 4, "body": "b"}]),
                 encoding="utf-8")
    posts, errors = read_all(p)
    assert [q.key for q in posts] == ["1", "4"]
    assert [e.location for e in errors] == [f"{p}:item 2", f"{p}:item 3"]


def test_json_graph_page_nested_fields(tmp_path):
    page = {"data": [
        {"id": "1_2", "message": "Loker Korea", "created_time": "2025-08-30T03:00:00+0000",
         "permalink_url": "https://www.facebook.com/1/posts/2", "from": {"name": "Agen", "id": "9"}},
        {"id": "1_3", "created_time": "2025-08-30T04:00:00+0000"},  # media-only: skipped
    ], "paging": {"cursors": {"before": "a", "after": "b"}}}
    p = tmp_path / "feed.json"
    p.write_text(json.dumps(page), encoding="utf-8")
    posts, errors = read_all(p)
    assert errors == []
    [post] = posts
    assert (post.key, post.record_id, post.author, post.url) == (
        "1_2", "1_2", "Agen", "https://www.facebook.com/1/posts/2")
    assert post.posted_at == utc(2025, 8, 30, 3, 0)


def test_json_crowdtangle_api_shape(tmp_path):
    doc = {"status": 200, "result": {"posts": [
        {"platformId": "1_2", "platform": "Facebook", "date": "2020-10-29 14:56:05",
         "message": "Loker", "postUrl": "https://facebook.com/1/posts/2",
         "account": {"name": "Halaman", "handle": "hal"}}], "pagination": {}}}
    p = tmp_path / "ct.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    [post] = read_posts(p)
    assert (post.platform, post.author, post.url) == (
        "facebook", "Halaman", "https://facebook.com/1/posts/2")
    assert post.posted_at == utc(2020, 10, 29, 14, 56, 5)


def test_truncated_json_is_one_line_source_error(tmp_path):
    p = tmp_path / "t.json"
    p.write_text('[{"text": "a"}, {"text": "b"', encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        list(read_posts(p))
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


# ---------------------------------------------------------------- Telegram


def test_telegram_fixture():
    path = FIX / "telegram_result.json"
    posts, errors = read_all(path)
    assert errors == []
    assert [p.key for p in posts] == ["1000000001:2", "1000000001:4", "1000000001:5"]
    ad = posts[0]
    assert ad.platform == "telegram" and ad.author == "Loker Hongkong"
    assert ad.text == ("LOWONGAN HONGKONG gaji HK$ 5000 TANPA BIAYA\nDaftar: klik di sini "
                       "(https://bit.ly/contoh-loker) atau +62 812 0000 0003 @admin_contoh")
    assert ad.posted_at == utc(2025, 8, 30, 11, 5)
    assert ad.record_id == "2" and ad.location == f"{path}:message 2"
    assert posts[1].author is None and posts[1].text.endswith("\x07bel")  # \x07 repaired
    assert posts[2].posted_at == utc(2025, 8, 30, 11, 12)  # only "date": WIB local time


def test_telegram_account_export_and_text_list(tmp_path):
    doc = {"about": "x", "chats": {"about": "y", "list": [
        {"name": "Grup A", "type": "private_group", "id": 11, "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1700000000", "from": "a",
             "text": ["Daftar ", {"type": "text_link", "text": "di sini", "href": "https://s.id/a"}]},
            {"id": 2, "type": "service", "actor": "a", "action": "pin_message", "text": ""}]},
        {"name": "Grup B", "type": "private_group", "id": 12, "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1700000060", "from": "b",
             "text": "Halo"}]}]},
        "left_chats": {"about": "z", "list": []}}
    p = tmp_path / "result.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    assert detect_format(p) == "telegram"
    posts, errors = read_all(p)
    assert errors == []
    assert [(q.key, q.text) for q in posts] == [
        ("11:1", "Daftar di sini (https://s.id/a)"), ("12:1", "Halo")]


def test_telegram_message_text_visible_href_not_duplicated():
    assert message_text(["a ", {"type": "text_link", "text": "https://x.y", "href": "https://x.y"}]) \
        == "a https://x.y"
    assert message_text(["a", {"type": "unknown_new_kind", "text": "b", "extra": 1}]) == "ab"
    assert message_text(None) == ""


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64])
def test_escape_repair_across_chunk_boundaries(chunk):
    import io

    src = rb'{"t": "a\x07b \\x41 \\\x1f c\\\\x20"}'
    reader = EscapeRepairingReader(io.BytesIO(src), chunk_size=chunk)
    out = b""
    while True:
        part = reader.read(7)
        if not part:
            break
        out += part
    assert json.loads(out) == {"t": "a\x07b \\x41 \\\x1f c\\\\x20"}


# ---------------------------------------------------------------- CSV


def test_csv_excel_semicolon_cp1252_and_bad_rows():
    path = FIX / "excel_semicolon_cp1252.csv"
    posts, errors = read_all(path)
    assert [p.text.split("\r\n")[0] for p in posts] == [
        "Dicari pekerja pabrik – gaji 2.500.000 won",
        "Barista, gaji NT$ 30.000 “tanpa potongan”",
    ]
    assert "Biaya ditanggung" in posts[0].text  # quoted multi-line field
    assert posts[0].raw["Judul"] == "Loker Korea" and posts[1].raw["Judul"] == "Café Taiwan"
    assert posts[0].posted_at == utc(2025, 8, 30)
    assert [e.location for e in errors] == [f"{path}:row 4", f"{path}:row 5"]


def test_csv_crowdtangle_full_header():
    posts, errors = read_all(FIX / "crowdtangle_full.csv")
    assert errors == []
    assert [p.platform for p in posts] == ["facebook", "facebook", "instagram"]
    assert posts[0].url == "https://www.facebook.com/1/posts/2"  # URL, not Link
    assert posts[0].author == "infokerjaln"
    assert posts[0].posted_at == utc(2025, 8, 30, 14, 0)  # EDT = UTC-4
    assert posts[1].posted_at == utc(2025, 8, 30, 16, 0)  # EST = UTC-5
    assert posts[1].text == "Hanya deskripsi tautan"  # Message empty → Description


def test_csv_field_longer_than_default_limit(tmp_path):
    long_text = "gaji besar " * 20000  # 220,000 chars > 131,072
    p = tmp_path / "long.csv"
    p.write_text(f'id,text\r\n1,"{long_text}"\r\n2,pendek\r\n', encoding="utf-8")
    posts, errors = read_all(p)
    assert errors == [] and [len(q.text) for q in posts] == [len(long_text), 6]


def test_csv_bom_tab_and_multicolumn_text_option(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("\ufeffno\tjudul\tisi\n1\tLoker\tGaji 9jt\n", encoding="utf-8")
    [post] = read_posts(p, SourceOptions(text_column="judul,isi", id_column="no"))
    assert post.text == "Loker\n\nGaji 9jt" and post.key == "1"


def test_csv_unknown_header_guesses_longest_column(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("kode,kalimat_panjang,angka\nA1,Dicari TKW ke Hongkong gaji 8jt,12\n"
                 "A2,Loker kapal ikan Taiwan tanpa biaya,13\n", encoding="utf-8")
    posts, errors = read_all(p)
    assert errors == [] and posts[0].text == "Dicari TKW ke Hongkong gaji 8jt"


def test_csv_missing_option_column_is_source_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("id,text\n1,a\n", encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        list(read_posts(p, SourceOptions(text_column="pesan")))
    assert "pesan" in str(exc.value)


# ---------------------------------------------------------------- text


def test_text_file_is_one_post_and_cp1252_fallback(tmp_path):
    p = tmp_path / "iklan.txt"
    p.write_bytes("Café Taiwan – gaji NT$ 30.000, “tanpa potongan”".encode("cp1252"))
    [post] = read_posts(p)
    assert post.text == "Café Taiwan – gaji NT$ 30.000, “tanpa potongan”"
    assert post.key.startswith("sha256:") and post.location == f"{p}:1"


def test_zip_without_chat_is_source_error(tmp_path):
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8")
    with pytest.raises(SourceError):
        list(read_posts(p))
