"""Cases in the store (issue 6 part A): create, pivot, items, status table, four-eyes
close, timeline + audit log. SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from patroli.cases.model import TRANSITIONS, CaseError, CaseNotFoundError, FourEyesError
from patroli.store import Store, audit
from patroli.store import cases as sc
from patroli.types import Assessment, Entity, Post

PHONE = "+6281200003185"


def seed(store: Store) -> dict[str, int]:
    """Three posts: two share a phone, one has no URL; returns {key: post id}."""
    now = datetime(2026, 1, 5, tzinfo=UTC)
    run = store.start_run("test", {})
    items = []
    for key, txt, phone, url, score in (
            ("P1", "Loker Taiwan gaji 30jt WA 0812-0000-3185", True, "https://example.org/p1", 85),
            ("P2", "Lowongan admin Kamboja hub 081200003185 <b>cepat</b>", True, None, 78),
            ("P3", "Berita: waspada penipuan kerja", False, "https://example.org/p3", 10)):
        post = Post(key=key, text=txt, source="test", platform="facebook", url=url,
                    author="@agen" + key.lower(), raw={"id": key, "text": txt})
        ents = [Entity("phone", PHONE, (0, 5))] if phone else []
        a = Assessment(post_key=key, risk_score=score, level="high" if score >= 70 else "low",
                       label="illegal" if score >= 70 else "awareness",
                       probabilities={"illegal": 0.9}, findings=[], entities=ents,
                       rule_set_version="t1", analyzed_at=now)
        items.append((post, a))
    store.save_batch(run, items)
    with store.engine.connect() as conn:
        return {r.key: int(r.id) for r in conn.execute(text("SELECT id, key FROM posts"))}


@pytest.fixture
def store(db_url: str):  # type: ignore[no-untyped-def]
    s = Store(db_url)
    yield s
    s.close()


def test_create_case_and_detail(store: Store) -> None:
    ids = seed(store)
    cid = sc.create_case(store, title="Jaringan Taiwan", actor="ana",
                         post_ids=[ids["P1"], ids["P2"], ids["P1"]], priority="high")
    d = sc.case_detail(store, cid)
    assert d["case"].status == "open" and d["case"].priority == "high"
    assert [p["post_id"] for p in d["posts"]] == [ids["P1"], ids["P2"]]
    assert d["posts"][0]["risk_score"] == 85 and d["posts"][0]["level"] == "high"
    assert sc.add_posts(store, cid, [ids["P1"], ids["P3"]], actor="ana") == [ids["P3"]]
    assert sc.add_entity(store, cid, "phone", "0812-0000-3185", actor="ana") is True
    assert sc.add_entity(store, cid, "phone", PHONE, actor="ana") is False  # normalised
    sc.add_comment(store, cid, "cek nomor ini", actor="budi")
    sc.assign(store, cid, "budi", actor="ana")
    d = sc.case_detail(store, cid)
    assert d["case"].assignee == "budi" and len(d["comments"]) == 1
    assert [i.ref for i in d["items"] if i.item_kind == "entity"] == [PHONE]
    kinds = [e.kind for e in sc.timeline(store, cid)]
    assert kinds == ["created", "post.add", "post.add", "entity.add", "comment", "assign"]
    # every change also in the hash-chained audit log, which still verifies
    logged = [r.action for r in audit.entries(store, 50) if r.target == f"case:{cid}"]
    assert sorted(logged) == sorted("case." + k for k in kinds)
    assert audit.verify_chain(store) == (True, None)
    rows = sc.list_cases(store)
    assert rows[0]["id"] == cid and rows[0]["n_posts"] == 3 and rows[0]["n_evidence"] == 0


def test_bad_arguments_change_nothing(store: Store) -> None:
    ids = seed(store)
    with pytest.raises(CaseError, match="no stored post"):
        sc.create_case(store, title="x", actor="ana", post_ids=[ids["P1"], 99999])
    assert sc.list_cases(store) == []
    with pytest.raises(CaseError, match="priority"):
        sc.create_case(store, title="x", actor="ana", priority="urgent")
    with pytest.raises(CaseError, match="actor"):
        sc.create_case(store, title="x", actor=" ")
    with pytest.raises(CaseNotFoundError):
        sc.case_detail(store, 12345)
    cid = sc.create_case(store, title="x", actor="ana")
    with pytest.raises(CaseError, match="entity kind"):
        sc.add_entity(store, cid, "shoe_size", "42", actor="ana")
    with pytest.raises(CaseError, match="receipt code"):
        sc.add_report(store, cid, "NOPE", actor="ana")


def test_case_from_entity_pivot(store: Store) -> None:
    ids = seed(store)
    cid = sc.case_from_entity(store, "phone", "0812 0000 3185", actor="ana")
    d = sc.case_detail(store, cid)
    assert {p["post_id"] for p in d["posts"]} == {ids["P1"], ids["P2"]}
    assert [(i.ref_kind, i.ref) for i in d["items"] if i.item_kind == "entity"] == [("phone", PHONE)]
    acc = sc.case_from_entity(store, "account", "@agenp3", actor="ana")
    assert [p["post_id"] for p in sc.case_posts(store, acc)] == [ids["P3"]]
    with pytest.raises(CaseError, match="no stored post"):
        sc.case_from_entity(store, "phone", "+6289999999999", actor="ana")


def test_status_transitions_follow_the_table(store: Store) -> None:
    seed(store)
    cid = sc.create_case(store, title="t", actor="ana")
    with pytest.raises(CaseError, match="open -> resolved"):
        sc.set_status(store, cid, "resolved", actor="ana")
    with pytest.raises(CaseError, match="unknown status"):
        sc.set_status(store, cid, "done", actor="ana")
    assert sc.set_status(store, cid, "evidence_collected", actor="ana") == "open"
    sc.set_status(store, cid, "takedown_requested", actor="ana")
    sc.set_status(store, cid, "resolved", actor="ana")
    sc.set_status(store, cid, "closed", actor="ana")  # had a takedown: no second person
    assert sc.get_case(store, cid).status == "closed"
    sc.set_status(store, cid, "reappeared", actor="system")
    # every transition in the table is accepted, every other one refused
    from patroli.cases.model import CASE_STATUSES, check_transition
    for a in CASE_STATUSES:
        for b in CASE_STATUSES:
            if b in TRANSITIONS[a]:
                check_transition(a, b)
            else:
                with pytest.raises(CaseError):
                    check_transition(a, b)


def test_four_eyes_close(store: Store) -> None:
    seed(store)
    cid = sc.create_case(store, title="t", actor="ana")
    with pytest.raises(FourEyesError):
        sc.set_status(store, cid, "closed", actor="ana")
    with pytest.raises(CaseError, match="no pending close"):
        sc.approve_close(store, cid, actor="budi")
    assert sc.request_close(store, cid, actor="ana", reason="bukan iklan") == "close_pending"
    assert sc.get_case(store, cid).close_requested_by == "ana"
    with pytest.raises(FourEyesError):
        sc.approve_close(store, cid, actor="ANA ")
    assert sc.get_case(store, cid).status == "open"
    sc.approve_close(store, cid, actor="budi")
    info = sc.get_case(store, cid)
    assert info.status == "closed" and info.close_requested_by is None
    ev = [e for e in sc.timeline(store, cid) if e.kind == "close.approve"]
    assert ev[0].actor == "budi" and ev[0].details["requested_by"] == "ana"


def test_timeline_is_append_only(store: Store) -> None:
    seed(store)
    cid = sc.create_case(store, title="t", actor="ana")
    with pytest.raises(Exception, match="append-only"), store._write() as conn:
        conn.execute(text("UPDATE case_events SET actor = 'mallory'"))
    assert sc.timeline(store, cid)[0].actor == "ana"
