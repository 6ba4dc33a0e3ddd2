"""Portal in a real browser (Chromium, phone-sized viewport 390x844): a citizen reports a
phone number and follows its status; checks an ad and sees the verdict. Screenshots of
each page go to ``shots_dir`` (default /tmp/patroli_shots)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "id-ID"}
AD = ("🔥 LOKER ADMIN ONLINE 🔥\nLokasi: Phnom Penh, Kamboja\n💰 Gaji 13-17jt/bln + komisi\n"
      "✈️ Tiket, visa, mess DITANGGUNG kantor\n✅ Gak perlu pengalaman, asal bisa ngetik\n"
      "⏰ Sisa 4 kursi!\nMinat? WA aja: 0812-0000-4471 (chat only)")


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(20000)  # generous: CI machines may be slower
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    yield page
    context.close()
    assert not errors, errors  # no CSP violation, no script error, no missing asset


def _no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_citizen_reports_a_phone_and_follows_the_status(
        live_server: tuple[str, str], phone_page: Any, shots_dir: Path) -> None:
    base, _ = live_server
    page = phone_page
    page.goto(base + "/")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots_dir / "portal_home_phone.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Lapor")).first.click()
    page.wait_for_url(base + "/lapor")
    page.get_by_label("Nomor HP / WhatsApp").check()
    page.fill("#content", "0812-5555-0101")
    page.fill("#description", "Menawarkan kerja di Kamboja, minta transfer 5 juta ke "
                              "rekening pribadi.")
    page.select_option("#platform", "whatsapp")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots_dir / "portal_report_form_phone.png"), full_page=True)
    page.get_by_role("button", name="Kirim laporan").click()
    page.wait_for_url(re.compile(r"/lapor/status/[A-Z0-9]{10}"))
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{10}", code)
    assert page.locator("#report-status").inner_text() == "diterima"
    assert "0812-5555-0101" not in page.content()
    page.screenshot(path=str(shots_dir / "portal_report_receipt_phone.png"), full_page=True)
    # later: follow the status with the code typed by hand (lower case)
    page.goto(base + "/lapor/status")
    page.fill("#code", code.lower())
    page.get_by_role("button", name="Lihat status").click()
    page.wait_for_url(re.compile(r"/lapor/status\?code="))
    assert page.locator("#receipt-code").inner_text() == code
    assert page.locator("#report-status").inner_text() == "diterima"
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots_dir / "portal_status_phone.png"), full_page=True)


def test_citizen_checks_an_ad_and_sees_the_verdict(
        live_server: tuple[str, str], phone_page: Any, shots_dir: Path) -> None:
    base, _ = live_server
    page = phone_page
    page.goto(base + "/cek")
    page.fill("#q", AD)
    page.get_by_role("button", name="Cek sekarang").click()
    page.wait_for_url(base + "/cek")
    verdict = page.locator(".verdict")
    assert "verdict-danger" in (verdict.get_attribute("class") or "")
    assert "Hati-hati" in page.locator(".verdict-message").inner_text()
    assert page.locator(".why li").count() >= 3
    page.locator("details.checked-text summary").click()
    assert page.locator(".post-text mark").count() >= 2
    _no_horizontal_scroll(page)
    page.screenshot(path=str(shots_dir / "portal_check_verdict_phone.png"), full_page=True)
    # the report button opens the form with the ad filled in
    page.get_by_role("button", name="Laporkan iklan ini").click()
    assert "Phnom Penh" in page.locator("#content").input_value()
    # English
    page.goto(base + "/cek?lang=en")
    page.fill("#q", "PT Cahaya Mandiri Sejahtra Abadi")
    page.get_by_role("button", name="Check now").click()
    assert "not the same company" in page.locator(".verdict-message").inner_text()
    page.screenshot(path=str(shots_dir / "portal_check_lookalike_en_phone.png"), full_page=True)
