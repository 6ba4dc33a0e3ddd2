"""The real format samples in the shared data set read with zero record errors.

Expected counts were taken by reading each sample by hand (see its NOTES.md): media-only
Graph posts, Telegram service/media messages and WhatsApp system lines are not posts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from patroli.sources import RecordError, detect_format, read_posts

from conftest import shared_path


def read_all(path):
    errors: list[RecordError] = []
    posts = list(read_posts(path, on_error=errors.append))
    return posts, errors


@pytest.mark.parametrize("parts,fmt,count", [
    (("telegram", "chat-miner_single_export.json"), "telegram", 2),
    (("telegram", "chat-miner_batch_export.json"), "telegram", 2),
    (("facebook_graph", "single_post.json"), "json", 1),
    (("facebook_graph", "page_feed_default_fields_p1.json"), "json", 5),
    (("facebook_graph", "group_feed_p1.json"), "json", 4),  # 1 of 5 has no message
    (("facebook_graph", "comments_p1.json"), "json", 10),
    (("facebook_graph", "post_album_attachments.json"), "json", 1),
    (("crowdtangle", "ct_csv_export_trimmed_columns_sample.csv"), "csv", 40),
    # 10 lines: 9 headers, 2 system lines, 1 "Name:." line without ": " → 6 messages
    (("whatsapp", "chat-miner_test_ddmmyy_24hrs.txt"), "whatsapp", 6),
    (("whatsapp", "chat-miner_test_mmddyy_24hrs_android.txt"), "whatsapp", 6),
    (("whatsapp", "chat-miner_test_mmddyyyy_12hrs.txt"), "whatsapp", 6),
    (("whatsapp", "chat-miner_test_yyyymmdd_24hrs.txt"), "whatsapp", 6),
    (("whatsapp", "chat-miner_test_bracket_mmddyy_24hrs_ios.txt"), "whatsapp", 6),
])
def test_format_samples(parts, fmt, count):
    path = shared_path("data", "formats", *parts)
    assert detect_format(path) == fmt
    posts, errors = read_all(path)
    assert errors == []
    assert len(posts) == count
    keys = [p.key for p in posts]
    assert len(set(keys)) == len(keys)
    assert all(p.text.strip() and p.source == str(path) and p.location for p in posts)
    assert all(p.posted_at is None or p.posted_at.tzinfo is not None for p in posts)


def test_whatsapp_samples_agree_across_locales():
    """The five chat-miner files hold the same chat in five header formats."""
    names = ["chat-miner_test_ddmmyy_24hrs.txt", "chat-miner_test_mmddyy_24hrs_android.txt",
             "chat-miner_test_mmddyyyy_12hrs.txt", "chat-miner_test_yyyymmdd_24hrs.txt",
             "chat-miner_test_bracket_mmddyy_24hrs_ios.txt"]
    results = []
    for name in names:
        posts, _ = read_all(shared_path("data", "formats", "whatsapp", name))
        results.append([(p.author, p.text, p.posted_at) for p in posts])
    assert all(r == results[0] for r in results)
    first = results[0]
    assert first[1] == ("Jahn Doe", ("Lorem ipsum dolor sit amet,\nconsectetur adipiscing "
                        "elit. Duis libero."), datetime(2019, 1, 30, 13, 49, tzinfo=UTC))
    assert first[3][0] == "John Doe 🤓"


def test_telegram_sample_entities_joined():
    posts, _ = read_all(shared_path("data", "formats", "telegram", "chat-miner_single_export.json"))
    assert [p.text for p in posts] == ["Minimal Message", "Link:https://telegram.org/"]
    assert posts[0].posted_at == datetime(2018, 12, 5, 10, 39, 10, tzinfo=UTC)
    assert {p.platform for p in posts} == {"telegram"}


def test_graph_feed_fields():
    path = shared_path("data", "formats", "facebook_graph", "page_feed_default_fields_p1.json")
    post = next(iter(read_posts(path)))
    assert post.key == post.record_id == "19292868552_10158349356748553"
    assert post.url == "https://www.facebook.com/19292868552/posts/10158349356748553/"
    assert post.posted_at == datetime(2021, 7, 9, 19, 9, 52, tzinfo=UTC)


def test_crowdtangle_sample_times_and_urls():
    path = shared_path("data", "formats", "crowdtangle", "ct_csv_export_trimmed_columns_sample.csv")
    posts, _ = read_all(path)
    assert posts[0].posted_at == datetime(2023, 11, 6, 3, 56, 36, tzinfo=UTC)  # EST
    assert posts[1].posted_at == datetime(2023, 10, 27, 16, 10, 13, tzinfo=UTC)  # EDT
    assert all(p.url.startswith("https://www.facebook.com/") for p in posts)
    assert {p.platform for p in posts} == {"facebook"} and posts[0].author == "Mondoweiss"


def test_emscad_subset():
    path = shared_path("data", "emscad", "fake_job_postings_subset_358.csv")
    posts, errors = read_all(path)
    assert errors == [] and len(posts) == 358
    assert len({p.key for p in posts}) == 358
    first = posts[0]
    assert first.key == first.record_id == "4709"
    assert first.text.startswith("Python Engineer\n\nStylect is a dynamic startup")
    assert sum(p.raw["fraudulent"] == "1" for p in posts) == 11
