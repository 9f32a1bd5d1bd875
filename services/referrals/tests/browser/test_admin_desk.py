"""Referrals' admin desk in a real browser (issue 14): the admin signs in, sees the partners of the example
catalogue with their programmes, areas, delivery and its health, finds referrals' stuck records of
Stuttgart with their reason and retries them, and switches to English. Every screen is scanned by axe-core
(no violation at all); the desk's screenshot is the README's.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, expect

from wegweiser.common import events
from wegweiser.common.envelope import OutgoingRecord, encode
from wegweiser.common.testing.browser import Journey, expect_login_page, retry_all_dead_letters
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.testing import referral_requested

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOT = Path(__file__).resolve().parents[4] / "docs" / "screenshots" / "referrals-admin-desk.png"
STUTTGART = "08111000"


def poison() -> OutgoingRecord:
    """A referral request of Stuttgart whose body casework could never have sent: dead-lettered at once."""
    record = encode(referral_requested("integrationskurs", "vhs-stuttgart"))
    return dataclasses.replace(record, value=b'{"ags": "08111000", "referral_id": "kaputt"}')


async def test_the_admin_sees_the_partners_and_retries_stuck_records_in_the_browser(
    service: str, browser: BrowserContext, referrals_env: dict[str, Any]
) -> None:
    await produce(referrals_env["kafka_bootstrap_servers"], poison(), poison())
    page = await browser.new_page()
    journey = Journey(page, "referrals-admin")

    # The development login lists the admin after the partners' staff; the inbox sends an admin to the desk.
    await expect_login_page(page, f"{service}/admin")
    await page.get_by_role("button", name="Anmelden als Plattform-Administration").click()
    await expect(page).to_have_url(f"{service}/admin")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Verwaltung: Partner und ihre Zustellung")
    partners = page.get_by_role("region", name="Partner (")
    vhs = partners.locator("tr[data-partner='vhs-stuttgart']")
    await expect(vhs).to_contain_text("Volkshochschule Stuttgart")
    await expect(vhs).to_contain_text("Integrationskurs")
    await expect(vhs).to_contain_text("wegweiser.partner.vhs-stuttgart.referrals.v1")
    webhook = page.locator("tr[data-partner='caritas-mbe-stuttgart']")
    await expect(webhook).to_contain_text("Webhook")
    await expect(webhook).to_contain_text("geschlossen: Zustellung läuft")
    await expect(webhook).to_contain_text("0 ausstehend, 0 fehlgeschlagen, 0 zugestellt")
    await journey.record("partners")
    await page.screenshot(path=str(journey.artifacts / "desk.png"), full_page=False)
    await page.goto(f"{service}/inbox")
    await expect(page).to_have_url(f"{service}/admin")

    # The stuck records of Stuttgart, with their reason; retried with the municipality's button.
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    await nav.get_by_role("link", name="Hängende Ereignisse").click()
    await retry_all_dead_letters(
        page, journey, ags=STUTTGART, municipality="Stuttgart", ce_type=events.ReferralRequested.ce_type()
    )

    # English, on both pages of the desk.
    await page.get_by_role("link", name="Switch to English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Stuck events of referrals")
    await journey.record("dead-letters-english")
    await page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Partners").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Administration: partners and their delivery"
    )
    await expect(webhook).to_contain_text("closed: delivering")
    await journey.record("partners-english")

    journey.assert_accessible(screens=5)
    assert journey.report()["by_impact"] == {}, journey.report()["violations"]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(journey.artifacts / "desk.png", SCREENSHOT)
