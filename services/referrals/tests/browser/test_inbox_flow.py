"""A partner's staff member in a real browser: Debian's Chromium, driven by Playwright, against referrals.

Sign in as the Volkshochschule's staff, find the referral with the person's consented details, decline
one without and then with a reason, accept another, report its start and completion, filter by state and
switch to English; the other partner's referral never appears. An axe-core scan of every screen (no
violation at all) and a screenshot of every step in ``artifacts/referrals-browser/`` (git-ignored).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from wegweiser.common.envelope import encode
from wegweiser.common.testing.browser import Journey, expect_login_page
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.testing import CONTACT, referral_requested

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def open_referral(page: Page, service: str, family: str) -> None:
    """Wait for the referral to arrive in the inbox (reloading), then open it."""
    row = page.locator("section[aria-labelledby='state-sent'] tbody tr", has_text=family)
    for _ in range(60):
        if await row.count():
            break
        await page.wait_for_timeout(500)
        await page.goto(f"{service}/inbox")
    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Integrationskurs")


async def test_a_partner_answers_its_referrals_in_the_browser(
    service: str, browser: BrowserContext, referrals_env: dict[str, Any]
) -> None:
    family = f"Haddad-{uuid.uuid4().hex[:5]}"
    declined = referral_requested(
        "integrationskurs", "vhs-stuttgart", **{**CONTACT, "family_name": f"{family}-B"}
    )
    taken = referral_requested("integrationskurs", "vhs-stuttgart", **{**CONTACT, "family_name": family})
    other = referral_requested("jmd", "jmd-stuttgart", **{**CONTACT, "family_name": f"{family}-JMD"})
    await produce(referrals_env["kafka_bootstrap_servers"], encode(declined), encode(taken), encode(other))

    page = await browser.new_page()
    journey = Journey(page, "referrals")

    # Sign in on the development login page: staff of three partners of the example catalogue.
    await expect_login_page(page, f"{service}/inbox")
    await expect(
        page.get_by_role("cell", name="Volkshochschule Stuttgart – Integrationskurse")
    ).to_be_visible()
    await journey.record("login")
    await page.get_by_role("button", name="Anmelden als Petra Schneider").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Überweisungen an uns")

    # Decline the first: without a reason the form says what is missing, beside the field.
    await open_referral(page, service, f"{family}-B")
    await page.get_by_role("button", name="Überweisung ablehnen").click()
    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("Bitte einen Grund für die Ablehnung wählen.")
    await journey.record("decline-without-reason")
    await page.get_by_label("Grund", exact=True).select_option("no_capacity")
    await page.get_by_role("button", name="Überweisung ablehnen").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Überweisung ist abgelehnt.")
    await expect(page.get_by_text("Keine freien Plätze")).to_be_visible()

    # The inbox: the other one waits for an answer; the other partner's referral is not there.
    await page.get_by_role("link", name="Zurück zu den Überweisungen").click()
    await open_referral(page, service, family)
    await page.get_by_role("link", name="Zurück zu den Überweisungen").click()
    await expect(page.get_by_text(f"Rania {family}", exact=True)).to_be_visible()
    await expect(page.get_by_text(f"{family}-JMD")).to_have_count(0)
    await journey.record("inbox")

    # Accept the second, with the person's consented details; then report the start and completion.
    await open_referral(page, service, family)
    facts = page.get_by_role("region", name="Person")
    await expect(facts).to_contain_text(family)
    await expect(facts).to_contain_text(CONTACT["phone"])
    await expect(facts).not_to_contain_text(CONTACT["email"])  # not in the course's minimum
    await journey.record("referral")
    await page.get_by_role("button", name="Überweisung annehmen").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Überweisung ist angenommen.")
    await journey.record("accepted")
    await page.get_by_role("button", name="Beginn melden").click()
    await expect(page.get_by_role("status")).to_contain_text("Der Beginn ist gemeldet.")
    await page.get_by_role("button", name="Abschluss melden").click()
    await expect(page.get_by_role("status")).to_contain_text("Der Abschluss ist gemeldet.")
    await expect(page.get_by_text("Diese Überweisung ist abgeschlossen")).to_be_visible()
    await journey.record("completed")

    # Filter by state, then switch to English.
    await page.get_by_role("link", name="Zurück zu den Überweisungen").click()
    await page.get_by_label("Status").select_option("completed")
    await page.get_by_role("button", name="Anzeigen").click()
    completed = page.locator("section[aria-labelledby='state-completed']")
    await expect(completed.get_by_role("heading")).to_have_text("abgeschlossen (1)")
    await expect(page.locator("section[aria-labelledby='state-declined']")).to_have_count(0)
    await journey.record("filtered")
    await page.get_by_role("link", name="Switch to English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to us")
    await expect(completed.get_by_role("heading")).to_have_text("completed (1)")
    await journey.record("english")

    journey.assert_accessible(screens=8)
    assert journey.report()["by_impact"] == {}, journey.report()["violations"]
