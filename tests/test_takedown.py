"""Takedown requests: batching, exports, four-eyes, transitions, outcome checks,
reappearance, insider safeguards, CLI (issue 6, part B). SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from patroli.cases.takedown import (
    FetchOutcome,
    approve,
    check_outcome,
    detect_reappearance,
    draft_requests,
    export_request,
    items_from_posts,
    load_config,
    pending_approvals,
    render_request,
    request_allowlist,
    unusual_dismissals,
    verify_request,
)
from patroli.store import Store
from patroli.store.audit import entries, verify_chain
from patroli.store.models import posts
from patroli.store.registry import watch_entries
from patroli.store.review import set_status as review_status
from patroli.store.takedown import (
    APPROVER_ROLES,
    TRANSITIONS,
    FourEyesError,
    TransitionError,
    approve_request,
    get_request,
    item_events,
    mark_sent,
    set_item_status,
)
from patroli.store.users import add_user
from patroli.types import Assessment, Entity, Finding, Post

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
T0 = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


def _save(store: Store, rows: list[tuple[str, str, str | None, str, list[str], str | None]]
          ) -> dict[str, int]:
    """rows: (key, platform, url, text, indicators, phone); returns {key: post id}."""
    run = store.start_run("test", {})
    batch = []
    for key, platform, url, text, inds, phone in rows:
        p = Post(key=key, text=text, source="test", platform=platform, url=url,
                 author=f"@{key}", posted_at=T0)
        ents = [Entity("phone", phone, (0, 3))] if phone else []
        a = Assessment(post_key=key, risk_score=85, level="high", label="illegal",
                       probabilities={"illegal": 1.0}, findings=[Finding(i, 10) for i in inds],
                       entities=ents, rule_set_version="t", analyzed_at=T0)
        batch.append((p, a))
    store.save_batch(run, batch)
    with store.engine.connect() as conn:
        return {r.key: int(r.id) for r in conn.execute(posts.select())}


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    for name, role in (("ana", "analyst"), ("sri", "supervisor"), ("vic", "viewer"),
                       ("boss", "supervisor")):
        add_user(s, name, HASH, role, actor="test")
    yield s
    s.close()


ROWS = [
    ("fb1", "facebook", "https://facebook.com/p/1", "Loker admin Kamboja gaji 20jt wa 0812",
     ["scam_hub_destination"], "+6281200000001"),
    ("fb2", "facebook", "https://facebook.com/p/2", "Dicari PRT Arab tanpa biaya",
     ["moratorium_destination"], None),
    ("tt1", "tiktok", "https://tiktok.com/@x/video/1", "Kerja Jepang bayar 5jt daftar",
     ["upfront_fee"], None),
    ("w1", "web", "https://loker-luar.example/daftar", "Lowongan resmi? bayar dulu",
     [], None),
]


def test_batch_per_platform_and_categories(store: Store) -> None:
    ids = _save(store, ROWS)
    items = items_from_posts(store, ids.values())
    by_post = {i.post_id: i for i in items}
    assert by_post[ids["fb1"]].category == "scam_compound"
    assert by_post[ids["fb1"]].priority == "4h"
    assert by_post[ids["fb2"]].category == "trafficking"
    assert by_post[ids["tt1"]].category == "recruitment_fraud"
    assert by_post[ids["tt1"]].priority == "24h"
    assert by_post[ids["w1"]].category == "illegal_recruitment"
    req_ids = draft_requests(store, items, drafted_by="ana")
    recips = {get_request(store, r)["recipient"]: len(get_request(store, r)["items"])
              for r in req_ids}
    assert recips == {"meta": 2, "tiktok": 1, "hosting": 1}
    one = draft_requests(store, items, drafted_by="ana", recipient="komdigi")
    assert len(one) == 1 and len(get_request(store, one[0])["items"]) == 4


def test_four_eyes(store: Store) -> None:
    ids = _save(store, ROWS[:2])
    rid = draft_requests(store, items_from_posts(store, ids.values()), drafted_by="ana")[0]
    with pytest.raises(FourEyesError):
        approve_request(store, rid, "ana")
    with pytest.raises(FourEyesError):
        approve_request(store, rid, "vic")
    with pytest.raises(FourEyesError):
        approve_request(store, rid, "nobody")
    rid2 = draft_requests(store, items_from_posts(store, ids.values()), drafted_by="sri")[0]
    with pytest.raises(FourEyesError):
        approve_request(store, rid2, "SRI")  # a supervisor never approves their own draft
    req = approve_request(store, rid, "sri")
    assert req["approved_by"] == "sri"
    assert {i["status"] for i in req["items"]} == {"approved"}
    assert approve_request(store, rid2, "boss")["approved_by"] == "boss"
    actions = [e.action for e in entries(store, 50)]
    assert "takedown.approve" in actions and "takedown.draft" in actions
    assert verify_chain(store) == (True, None)
    assert set(APPROVER_ROLES) == {"admin", "supervisor"}


def test_transitions_with_timestamps(store: Store) -> None:
    ids = _save(store, ROWS[:1])
    rid = draft_requests(store, items_from_posts(store, ids.values()), drafted_by="ana")[0]
    item = get_request(store, rid)["items"][0]["id"]
    with pytest.raises(TransitionError):
        mark_sent(store, rid, actor="sri")  # not approved yet
    with pytest.raises(TransitionError):
        set_item_status(store, item, "removed", actor="sri")
    approve_request(store, rid, "sri", at=T0 + timedelta(hours=1))
    mark_sent(store, rid, actor="sri", at=T0 + timedelta(hours=2))
    set_item_status(store, item, "acknowledged", actor="sri", at=T0 + timedelta(hours=3))
    it = set_item_status(store, item, "removed", actor="sri", at=T0 + timedelta(hours=5))
    assert it["approved_at"] == T0 + timedelta(hours=1)
    assert it["sent_at"] == T0 + timedelta(hours=2)
    assert it["acknowledged_at"] == T0 + timedelta(hours=3)
    assert it["removed_at"] == T0 + timedelta(hours=5)
    with pytest.raises(TransitionError):
        set_item_status(store, item, "refused", actor="sri")
    hist = [(e["from_status"], e["to_status"]) for e in item_events(store, item)]
    assert hist == [("", "drafted"), ("drafted", "approved"), ("approved", "sent"),
                    ("sent", "acknowledged"), ("acknowledged", "removed")]
    assert all(set(v) <= set(TRANSITIONS) for v in TRANSITIONS.values())


def _sent(store: Store, rows: list = ROWS, at: datetime | None = None) -> int:
    """One komdigi request for ``rows``'s posts, drafted, approved and sent (``at``)."""
    ids = _save(store, rows)
    rid = draft_requests(store, items_from_posts(store, ids.values()), drafted_by="ana",
                         recipient="komdigi")[0]
    approve_request(store, rid, "sri")
    mark_sent(store, rid, actor="sri", at=at)
    return rid


def _approved(store: Store, recipient: str | None = None) -> int:
    ids = _save(store, ROWS)
    rid = draft_requests(store, items_from_posts(store, ids.values(),
                                                 evidence={ids["fb1"]: ["a" * 64]}),
                         drafted_by="ana", recipient=recipient)[0]
    approve_request(store, rid, "sri")
    return rid


def test_komdigi_exports_have_every_field(store: Store, tmp_path: Path) -> None:
    rid = _approved(store, "komdigi")
    doc = json.loads(render_request(store, rid, "json"))
    assert len(doc["items"]) == 4
    for it in doc["items"]:
        for f in ("target", "platform", "category", "priority", "legal_basis",
                  "evidence_sha256"):
            assert f in it
        assert it["target"] and it["platform"] and it["category"]
        assert it["priority"] in ("4h", "24h") and it["deadline_hours"] in (4, 24)
        assert "uu_ite" in it["legal_basis"] and "permenkominfo_5_2020" in it["legal_basis"]
    urgent = [i for i in doc["items"] if i["priority"] == "4h"]
    assert urgent and all("uu_21_2007" in i["legal_basis"] for i in urgent)
    assert any(i["evidence_sha256"] == ["a" * 64] for i in doc["items"])
    rows = list(csv.DictReader(io.StringIO(render_request(store, rid, "csv"))))
    assert len(rows) == 4 and all(r["target"] and r["legal_basis"] for r in rows)
    path = export_request(store, rid, tmp_path, actor="sri")
    assert path.suffix == ".json" and json.loads(path.read_text("utf-8"))["items"]


def test_platform_exports_and_letters(store: Store, tmp_path: Path) -> None:
    rid = _approved(store)  # meta (first recipient in sorted order)
    assert get_request(store, rid)["recipient"] == "hosting"
    letter_id = render_request(store, rid, "text")
    assert "Dasar hukum" in letter_id and "https://loker-luar.example/daftar" in letter_id
    letter_en = render_request(store, rid, "text", language="en")
    assert "Legal basis" in letter_en and "Law No. 18/2017" in letter_en
    rows = list(csv.DictReader(io.StringIO(render_request(store, rid, "csv"))))
    assert [r["target"] for r in rows] == ["https://loker-luar.example/daftar"]
    assert export_request(store, rid, tmp_path).suffix == ".txt"
    draft = draft_requests(store, items_from_posts(store, [1]), drafted_by="ana")[0]
    with pytest.raises(FourEyesError):
        export_request(store, draft, tmp_path)
    cfg = load_config()
    for rec in cfg["recipients"].values():
        assert rec["formats"]


class FakeFetcher:
    def __init__(self, pages: dict[str, FetchOutcome | Exception]) -> None:
        self.pages = pages

    def fetch(self, url: str) -> FetchOutcome:
        page = self.pages[url]
        if isinstance(page, Exception):
            raise page
        return page


def test_outcome_checks_with_fake_fetcher(store: Store) -> None:
    rid = _sent(store)
    live = FetchOutcome(200, "<html><p>Loker admin</p></html>")
    fetcher = FakeFetcher({
        "https://facebook.com/p/1": FetchOutcome(404, ""),
        "https://facebook.com/p/2": FetchOutcome(
            200, "<h1>This content isn\u2019t available right now</h1>"),
        "https://tiktok.com/@x/video/1": live,
        "https://loker-luar.example/daftar": live,
    })
    res = {r["url"]: r for r in verify_request(store, rid, fetcher)}
    assert res["https://facebook.com/p/1"]["status"] == "removed"
    assert res["https://facebook.com/p/2"]["outcome"] == "removed"
    assert res["https://tiktok.com/@x/video/1"]["outcome"] == "still_up"
    assert res["https://tiktok.com/@x/video/1"]["status"] == "sent"
    fetcher.pages["https://tiktok.com/@x/video/1"] = FetchOutcome(200, "<p>Loker baru</p>")
    fetcher.pages["https://loker-luar.example/daftar"] = FetchOutcome(404, "")
    res = {r["url"]: r for r in verify_request(store, rid, fetcher)}
    assert res["https://tiktok.com/@x/video/1"]["outcome"] == "changed"
    assert res["https://loker-luar.example/daftar"]["outcome"] == "removed"
    # a removed URL that answers again has reappeared
    fetcher.pages["https://facebook.com/p/1"] = live
    res = {r["url"]: r for r in verify_request(store, rid, fetcher)}
    assert res["https://facebook.com/p/1"]["status"] == "reappeared"
    assert check_outcome(FetchOutcome(503, ""), "x", None)[0] == "error"
    assert check_outcome(FetchOutcome(200, "Hmm...this page doesn\u2019t exist."), "x",
                         None)[0] == "removed"


def test_reappearance_same_phone_or_text(store: Store) -> None:
    ids = _save(store, ROWS[:3])
    rid = draft_requests(store, items_from_posts(store, ids.values()), drafted_by="ana",
                         recipient="komdigi")[0]
    approve_request(store, rid, "sri")
    mark_sent(store, rid, actor="sri", at=T0)
    items = {i["post_id"]: i["id"] for i in get_request(store, rid)["items"]}
    for pid in items.values():
        set_item_status(store, pid, "removed", actor="sri", at=T0 + timedelta(hours=3))
    assert detect_reappearance(store) == []
    later = _save(store, [
        ("n1", "facebook", None, "Info kerja lain, hubungi", [], "+6281200000001"),
        ("n2", "tiktok", None, "Kerja Jepang bayar 5jt daftar!", [], None),
        ("n3", "tiktok", None, "Berita: waspada penipuan kerja", [], None),
    ])
    with store._write() as conn:
        conn.execute(update(posts).where(posts.c.key.in_(["n1", "n2", "n3"]))
                     .values(first_seen_at=T0 + timedelta(days=1)))
    found = {f["item_id"]: f for f in detect_reappearance(store)}
    assert found[items[ids["fb1"]]]["reason"] == "phone"
    assert found[items[ids["fb1"]]]["post_id"] == later["n1"]
    assert found[items[ids["tt1"]]]["reason"] == "text"
    assert items[ids["fb2"]] not in found
    assert get_request(store, rid)["items"][0]["status"] == "reappeared"


def test_insider_safeguards(store: Store) -> None:
    ids = _save(store, ROWS)
    review_status(store, [ids["fb1"], ids["fb2"]], "dismissed", actor="ana")
    pend = pending_approvals(store)
    assert len(pend) == 2 and {p["kind"] for p in pend} == {"review_dismissal"}
    with pytest.raises(FourEyesError):
        approve(store, pend[0]["id"], "ana")
    with pytest.raises(FourEyesError):
        approve(store, pend[0]["id"], "vic")
    assert approve(store, pend[0]["id"], "sri")["status"] == "approved"
    aid = request_allowlist(store, "phone", "+62 800 1000", reason="hotline KP2MI",
                            requested_by="ana")
    assert not watch_entries(store, list_name="allow")
    assert len(pending_approvals(store)) == 2
    approve(store, aid, "sri")
    assert [e.added_by for e in watch_entries(store, list_name="allow")] == ["ana"]
    assert len(pending_approvals(store)) == 1
    # unusual dismissals: threshold rule and the peer rule
    many = _save(store, [(f"h{i}", "facebook", None, f"teks {i}", [], None) for i in range(6)])
    review_status(store, [many[f"h{i}"] for i in range(5)], "dismissed", actor="eko")
    review_status(store, [many["h5"]], "dismissed", actor="sri")
    flags = {f["user"]: f for f in unusual_dismissals(store, threshold=4)}
    assert flags["eko"]["high_risk_dismissals"] == 5
    assert "threshold" in flags["eko"]["rules"] and "peers" in flags["eko"]["rules"]
    assert "sri" not in flags
    assert "eko" not in {f["user"] for f in unusual_dismissals(
        store, threshold=4, now=datetime.now(UTC) + timedelta(days=8))}


def test_cli_monthly_and_flow(store: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from patroli.cli_takedown import report_app, takedown_app

    ids = _save(store, ROWS[:2])
    url = store.url
    r = CliRunner()
    res = r.invoke(takedown_app, ["draft", *map(str, ids.values()), "--by", "ana", "--db", url])
    assert res.exit_code == 0, res.output
    res = r.invoke(takedown_app, ["approve", "1", "--by", "ana", "--db", url])
    assert res.exit_code == 2
    for args in (["approve", "1", "--by", "sri"], ["send", "1", "--by", "sri"],
                 ["mark", "1", "removed", "--by", "sri"],
                 ["export", "1", "--out", str(tmp_path), "--format", "csv"]):
        res = r.invoke(takedown_app, [*args, "--db", url])
        assert res.exit_code == 0, res.output
    month = datetime.now(UTC).astimezone().strftime("%Y-%m")
    res = r.invoke(report_app, ["monthly", "--json", "--db", url, "--tz", "UTC",
                                "--month", datetime.now(UTC).strftime("%Y-%m")])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["reported"] == 2 and rep["removed"] == 1 and rep["pending"] == 1
    assert rep["share_removed_24h"] == 1.0
    res = r.invoke(report_app, ["monthly", "--db", url, "--tz", "UTC"])
    assert res.exit_code == 0 and "removed" in res.output
    assert r.invoke(report_app, ["monthly", "--month", "2026-13", "--db", url]).exit_code == 2
    assert month


def test_dns_failure_counts_as_removed_only_when_confirmed(store: Store) -> None:
    """A site whose host DNS says does not exist is "unresolved" until it has been so for
    DNS_CONFIRM_HOURS; a resolver failure is an error; a platform's host never vanishes."""
    import socket

    from patroli.cases import fetch as fetch_mod
    from patroli.cases.fetch import FetchError, HostNotFoundError
    from patroli.cases.takedown import DNS_CONFIRM_HOURS

    rid = _sent(store)
    live = FetchOutcome(200, "<p>Loker admin</p>")
    site = "https://loker-luar.example/daftar"
    fetcher = FakeFetcher({"https://facebook.com/p/1": HostNotFoundError("host not found"),
                           "https://facebook.com/p/2": live,
                           "https://tiktok.com/@x/video/1": live,
                           site: FetchError("cannot resolve host: temporary failure")})

    def check(at: datetime) -> dict[str, dict]:
        return {r["url"]: r for r in verify_request(store, rid, fetcher, now=at)}

    res = check(T0)
    assert res[site]["outcome"] == "error"  # the resolver failed: says nothing
    assert res["https://facebook.com/p/1"]["outcome"] == "error"  # a platform host
    assert res["https://facebook.com/p/1"]["status"] == "sent"
    fetcher.pages[site] = HostNotFoundError("host not found")
    assert check(T0 + timedelta(hours=1))[site]["outcome"] == "unresolved"
    res = check(T0 + timedelta(hours=1 + DNS_CONFIRM_HOURS / 2))
    assert (res[site]["outcome"], res[site]["status"]) == ("unresolved", "sent")
    fetcher.pages[site] = live  # it answered again: the count starts over
    assert check(T0 + timedelta(hours=8))[site]["outcome"] == "still_up"
    fetcher.pages[site] = HostNotFoundError("host not found")
    assert check(T0 + timedelta(hours=9))[site]["outcome"] == "unresolved"
    res = check(T0 + timedelta(hours=9 + DNS_CONFIRM_HOURS))
    assert (res[site]["outcome"], res[site]["status"]) == ("removed", "removed")

    # the fetcher tells "no such host" from a resolver failure
    def fake_getaddrinfo(errno: int):
        def raise_(*_a, **_k):
            raise socket.gaierror(errno, "x")
        return raise_

    orig = socket.getaddrinfo
    try:
        socket.getaddrinfo = fake_getaddrinfo(socket.EAI_NONAME)
        with pytest.raises(HostNotFoundError):
            fetch_mod.resolve_host("gone.example", 443)
        socket.getaddrinfo = fake_getaddrinfo(socket.EAI_AGAIN)
        with pytest.raises(FetchError) as err:
            fetch_mod.resolve_host("gone.example", 443)
        assert not isinstance(err.value, HostNotFoundError)
    finally:
        socket.getaddrinfo = orig
