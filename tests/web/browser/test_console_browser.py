"""The analyst console in Debian's Chromium: a citizen reports a recruiter through the
public form, an analyst signs in, finds the report in the queue (HTMX search), opens it,
pivots on its phone number, labels it, confirms it with a bulk action, and opens the
dashboard. Screenshots (desktop size) go to ``shots_dir``."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from patroli.analysis import analyze
from patroli.store import Store
from patroli.store.labels import labeled_posts
from patroli.types import Post

from ..webutil import PASSWORD

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}


def _seed_sharing_post(store_url: str, text: str) -> None:
    """A scanned post with the same phone, written differently (the pivot must join them)."""
    post = Post(key="scan-" + uuid.uuid4().hex[:8], text=text, source="scan-demo",
                platform="facebook")
    with Store(store_url) as store:
        run = store.start_run("scan-demo", {})
        store.save_batch(run, [(post, analyze(post))])
        store.finish_run(run, status="completed", counts={"posts_read": 1})


def test_analyst_triages_a_public_report(browser: Any, live_server: tuple[str, str],
                                         live_users: dict[str, str], shots_dir: Path) -> None:
    base, store_url = live_server
    marker = "Sihanoukville" + uuid.uuid4().hex[:6]
    _seed_sharing_post(store_url, f"Dicari operator online {marker}, gaji 18jt, "
                                  "hubungi wa 62 812 7777 3185 segera")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20000)  # generous: CI machines may be slower
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" else None)
    try:
        # a citizen reports the ad through the public form
        page.goto(base + "/lapor")
        page.check('input[name="kind"][value="text"]')
        page.fill("#content", f"LOKER KAMBOJA admin {marker} gaji 25jt tanpa pengalaman, "
                              "DP 3jt transfer ke rekening pribadi. WA 0812-7777-3185")
        page.click('form.portal-form button[type="submit"]')
        page.wait_for_selector("#receipt-code")

        # the analyst signs in and finds it in the queue (HTMX search)
        page.goto(base + "/login")
        page.fill('input[name="username"]', live_users["analyst"])
        page.fill('input[name="password"]', PASSWORD)
        page.click('form.stack button[type="submit"]')
        page.goto(base + "/console/queue")
        page.fill('input[name="q"]', marker)
        page.press('input[name="q"]', "Enter")
        # a locator wait, not wait_for_function: the page's CSP forbids string evaluation
        expect(page.locator("#queue-results input[name=post_id]")).to_have_count(2)
        assert marker in page.url  # hx-push-url keeps the filter in the address
        page.screenshot(path=str(shots_dir / "console_queue.png"), full_page=True)
        row = page.locator("#queue-results tr", has_text="LOKER KAMBOJA")
        row.locator('a[href^="/console/posts/"]').click()

        # the post view: evidence highlighted, then pivot on the phone number
        page.wait_for_selector("#post-text mark")
        post_url = page.url
        page.screenshot(path=str(shots_dir / "console_post.png"), full_page=True)
        page.click('a.pivot[href*="kind=phone"]')
        page.wait_for_selector("table.pivot-list")
        assert page.locator("table.pivot-list tbody tr").count() == 2
        assert "+6281277773185" in page.inner_text("h1")
        page.screenshot(path=str(shots_dir / "console_pivot.png"), full_page=True)

        # label it
        page.goto(post_url)
        page.check('input[name="label"][value="illegal"]')
        page.fill('.label-form input[name="note"]', "iklan perekrutan ilegal ke Kamboja")
        page.click('.label-form button[type="submit"]')
        page.wait_for_selector(".notice")
        assert page.inner_text("#current-label") == "ilegal"
        assert "label: ilegal" in page.inner_text("table.history")
        with Store(store_url) as store:
            assert any(marker in text and lab == "illegal" for text, lab in labeled_posts(store))

        # bulk-confirm both posts from the queue (HTMX POST with the CSRF token)
        page.goto(base + "/console/queue?q=" + marker)
        page.check("#queue-results .select-all")
        assert page.locator("#queue-results input[name=post_id]:checked").count() == 2
        page.click('#queue-results button[value="confirm"]')
        page.wait_for_selector("#queue-results .notice")
        assert re.search(r"2 item diubah", page.inner_text("#queue-results .notice"))
        assert page.locator("#queue-results .status-confirmed").count() == 2

        # the dashboard
        page.goto(base + "/console/dashboard")
        page.wait_for_selector("svg.chart rect.bar")
        assert page.locator("svg.chart").count() >= 7
        page.screenshot(path=str(shots_dir / "console_dashboard.png"), full_page=True)
    finally:
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "htmx" in p.lower()], \
        problems
