"""Analyst console: queue (filters, search, pages, bulk actions), post view, pivot,
label decisions, dashboard; and the store functions behind them on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from patroli.store import Store
from patroli.store import queue as queue_store
from patroli.store import review as review_store
from patroli.store.audit import verify_chain
from patroli.store.labels import labeled_posts
from patroli.types import Assessment, Entity, Finding, Post

from .webutil import csrf_from, login, make_user

T0 = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)  # 2 March 03:00 WIB


def _assessment(key: str, score: int, *, label: str = "illegal",
                indicators: tuple[str, ...] = (), entities: tuple[Entity, ...] = (),
                spans: tuple[tuple[int, int], ...] = ((0, 5),)) -> Assessment:
    level = "high" if score >= 70 else "medium" if score >= 40 else "low"
    findings = [Finding(indicator=i, weight=10.0, spans=list(spans),
                        explanation_id=f"alasan {i}", explanation_en=f"reason {i}",
                        title_id=f"judul {i}", title_en=f"title {i}") for i in indicators]
    return Assessment(post_key=key, risk_score=score, level=level, label=label,
                      probabilities={label: 1.0}, findings=findings,
                      entities=list(entities), rule_set_version="test-rules",
                      analyzed_at=T0, model_version="m1",
                      signals={"rules": {"label": label, "risk_score": score,
                                         "probabilities": {label: 0.9, "other": 0.1}},
                               "model": {"version": "m1",
                                         "probabilities": {"awareness": 0.8, label: 0.2}}})


def seed(store: Store, n_bulk: int = 0) -> dict[str, int]:
    """A few distinct posts plus ``n_bulk`` filler posts; returns {key: post id}."""
    phone = "+6281234567890"
    items = [
        (Post(key="a", text="LOKER Kamboja admin gaji 20jt WA 0812-3456-7890",
              source="fb-export", platform="facebook", posted_at=T0),
         _assessment("a", 85, indicators=("scam_hub_destination", "high_salary_claim"),
                     entities=(Entity("country", "KH", (6, 13)),
                               Entity("phone", phone, (33, 47))))),
        (Post(key="b", text="Kerja Malaysia biaya 5jt 100%_pasti, hub 0812 3456 7890",
              source="fb-export", platform="tiktok", posted_at=T0 + timedelta(days=1)),
         _assessment("b", 55, indicators=("upfront_fee",),
                     entities=(Entity("country", "MY", (6, 14)),
                               Entity("phone", phone, (41, 55))))),
        (Post(key="c", text="<script>alert('xss')</script> info resmi LTSA",
              source="lapor", platform="web", posted_at=T0 + timedelta(days=2)),
         _assessment("c", 10, label="awareness", spans=((0, 8),),
                     indicators=("no_company_identity",))),
    ]
    for i in range(n_bulk):
        k = f"f{i:03d}"
        items.append((Post(key=k, text=f"filler post {i}", source="bulk", platform="x",
                           posted_at=T0 + timedelta(hours=i)),
                      _assessment(k, 30, label="other")))
    run = store.start_run("seed", {})
    store.save_batch(run, items)
    page = queue_store.queue_page(store, page_size=1000)
    return {it["key"]: it["post_id"] for it in page.items}


# -- store: queue and review on SQLite and PostgreSQL ------------------------------------


def test_queue_filters_search_and_pages(db_url: str) -> None:
    with Store(db_url) as store:
        ids = seed(store, n_bulk=60)
        Q = queue_store.QueueFilters
        page1 = queue_store.queue_page(store)
        assert page1.total == 63 and page1.pages == 2 and len(page1.items) == 50
        assert [it["key"] for it in page1.items[:2]] == ["a", "b"]
        page2 = queue_store.queue_page(store, page=2)
        assert len(page2.items) == 13
        seen = [it["post_id"] for it in page1.items + page2.items]
        assert len(set(seen)) == 63  # stable order: pages never overlap
        assert queue_store.queue_page(store, page=3).items == []

        def keys(**kw: object) -> list[str]:
            return [it["key"] for it in queue_store.queue_page(store, Q(**kw)).items]

        assert keys(level="high") == ["a"]
        assert keys(label="awareness") == ["c"]
        assert keys(platform="tiktok") == ["b"]
        assert keys(destination="kh") == ["a"]
        assert keys(indicator="upfront_fee") == ["b"]
        assert keys(source="lapor") == ["c"]
        # WIB days: a is 2 March WIB, b 3 March, c 4 March
        assert keys(date_from=date(2025, 3, 3), date_to=date(2025, 3, 3), source="fb-export") == ["b"]
        assert keys(date_to=date(2025, 3, 2), source="fb-export") == ["a"]
        assert keys(q="kamboja") == ["a"]  # case-insensitive
        assert keys(q="100%_pasti") == ["b"]
        assert keys(q="100%xpasti") == []  # % and _ are literal, not wildcards
        assert keys(q="0%") == ["b"]
        assert keys(level="high", platform="tiktok") == []
        opts = queue_store.filter_options(store)
        assert {"KH", "MY"} <= set(opts["destinations"])
        assert "upfront_fee" in opts["indicators"] and "lapor" in opts["sources"]
        assert ids["a"] != ids["b"]


def test_review_status_assign_and_history(db_url: str) -> None:
    with Store(db_url) as store:
        ids = seed(store)
        change = review_store.set_status(store, [ids["a"], ids["b"]], "dismissed", actor="ana")
        assert sorted(change.changed) == sorted([ids["a"], ids["b"]])
        assert change.high_risk_dismissed == [ids["a"]]  # a is HIGH risk
        again = review_store.set_status(store, [ids["a"]], "dismissed", actor="ana")
        assert again.changed == [] and again.unchanged == [ids["a"]]
        review_store.assign(store, [ids["a"], ids["c"]], "budi", actor="sup")
        assert review_store.get_review(store, ids["a"])["status"] == "dismissed"
        assert review_store.get_review(store, ids["c"]) ["assignee"] == "budi"
        hist = review_store.review_history(store, ids["a"])
        assert [h["action"] for h in hist] == ["status", "assign"]
        assert hist[0]["details"] == {"high_risk": True, "second_approval": "pending"}
        assert [e["post_id"] for e in review_store.pending_second_approvals(store)] == [ids["a"]]
        Q = queue_store.QueueFilters

        def keys(**kw: object) -> list[str]:
            return [it["key"] for it in queue_store.queue_page(store, Q(**kw)).items]

        assert keys(status="open") == ["c"]
        assert keys(status="dismissed") == ["a", "b"]
        assert keys(assignee="budi") == ["a", "c"]
        assert keys(assignee="-") == ["b"]
        with pytest.raises(review_store.ReviewError):
            review_store.set_status(store, [ids["a"], 999_999], "confirmed", actor="ana")
        assert review_store.get_review(store, ids["a"])["status"] == "dismissed"  # all or none
        with pytest.raises(review_store.ReviewError):
            review_store.set_status(store, [ids["a"]], "deleted", actor="ana")


def test_dashboard_counts(db_url: str) -> None:
    with Store(db_url) as store:
        ids = seed(store)
        review_store.set_status(store, [ids["b"]], "confirmed", actor="ana")
        c = queue_store.dashboard_counts(store, days=5)
        assert c["total"] == 3 and c["open"] == 2 and c["closed"] == 1
        assert c["per_day"][-3:] == [("2025-03-02", 1), ("2025-03-03", 1), ("2025-03-04", 1)]
        assert len(c["per_day"]) == 5
        assert dict(c["by_destination"]) == {"KH": 1, "MY": 1}
        assert dict(c["by_indicator"])["upfront_fee"] == 1
        assert dict(c["by_label"]) == {"illegal": 2, "awareness": 1}
        assert dict(c["by_status"]) == {"open": 2, "confirmed": 1}


# -- web ------------------------------------------------------------------------------


@pytest.fixture
def seeded(app: FastAPI) -> dict[str, int]:
    return seed(app.state.store, n_bulk=55)


def _signed_in(client: TestClient, app: FastAPI, role: str) -> None:
    make_user(app, role + "1", role)
    assert login(client, role + "1").status_code == 303


def test_queue_requires_sign_in(client: TestClient) -> None:
    r = client.get("/console/queue", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_queue_page_filters_and_htmx_partial(client: TestClient, app: FastAPI,
                                             seeded: dict[str, int]) -> None:
    _signed_in(client, app, "analyst")
    r = client.get("/console/queue")
    assert r.status_code == 200
    assert "58 item" in r.text and "Halaman 1 dari 2" in r.text
    assert r.text.count('name="post_id"') == 50
    assert '<script src="/static/vendor/htmx-2.0.11.min.js"' in r.text
    r2 = client.get("/console/queue?page=2")
    assert r2.text.count('name="post_id"') == 8
    r = client.get("/console/queue?destination=KH&level=high")
    assert f'/console/posts/{seeded["a"]}"' in r.text
    assert f'/console/posts/{seeded["b"]}"' not in r.text
    r = client.get("/console/queue?q=100%25_pasti&lang=en")
    assert "1 items" in r.text and f'/console/posts/{seeded["b"]}"' in r.text
    part = client.get("/console/queue?indicator=upfront_fee", headers={"HX-Request": "true"})
    assert "<html" not in part.text and f'/console/posts/{seeded["b"]}"' in part.text
    # unreadable values are ignored, not errors
    assert client.get("/console/queue?level=nope&date_from=xx&page=-3").status_code == 200


def _bulk(client: TestClient, action: str, ids: list[int], **extra: str):
    token = csrf_from(client.get("/console/queue").text)
    return client.post("/console/queue/bulk", data={
        "csrf_token": token, "action": action, "post_id": [str(i) for i in ids],
        "back": "level=high&page=1&evil=1", **extra}, follow_redirects=False)


def test_bulk_dismiss_confirm_and_audit(client: TestClient, app: FastAPI,
                                       seeded: dict[str, int]) -> None:
    _signed_in(client, app, "analyst")
    r = _bulk(client, "dismiss", [seeded["a"], seeded["b"]])
    assert r.status_code == 303
    assert r.headers["location"] == "/console/queue?level=high&page=1"
    page = client.get(r.headers["location"]).text
    assert "2 item diubah" in page and "TINGGI" in page  # flash: a HIGH-risk dismissal
    store = app.state.store
    assert review_store.get_review(store, seeded["a"])["status"] == "dismissed"
    r = _bulk(client, "confirm", [seeded["c"]])
    assert review_store.get_review(store, seeded["c"])["status"] == "confirmed"
    from patroli.store.audit import entries
    acts = [(e.action, e.target, e.details.get("second_approval"))
            for e in entries(store, limit=20)]
    assert ("queue.dismiss", f"post:{seeded['a']}", "pending") in acts
    assert ("queue.dismiss", f"post:{seeded['b']}", None) in acts
    assert ("queue.confirm", f"post:{seeded['c']}", None) in acts
    assert verify_chain(store) == (True, None)
    # HTMX: the refreshed results block comes back, with the message
    token = csrf_from(client.get("/console/queue").text)
    r = client.post("/console/queue/bulk", data={
        "action": "reopen", "post_id": [str(seeded["a"])], "back": "status=open"},
        headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200 and "<html" not in r.text and "1 item diubah" in r.text
    assert f'/console/posts/{seeded["a"]}"' in r.text


def test_bulk_permissions_and_csrf(client: TestClient, app: FastAPI,
                                   seeded: dict[str, int]) -> None:
    make_user(app, "budi", "analyst")
    _signed_in(client, app, "viewer")
    page = client.get("/console/queue").text
    assert 'name="post_id"' not in page  # no bulk controls for a viewer
    assert _bulk(client, "dismiss", [seeded["a"]]).status_code == 403
    assert _bulk(client, "assign", [seeded["a"]], assignee="budi").status_code == 403
    r = client.post("/console/queue/bulk", data={"action": "dismiss",
                                                "post_id": [str(seeded["a"])]})
    assert r.status_code == 403  # no CSRF token
    assert review_store.get_review(app.state.store, seeded["a"])["status"] == "open"


def test_bulk_assign_needs_supervisor(client: TestClient, app: FastAPI,
                                      seeded: dict[str, int]) -> None:
    make_user(app, "budi", "analyst")
    _signed_in(client, app, "analyst")
    assert _bulk(client, "assign", [seeded["a"]], assignee="budi").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/console/queue").text)})
    _signed_in(client, app, "supervisor")
    assert _bulk(client, "assign", [seeded["a"], seeded["b"]], assignee="budi").status_code == 303
    assert review_store.get_review(app.state.store, seeded["b"])["assignee"] == "budi"
    assert _bulk(client, "assign", [seeded["a"]], assignee="nobody").status_code == 400
    assert _bulk(client, "explode", [seeded["a"]]).status_code == 400
    assert _bulk(client, "confirm", [seeded["a"], 10**9]).status_code == 400
    r = client.get("/console/queue?assignee=budi")
    assert r.text.count('name="post_id" value=') == 2


def test_post_view_highlights_and_escapes(client: TestClient, app: FastAPI,
                                          seeded: dict[str, int]) -> None:
    _signed_in(client, app, "viewer")
    r = client.get(f"/console/posts/{seeded['c']}")
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert '<mark title="judul no_company_identity">&lt;script&gt;</mark>' in r.text
    r = client.get(f"/console/posts/{seeded['a']}?lang=en")
    mark = re.search(r'<mark title="([^"]*)">LOKER</mark>', r.text)
    assert mark and set(mark.group(1).split(", ")) == {"title scam_hub_destination",
                                                       "title high_salary_claim"}
    assert "reason scam_hub_destination" in r.text and "alasan scam_hub_destination" in r.text
    assert "/console/pivot?kind=phone&amp;value=%2B6281234567890" in r.text
    assert "DISAGREE" in r.text  # rules say illegal, the model awareness
    assert 'name="label"' not in r.text  # a viewer cannot label
    assert client.get("/console/posts/999999").status_code == 404


def test_pivot_lists_posts_sharing_a_phone(client: TestClient, app: FastAPI,
                                           seeded: dict[str, int]) -> None:
    _signed_in(client, app, "analyst")
    r = client.get("/console/pivot", params={"kind": "phone", "value": "0812-3456-7890"})
    assert r.status_code == 200
    found = set(int(x) for x in re.findall(r'href="/console/posts/(\d+)"', r.text))
    assert found == {seeded["a"], seeded["b"]}
    assert client.get("/console/pivot?kind=password&value=x").status_code == 400


def test_label_decision_stored_audited_and_shown(client: TestClient, app: FastAPI,
                                                seeded: dict[str, int]) -> None:
    _signed_in(client, app, "analyst")
    pid = seeded["b"]
    page = client.get(f"/console/posts/{pid}").text
    r = client.post(f"/console/posts/{pid}/label", data={
        "csrf_token": csrf_from(page), "label": "legitimate", "note": "<b>agen resmi</b>"},
        follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/console/posts/{pid}").text
    assert "Keputusan label disimpan" in page
    assert 'id="current-label">resmi (tidak ilegal)' in page
    assert "&lt;b&gt;agen resmi&lt;/b&gt;" in page and "<b>agen resmi" not in page
    assert "audit: label.add" in page and "analyst1" in page
    texts = dict((t, lab) for t, lab in labeled_posts(app.state.store))
    assert texts["Kerja Malaysia biaya 5jt 100%_pasti, hub 0812 3456 7890"] == "legitimate"
    bad = client.post(f"/console/posts/{pid}/label", data={
        "csrf_token": csrf_from(page), "label": "spam"})
    assert bad.status_code == 400
    # single-post review from the post view, shown in the history
    client.post(f"/console/posts/{pid}/review", data={"csrf_token": csrf_from(page),
                                                      "status": "confirmed"})
    page = client.get(f"/console/posts/{pid}").text
    assert "status: terbuka → dikonfirmasi" in page


def test_viewer_cannot_label(client: TestClient, app: FastAPI,
                             seeded: dict[str, int]) -> None:
    _signed_in(client, app, "viewer")
    page = client.get(f"/console/posts/{seeded['a']}").text
    r = client.post(f"/console/posts/{seeded['a']}/label",
                    data={"csrf_token": csrf_from(page), "label": "illegal"})
    assert r.status_code == 403
    r = client.post(f"/console/posts/{seeded['a']}/review",
                    data={"csrf_token": csrf_from(page), "status": "dismissed"})
    assert r.status_code == 403


def test_dashboard_renders_svg_and_numbers(client: TestClient, app: FastAPI,
                                           seeded: dict[str, int]) -> None:
    _signed_in(client, app, "viewer")
    r = client.get("/console/dashboard")
    assert r.status_code == 200
    assert r.text.count("<svg") >= 7 and "<rect" in r.text
    assert "Total item: 58" in r.text
    assert "<td>KH</td><td>1</td>" in r.text  # numbers as text beside the bars
    assert "<td>upfront_fee</td><td>1</td>" in r.text
    assert '/console/queue?destination=KH' in r.text
    assert "<script>" not in r.text.replace('<script src=', '')
    en = client.get("/console/dashboard?lang=en")
    assert "By destination" in en.text


@pytest.mark.parametrize("path", ["/console/queue", "/console/dashboard",
                                  "/console/posts/{a}", "/console/pivot?kind=phone&value=0812"])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_pages_render_in_both_languages(client: TestClient, app: FastAPI,
                                        seeded: dict[str, int], path: str, lang: str) -> None:
    _signed_in(client, app, "admin")
    sep = "&" if "?" in path else "?"
    r = client.get(path.format(a=seeded["a"]) + f"{sep}lang={lang}")
    assert r.status_code == 200 and f'<html lang="{lang}">' in r.text
