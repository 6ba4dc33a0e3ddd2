"""SLA figures on a constructed timeline (hand-computed expected values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patroli.cases.sla import backlog_bucket, monthly_report, sla_from_items
from patroli.cases.takedown import draft_requests
from patroli.store import Store
from patroli.store.takedown import ItemSpec, approve_request, mark_sent, set_item_status
from patroli.store.users import add_user

T0 = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _item(priority: str, sent: float, removed: float | None, status: str) -> dict:
    return {"priority": priority, "first_detected_at": T0, "sent_at": T0 + sent * H,
            "removed_at": None if removed is None else T0 + removed * H, "status": status,
            "platform": "facebook", "url": "https://x"}


def test_sla_from_items_hand_computed() -> None:
    items = [_item("4h", 2, 5, "removed"),      # 3 h to removal, within 4 h
             _item("24h", 4, 34, "removed"),    # 30 h: late
             _item("24h", 6, None, "sent"),     # 24 h old at now: due, not removed
             _item("24h", 28, None, "acknowledged"),  # 2 h old: not due yet
             {**_item("24h", 1, None, "drafted"), "sent_at": None}]
    f = sla_from_items(items, now=T0 + 30 * H)
    assert f["sent"] == 4 and f["removed"] == 2 and f["pending"] == 2
    assert f["median_detection_to_request_hours"] == 5.0   # median of 2, 4, 6, 28
    assert f["median_request_to_removal_hours"] == 16.5    # median of 3, 30
    assert f["share_removed_24h"] == round(1 / 3, 4)       # A of A, B, C
    assert f["share_removed_4h_urgent"] == 1.0
    assert f["backlog"] == {"<4h": 1, "4-24h": 0, "1-7d": 1, ">7d": 0}
    assert [backlog_bucket(h) for h in (0, 3.99, 4, 23.9, 24, 167.9, 168)] == [
        "<4h", "<4h", "4-24h", "4-24h", "1-7d", "1-7d", ">7d"]
    assert sla_from_items([], now=T0)["share_removed_24h"] is None


def test_monthly_report_months_in_wib(db_url: str) -> None:
    store = Store(db_url)
    h = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    add_user(store, "ana", h, "analyst", actor="t")
    add_user(store, "sri", h, "supervisor", actor="t")
    specs = [ItemSpec("facebook", "illegal_recruitment", "24h", url="https://fb/1",
                      first_detected_at=T0),
             ItemSpec("web", "trafficking", "4h", url="https://site.example/",
                      first_detected_at=T0),
             ItemSpec("tiktok", "illegal_recruitment", "24h", account="@calo",
                      first_detected_at=T0)]
    rid = draft_requests(store, specs, drafted_by="ana", recipient="komdigi")[0]
    approve_request(store, rid, "sri")
    sent = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)  # 1 Nov 01:00 WIB
    req = mark_sent(store, rid, actor="sri", at=sent)
    a, b, _ = (i["id"] for i in req["items"])
    set_item_status(store, a, "removed", actor="sri", at=sent + 10 * H)
    set_item_status(store, b, "refused", actor="sri", at=sent + 2 * H)
    now = sent + 48 * H
    rep = monthly_report(store, "2026-11", now=now)
    assert rep["reported"] == 3 and rep["removed"] == 1 and rep["refused"] == 1
    assert rep["pending"] == 1
    assert rep["by_kind"] == {"accounts": 1, "contents": 1, "sites": 1}
    assert rep["median_hours_to_removal"] == 10.0
    assert rep["share_removed_24h"] == 0.3333  # 1 of 3 due
    assert rep["backlog"]["1-7d"] == 1
    assert rep["by_platform"]["facebook"]["removed"] == 1
    assert monthly_report(store, "2026-10", now=now)["reported"] == 0
    assert monthly_report(store, "2026-10", now=now, tz="UTC")["reported"] == 3
    store.close()
