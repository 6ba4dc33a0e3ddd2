"""Issue 6 end to end in Debian's Chromium: three posts sharing a phone (their URLs served
by a local HTTP server on 127.0.0.1), an analyst pivots on the phone, opens a case,
captures evidence and drafts a takedown request; a supervisor (admin) approves it, marks
it sent and the items removed; the SLA page shows the change. The clicks from "posts
selected" (the pivot page listing the network) to "request approved" are counted and
printed. Screenshots go to ``shots_dir`` as ``cases_*.png``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from patroli.analysis import analyze
from patroli.cases.fetch import Fetcher
from patroli.store import Store
from patroli.types import Post

from ..test_console_cases import PAGES, _Pages
from ..webutil import PASSWORD

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def pages_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _seed_network(store_url: str, base: str, marker: str) -> None:
    """Three facebook posts sharing one phone written three ways, URLs on ``base``."""
    texts = [f"LOKER KAMBOJA {marker} admin online gaji 20jt, WA 0812-7777-4242",
             f"Dicari operator {marker} Malaysia tanpa paspor, hubungi 0812 7777 4242",
             f"Kerja cepat {marker} ke Myanmar gaji dollar, wa.me/6281277774242"]
    paths = list(PAGES)
    posts = [Post(key=f"net-{marker}-{i}", text=text, source="scan-demo",
                  platform="facebook", url=base + paths[i % len(paths)] + f"?p={i}")
             for i, text in enumerate(texts)]
    with Store(store_url) as store:
        run = store.start_run("scan-demo", {})
        store.save_batch(run, [(p, analyze(p)) for p in posts])
        store.finish_run(run, status="completed", counts={"posts_read": len(posts)})


def _login(page: Any, base: str, user: str) -> None:
    page.goto(base + "/login")
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form.stack button[type="submit"]')
    page.wait_for_url("**/console**")


def test_case_to_approved_takedown(browser: Any, live_server: tuple[str, str], live_app: Any,
                                   live_users: dict[str, str], shots_dir: Path,
                                   pages_server: str) -> None:
    base, store_url = live_server
    live_app.state.fetcher = Fetcher(allow_private={"127.0.0.1"})  # test-only
    marker = "Jaringan" + uuid.uuid4().hex[:6]
    _seed_network(store_url, pages_server, marker)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    clicks = 0
    try:
        _login(page, base, live_users["analyst"])
        page.goto(base + "/console/sla")
        removed_before = int(page.get_attribute("#sla-overall", "data-removed") or 0)

        # the network: pivot on the phone from the queue
        page.goto(base + "/console/queue?q=" + marker)
        # a locator wait, not wait_for_function: the page's CSP forbids string evaluation
        expect(page.locator("#queue-results input[name=post_id]")).to_have_count(3)
        page.locator("#queue-results tr", has_text="LOKER KAMBOJA") \
            .locator('a[href^="/console/posts/"]').click()
        page.click('a.pivot[href*="kind=phone"]')
        page.wait_for_selector("table.pivot-list")
        assert page.locator("table.pivot-list tbody tr").count() == 3
        page.screenshot(path=str(shots_dir / "cases_pivot.png"), full_page=True)

        # posts selected (the pivot lists the network): open a case
        page.click("#open-case-pivot")
        clicks += 1
        page.wait_for_selector("#case-title")
        assert page.locator("table.case-posts tbody tr").count() == 3
        case_url = page.url

        # capture evidence from the local pages
        page.click("#capture-evidence")
        clicks += 1
        page.wait_for_selector("table.evidence-list")
        assert page.locator("table.evidence-list code.sha256").count() == 3
        assert page.get_attribute("#case-status", "data-status") == "evidence_collected"
        page.screenshot(path=str(shots_dir / "cases_case.png"), full_page=True)

        # draft the takedown request (one batched request to Meta)
        page.click("#draft-takedown")
        clicks += 1
        page.wait_for_selector("#letter")
        request_url = page.url
        assert page.locator("#approve-request").count() == 0  # four-eyes: not the drafter
        assert page.locator("#drafter-note").count() == 1
        page.screenshot(path=str(shots_dir / "cases_takedown_draft.png"), full_page=True)

        # log out; the supervisor (admin) signs in and approves
        with page.expect_navigation():
            page.click('form[action="/logout"] button')
        clicks += 1
        page.goto(base + "/login")
        page.fill('input[name="username"]', live_users["admin"])
        page.fill('input[name="password"]', PASSWORD)
        page.click('form.stack button[type="submit"]')
        clicks += 1
        page.wait_for_url("**/console**")
        page.goto(request_url)
        clicks += 1  # opening the request (a link in the takedown list / notification)
        page.click("#approve-request")
        clicks += 1
        page.wait_for_selector("#approved-by")
        assert page.inner_text("#approved-by") == live_users["admin"]
        print("clicks:", clicks)

        # send it, then mark every item removed
        page.click("#mark-sent")
        page.wait_for_selector(".sla-clock")
        while page.locator("button.set-removed").count():
            page.locator("button.set-removed").first.click()
            page.wait_for_load_state()
        assert page.locator('.item-status[data-status="removed"]').count() == 3
        page.screenshot(path=str(shots_dir / "cases_takedown_removed.png"), full_page=True)

        # the SLA figures changed
        page.goto(base + "/console/sla")
        assert int(page.get_attribute("#sla-overall", "data-removed") or 0) == \
            removed_before + 3
        page.screenshot(path=str(shots_dir / "cases_sla.png"), full_page=True)
        page.goto(case_url)
        assert page.get_attribute("#case-status", "data-status") == "takedown_requested"
    finally:
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "htmx" in p.lower()], \
        problems
