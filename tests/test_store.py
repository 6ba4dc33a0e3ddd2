"""Tests of ``patroli.store`` on SQLite and PostgreSQL.

PostgreSQL: ``$PATROLI_TEST_PG_URL`` (default the CI service
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the tests run in a schema of their
own (``patroli_test_<random>``), dropped at the end, and skip when the server is not
reachable.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, text

from patroli.store import (
    DEFAULT_URL,
    ENV_VAR,
    RunNotFoundError,
    Store,
    alembic_config,
    database_url,
)
from patroli.store.models import Base
from patroli.store.values import MAX_VALUE_BYTES, normalize_value
from patroli.types import Assessment, Entity, Finding, Post

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))
TABLES = ("entities", "assessments", "posts", "scan_errors", "scan_runs")


# -- fixtures (pg_url and db_url come from conftest.py) ---------------------------------


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


# -- builders ---------------------------------------------------------------------------


def make_item(
    i: int,
    *,
    source: str = "posts.jsonl",
    rule_set_version: str = "rules-1",
    model_version: str | None = None,
    risk: int | None = None,
    phone: str | None = None,
    text_: str | None = None,
) -> tuple[Post, Assessment]:
    """A post and its hand-built assessment with 3 entities (phone, telegram, url)."""
    phone = phone or f"+62812{i:08d}"
    body = text_ or f"Loker Taiwan {i}: gaji 25jt, hubungi {phone} atau t.me/agen{i}"
    post = Post(
        key=f"P{i:05d}",
        text=body,
        source=source,
        platform="facebook",
        url=f"https://facebook.com/posts/{i}",
        author=f"user{i}",
        posted_at=T0 + timedelta(hours=i),
        language="id",
        raw={"id": i, "message": body},
        location=f"{source}:{i + 1}",
        record_id=f"P{i:05d}",
    )
    r = risk if risk is not None else (i * 13) % 101
    level = "high" if r >= 70 else "medium" if r >= 40 else "low"
    a = Assessment(
        post_key=post.key,
        risk_score=r,
        level=level,
        label="illegal" if r >= 50 else "other",
        probabilities={"illegal": 0.6, "legitimate": 0.2, "awareness": 0.1, "other": 0.1},
        findings=[Finding("high_salary_claim", 10.0, [(0, 5)], "Gaji tinggi", "High pay")],
        entities=[
            Entity("phone", phone, (30, 44), {"region": "ID"}),
            Entity("telegram", f"@agen{i}", (50, 58)),
            Entity("url", f"https://t.me/agen{i}", (50, 58)),
        ],
        rule_set_version=rule_set_version,
        model_version=model_version,
        analyzed_at=T0 + timedelta(days=1),
    )
    return post, a


# -- database_url -------------------------------------------------------------------------


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert database_url() == DEFAULT_URL == "sqlite:///patroli.db"
    monkeypatch.setenv(ENV_VAR, "sqlite:////srv/env.db")
    assert database_url() == "sqlite:////srv/env.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_database_url_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert database_url("x.db") == "sqlite:///x.db"
    assert database_url("/data/x.db") == "sqlite:////data/x.db"
    assert database_url("~/x.db") == "sqlite:///" + os.path.expanduser("~/x.db")
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_bare_path_opens_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "bare.db"
    with Store(str(path)) as s:
        assert s.table_counts()["posts"] == 0
    assert path.exists()


# -- migrations ---------------------------------------------------------------------------


def test_migrated_schema_matches_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    store = Store(db_url)
    Store(db_url).close()  # a second open migrates again: a no-op
    try:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
            heads = ScriptDirectory.from_config(alembic_config()).get_heads()
            assert set(ctx.get_current_heads()) == set(heads)
        assert diff == []
    finally:
        store.close()


def test_schema_comparison_detects_drift(tmp_path: Path) -> None:
    """The comparison above can fail: a model the migrations do not create is reported."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import Column, Integer, MetaData, Table

    drifted = MetaData()
    for t in Base.metadata.tables.values():
        t.to_metadata(drifted)
    Table("takedowns", drifted, Column("id", Integer, primary_key=True))
    with Store(f"sqlite:///{tmp_path / 'd.db'}") as s, s.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), drifted)
    assert [d[0] for d in diff] == ["add_table"]


def test_migrations_do_not_depend_on_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here
    with Store("here.db") as s:
        assert set(s.table_counts()) == set(TABLES)
    assert (tmp_path / "here.db").exists()


# -- scan runs ----------------------------------------------------------------------------


def test_run_life_cycle(store: Store) -> None:
    before = datetime.now(UTC)
    run = store.start_run("posts.jsonl", {"batch_size": 500, "since": T0})
    r = store.get_run(run)
    assert r["status"] == "running" and r["finished_at"] is None
    assert r["options"] == {"batch_size": 500, "since": T0.isoformat()}
    assert r["started_at"].tzinfo is not None and r["started_at"] >= before - timedelta(seconds=1)

    store.add_errors(run, [("posts.jsonl:7", "invalid JSON"), ("posts.jsonl:9", "no text")])
    store.add_errors(run, [])
    counts = {
        "posts_read": 10,
        "posts_new": 8,
        "posts_skipped": 0,
        "errors": 2,
        "by_level": {"high": 3, "medium": 2, "low": 3},
    }
    store.finish_run(run, status="completed", counts=counts)
    r = store.get_run(run)
    assert r["status"] == "completed" and r["counts"] == counts and r["n_errors"] == 2
    assert r["finished_at"] >= r["started_at"]
    assert store.run_errors(run) == [
        {"location": "posts.jsonl:7", "message": "invalid JSON"},
        {"location": "posts.jsonl:9", "message": "no text"},
    ]


def test_run_errors_are_reported(store: Store) -> None:
    run = store.start_run("a", {})
    with pytest.raises(ValueError):
        store.finish_run(run, status="done", counts={})
    with pytest.raises(RunNotFoundError):
        store.finish_run(run + 1000, status="completed", counts={})
    with pytest.raises(RunNotFoundError):
        store.get_run(run + 1000)


def test_runs_newest_first_and_filters(store: Store) -> None:
    ids = [store.start_run(src, {}) for src in ("a", "b", "a")]
    store.finish_run(ids[0], status="failed", counts={})
    assert [r["id"] for r in store.runs()] == ids[::-1]
    assert [r["id"] for r in store.runs(limit=2)] == ids[:0:-1]
    assert [r["id"] for r in store.runs(source="a")] == [ids[2], ids[0]]
    assert [r["id"] for r in store.runs(status="failed")] == [ids[0]]


# -- save_batch -----------------------------------------------------------------------------


def test_save_batch_is_idempotent(store: Store) -> None:
    run = store.start_run("posts.jsonl", {})
    items = [make_item(i) for i in range(20)]
    assert store.save_batch(run, items) == 20
    assert store.save_batch(run, items) == 0
    assert store.save_batch(run, items[:5] + [make_item(i) for i in range(20, 25)]) == 5
    assert store.table_counts() == {
        "scan_runs": 1,
        "scan_errors": 0,
        "posts": 25,
        "assessments": 25,
        "entities": 75,
    }


def test_same_key_in_other_source_is_another_post(store: Store) -> None:
    run = store.start_run("x", {})
    assert store.save_batch(run, [make_item(1, source="a.jsonl")]) == 1
    assert store.save_batch(run, [make_item(1, source="b.jsonl")]) == 1
    assert store.table_counts()["posts"] == 2


def test_repeated_key_within_a_batch_keeps_the_last(store: Store) -> None:
    run = store.start_run("x", {})
    first = make_item(1, risk=10)
    last = make_item(1, risk=90)
    assert store.save_batch(run, [first, make_item(2), last]) == 2
    top = store.top_assessments(limit=1)
    assert top[0]["key"] == "P00001" and top[0]["risk_score"] == 90
    assert store.table_counts()["assessments"] == 2


def test_reanalysis_replaces_assessment_and_entities(store: Store) -> None:
    run = store.start_run("x", {})
    store.save_batch(run, [make_item(1, risk=20)])
    post, a = make_item(1, risk=85)
    a.entities = [Entity("phone", "+6281299990000", (0, 5))]
    a.analyzed_at = T0 + timedelta(days=2)
    assert store.save_batch(run, [(post, a)]) == 0
    counts = store.table_counts()
    assert counts["assessments"] == 1 and counts["entities"] == 1
    top = store.top_assessments()
    assert top[0]["risk_score"] == 85 and top[0]["analyzed_at"] == T0 + timedelta(days=2)
    assert [e["value"] for e in top[0]["entities"]] == ["+6281299990000"]
    assert store.posts_with_entity("phone", "+6281200000001") == []


def test_versions_keep_separate_assessments(store: Store) -> None:
    """One assessment per (post, rule set, model); a missing model version (None) must not
    defeat the unique key (NULLs never collide in a UNIQUE index)."""
    run = store.start_run("x", {})
    for _ in range(2):
        store.save_batch(run, [make_item(1, model_version=None)])
        store.save_batch(run, [make_item(1, rule_set_version="rules-2")])
        store.save_batch(run, [make_item(1, model_version="clf-1")])
    c = store.table_counts()
    assert (c["posts"], c["assessments"], c["entities"]) == (1, 3, 9)
    versions = {(d["rule_set_version"], d["model_version"]) for d in store.top_assessments()}
    assert versions == {("rules-1", None), ("rules-2", None), ("rules-1", "clf-1")}


def test_reread_post_updates_fields_keeps_first_seen(store: Store) -> None:
    run1 = store.start_run("x", {})
    store.save_batch(run1, [make_item(1)])
    run2 = store.start_run("x", {})
    post, a = make_item(1)
    post.url = "https://facebook.com/posts/1?edited"
    store.save_batch(run2, [(post, a)])
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT url, first_seen_run_id, first_seen_at, last_seen_at FROM posts")
        ).one()
    assert row.url.endswith("?edited") and row.first_seen_run_id == run1
    assert store.top_assessments()[0]["run_id"] == run2


def test_save_batch_is_one_transaction(store: Store) -> None:
    """A batch that fails midway leaves nothing behind (posts are written first)."""
    run = store.start_run("x", {})
    items = [make_item(i) for i in range(5)]
    items[3][1].risk_score = "not a number"  # type: ignore[assignment]
    with pytest.raises(ValueError):
        store.save_batch(run, items)
    assert store.table_counts()["posts"] == 0


def test_mismatched_post_key_is_rejected(store: Store) -> None:
    run = store.start_run("x", {})
    post, a = make_item(1)
    a.post_key = "other"
    with pytest.raises(ValueError, match="other"):
        store.save_batch(run, [make_item(2), (post, a)])
    assert store.table_counts()["posts"] == 0
    assert store.save_batch(run, []) == 0


def test_few_statements_per_batch(store: Store) -> None:
    """A 500-post batch costs a handful of statements, not hundreds of round trips."""
    run = store.start_run("x", {})
    calls: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        calls.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        store.save_batch(run, [make_item(i) for i in range(500)])
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(calls) <= 12, calls[:20]
    assert store.table_counts()["entities"] == 1500


# -- crash safety and resume --------------------------------------------------------------------


def test_killed_scan_resumes_without_duplicates(db_url: str) -> None:
    items = [make_item(i) for i in range(300)]
    batches = [items[i : i + 50] for i in range(0, len(items), 50)]

    first = Store(db_url)
    run1 = first.start_run("posts.jsonl", {"batch_size": 50})
    for b in batches[:3]:
        first.save_batch(run1, b)
    first.close()  # the process "dies": no finish_run

    second = Store(db_url)
    try:
        stale = [r for r in second.runs() if r["id"] == run1]
        assert stale and stale[0]["status"] == "running"

        run2 = second.start_run("posts.jsonl", {"batch_size": 50})
        assert second.mark_stale_runs("posts.jsonl", exclude=[run2]) == [run1]
        r1 = second.get_run(run1)
        assert r1["status"] == "interrupted" and r1["counts"]["posts_new"] == 150
        assert second.get_run(run2)["status"] == "running"
        assert second.mark_stale_runs("posts.jsonl", exclude=[run2]) == []

        new = skipped = 0
        for b in batches:  # the whole input again
            known = second.known_keys("posts.jsonl", [p.key for p, _ in b], "rules-1")
            todo = [(p, a) for p, a in b if p.key not in known]
            skipped += len(b) - len(todo)
            new += second.save_batch(run2, todo)
        assert (new, skipped) == (150, 150)
        # and a rerun that does not skip (upserts everything) changes nothing either
        assert sum(second.save_batch(run2, b) for b in batches) == 0
        second.finish_run(run2, status="completed", counts={"posts_new": new})
        c = second.table_counts()
        assert (c["posts"], c["assessments"], c["entities"]) == (300, 300, 900)
        assert len(second.top_assessments(limit=1000, run_id=[run1, run2])) == 300
    finally:
        second.close()


_WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from test_store import make_item
from patroli.store import Store

store = Store(sys.argv[1])
run = store.start_run("posts.jsonl", {})
print(run, flush=True)
n = 0
while True:  # until killed
    store.save_batch(run, [make_item(i) for i in range(n, n + 50)])
    n += 50
    print(n, flush=True)
"""


def test_killed_process_keeps_committed_batches(db_url: str) -> None:
    """SIGKILL a writing process: every batch is all or nothing, the run stays "running",
    and a rerun over the same input completes it without duplicates."""
    Store(db_url).close()  # migrate first, so the child only writes
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, db_url, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        run = int(proc.stdout.readline())
        while int(proc.stdout.readline() or 10**9) < 150:
            pass
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
    with Store(db_url) as s:
        stored = s.table_counts()
        assert stored["posts"] >= 150 and stored["posts"] % 50 == 0
        assert stored["entities"] == 3 * stored["assessments"] == 3 * stored["posts"]
        assert [r["status"] for r in s.runs() if r["id"] == run] == ["running"]
        total = stored["posts"] + 100
        run2 = s.start_run("posts.jsonl", {})
        assert s.mark_stale_runs("posts.jsonl", exclude=[run2]) == [run]
        items = [make_item(i) for i in range(total)]
        known = s.known_keys("posts.jsonl", [p.key for p, _ in items], "rules-1")
        assert len(known) == stored["posts"]
        assert s.save_batch(run2, [it for it in items if it[0].key not in known]) == 100
        c = s.table_counts()
        assert (c["posts"], c["assessments"], c["entities"]) == (total, total, 3 * total)


def test_mark_stale_runs_only_that_source(store: Store) -> None:
    a = store.start_run("a", {})
    b = store.start_run("b", {})
    assert store.mark_stale_runs("a") == [a]
    assert store.get_run(b)["status"] == "running"
    assert store.mark_stale_runs() == [b]


def test_known_keys(store: Store) -> None:
    run = store.start_run("x", {})
    store.save_batch(run, [make_item(i) for i in range(3)])
    store.save_batch(run, [make_item(5, rule_set_version="rules-2")])
    keys = ["P00000", "P00002", "P00005", "P00099"]
    assert store.known_keys("posts.jsonl", keys, "rules-1") == {"P00000", "P00002"}
    assert store.known_keys("posts.jsonl", iter(keys), "rules-2") == {"P00005"}
    assert store.known_keys("other.jsonl", keys, "rules-1") == set()
    assert store.known_keys("posts.jsonl", [], "rules-1") == set()
    many = [f"P{i:05d}" for i in range(2500)]  # more than one IN chunk
    assert store.known_keys("posts.jsonl", many, "rules-1") == {"P00000", "P00001", "P00002"}


# -- values that databases reject or change -------------------------------------------------------


def test_times_come_back_utc_aware(store: Store) -> None:
    run = store.start_run("x", {})
    post, a = make_item(1)
    post.posted_at = datetime(2025, 5, 1, 19, 30, tzinfo=WIB)
    naive_post, naive_a = make_item(2)
    naive_post.posted_at = datetime(2025, 5, 1, 12, 30)  # naive: taken as UTC
    none_post, none_a = make_item(3)
    none_post.posted_at = None
    store.save_batch(run, [(post, a), (naive_post, naive_a), (none_post, none_a)])
    got = {d["key"]: d["posted_at"] for d in store.top_assessments()}
    assert got["P00001"] == datetime(2025, 5, 1, 12, 30, tzinfo=UTC)
    assert got["P00001"].utcoffset() == timedelta(0)
    assert got["P00002"] == datetime(2025, 5, 1, 12, 30, tzinfo=UTC)
    assert got["P00003"] is None


def test_hostile_text_and_json(store: Store) -> None:
    """NUL bytes and lone surrogates (broken emoji from JSON) are rejected by PostgreSQL and
    by UTF-8; NaN is not JSON; raw records may hold datetimes. All are stored, and text
    lengths are kept so that spans stay valid."""
    run = store.start_run("x", {})
    body = "gaji\x00 15jt \ud83d wa +6281200000007"
    post, a = make_item(7, text_=body)
    post.raw = {"msg": "a\x00b", "when": T0, "bad": "\udc00", "tags": {"x"}}
    post.author = "nul\x00author"
    a.probabilities = {"illegal": float("nan"), "other": 1.0}
    a.verification = {"note": "\x00"}
    a.entities.append(Entity("agency_name", "PT\x00 X", (0, 4)))
    store.save_batch(run, [(post, a)])
    top = store.top_assessments()[0]
    assert len(top["excerpt"]) == len(body) and "\ufffd" in top["excerpt"]
    assert top["probabilities"] == {"illegal": None, "other": 1.0}
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT text FROM posts")).scalar_one()
    assert len(stored) == len(body) and stored[18:] == body[18:]
    assert store.posts_with_entity("agency_name", "PT\x00 X")[0]["key"] == "P00007"


def test_very_long_entity_value(store: Store) -> None:
    """Values longer than a PostgreSQL b-tree index row are cut, stay pivotable, and the
    whole value is kept in the entity's data."""
    run = store.start_run("x", {})
    long_url = "https://s.id/x?" + "utm=ä&" * 2000
    post, a = make_item(1)
    a.entities = [Entity("url", long_url, (0, 10))]
    store.save_batch(run, [(post, a)])
    ent = store.top_assessments()[0]["entities"][0]
    assert len(ent["value"].encode("utf-8")) <= MAX_VALUE_BYTES
    assert long_url.startswith(ent["value"]) and ent["data"]["full_value"] == long_url
    assert [d["key"] for d in store.posts_with_entity("url", long_url)] == ["P00001"]


# -- reads ------------------------------------------------------------------------------------


def test_posts_with_entity_pivot(store: Store) -> None:
    run = store.start_run("x", {})
    shared = "+6281200003185"
    items = [make_item(i, phone=shared, risk=r) for i, r in ((1, 40), (2, 90), (3, 65))]
    items.append(make_item(4))
    store.save_batch(run, items)
    got = store.posts_with_entity("phone", shared)
    assert [d["key"] for d in got] == ["P00002", "P00003", "P00001"]
    first = got[0]
    assert first["risk_score"] == 90 and first["level"] == "high" and first["label"] == "illegal"
    assert first["source"] == "posts.jsonl" and first["platform"] == "facebook"
    assert first["url"] == "https://facebook.com/posts/2"
    assert first["posted_at"] == T0 + timedelta(hours=2)
    assert first["excerpt"].startswith("Loker Taiwan 2")
    # hand-typed forms of the same number
    for typed in ("0812-0000-3185", "62 812 0000 3185", "wa.me/6281200003185", " +6281200003185"):
        assert [d["key"] for d in store.posts_with_entity("phone", typed)] == [
            "P00002",
            "P00003",
            "P00001",
        ], typed
    assert len(store.posts_with_entity("phone", shared, limit=2)) == 2
    assert [d["key"] for d in store.posts_with_entity("telegram", "T.ME/Agen4")] == ["P00004"]
    assert store.posts_with_entity("email", "nobody@example.org") == []


def test_pivot_lists_each_post_once_with_its_latest_assessment(store: Store) -> None:
    run = store.start_run("x", {})
    store.save_batch(run, [make_item(1, risk=30)])
    post, a = make_item(1, risk=80, rule_set_version="rules-2")
    a.analyzed_at = T0 + timedelta(days=5)
    store.save_batch(run, [(post, a)])
    got = store.posts_with_entity("phone", "+6281200000001")
    assert len(got) == 1 and got[0]["risk_score"] == 80 and got[0]["rule_set_version"] == "rules-2"


def test_entity_counts(store: Store) -> None:
    run = store.start_run("x", {})
    items = [make_item(i, phone="+6281200003185", risk=10 * i) for i in range(1, 4)]
    items += [make_item(i, phone="+6281299990000", risk=95) for i in range(4, 6)]
    store.save_batch(run, items)
    phones = store.entity_counts("phone")
    assert phones[:2] == [
        {"kind": "phone", "value": "+6281200003185", "n_posts": 3, "max_risk": 30},
        {"kind": "phone", "value": "+6281299990000", "n_posts": 2, "max_risk": 95},
    ]
    assert len(phones) == 2
    everything = store.entity_counts(limit=3)
    assert len(everything) == 3 and everything[0]["n_posts"] == 3
    assert {d["kind"] for d in store.entity_counts(limit=100)} == {"phone", "telegram", "url"}


def test_top_assessments_filters(store: Store) -> None:
    run1 = store.start_run("x", {})
    store.save_batch(run1, [make_item(i, risk=r) for i, r in ((1, 95), (2, 75), (3, 45), (4, 5))])
    run2 = store.start_run("x", {})
    store.save_batch(run2, [make_item(5, risk=60, source="other.csv")])
    top = store.top_assessments()
    assert [d["risk_score"] for d in top] == [95, 75, 60, 45, 5]
    assert [d["key"] for d in store.top_assessments(limit=2)] == ["P00001", "P00002"]
    assert [d["key"] for d in store.top_assessments(level="high")] == ["P00001", "P00002"]
    assert [d["key"] for d in store.top_assessments(label="other")] == ["P00003", "P00004"]
    assert [d["key"] for d in store.top_assessments(run_id=run2)] == ["P00005"]
    assert [d["key"] for d in store.top_assessments(source="other.csv")] == ["P00005"]
    assert store.top_assessments(rule_set_version="rules-9") == []
    d = top[0]
    assert d["findings"][0]["indicator"] == "high_salary_claim"
    assert d["findings"][0]["spans"] == [[0, 5]]
    assert d["probabilities"]["illegal"] == 0.6 and d["verification"] == {}
    assert [(e["kind"], e["span"]) for e in d["entities"]] == [
        ("phone", [30, 44]),
        ("telegram", [50, 58]),
        ("url", [50, 58]),
    ]
    assert d["entities"][0]["data"] == {"region": "ID"}


def test_normalize_value() -> None:
    assert normalize_value("phone", "0812-0000-3185") == "+6281200003185"
    assert normalize_value("phone", "+855 12 345 678") == "+85512345678"
    assert normalize_value("phone", "0062 812 0000 3185") == "+6281200003185"
    assert normalize_value("phone", "api.whatsapp.com/send?phone=6281200003185") == "+6281200003185"
    assert normalize_value("phone", "12") == "12"
    assert normalize_value("telegram", "https://t.me/Loker_TW") == "@loker_tw"
    assert normalize_value("telegram", "@Loker_TW") == "@loker_tw"
    assert normalize_value("domain", "https://WWW.Example.COM/path") == "example.com"
    assert normalize_value("url", "WWW.Example.com/Path?q=1") == "https://example.com/Path?q=1"
    assert normalize_value("email", " HR@Mail.Example ") == "hr@mail.example"
    assert normalize_value("permit_number", "kep 123 /  2024") == "KEP 123 / 2024"
    assert normalize_value("country", "tw") == "TW"
    assert normalize_value("unknown_kind", " x ") == "x"


# -- scale ---------------------------------------------------------------------------------------


def test_memory_stays_flat_across_batches(tmp_path: Path) -> None:
    """No identity map or cache grows with the number of batches written."""
    with Store(f"sqlite:///{tmp_path / 'm.db'}") as s:
        run = s.start_run("x", {})

        def batch(n: int) -> None:
            s.save_batch(run, [make_item(n * 200 + i) for i in range(200)])

        for n in range(3):  # warm up caches
            batch(n)
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            for n in range(3, 13):
                batch(n)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        assert s.table_counts()["posts"] == 13 * 200
    assert grown < 2_000_000, f"memory grew by {grown} bytes over 10 batches"
