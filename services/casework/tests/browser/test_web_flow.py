"""A counsellor's day in a real browser: Debian's Chromium, driven by Playwright, against the running service.

Sign in, find a case, record a consultation, set a goal, grant consent, request a referral and watch its
status arrive; an axe-core scan of every screen (no serious or critical violation) and a screenshot of
every step in ``artifacts/casework-browser/`` (git-ignored).
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, expect

from wegweiser.common import events
from wegweiser.common.envelope import encode
from wegweiser.common.testing.browser import Journey, expect_login_page, serve
from wegweiser.common.testing.kafka import produce

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def service(database_url: str, casework_env: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """casework as people run it (``python -m wegweiser.casework``) on its own port and database."""
    with serve("casework", database_url, casework_env, tmp_path / "casework.log") as url:
        yield url


def person(family_name: str, **details: Any) -> events.ArrivedPerson:
    """A member of the arriving household, with an id of their own."""
    return events.ArrivedPerson(person_id=uuid.uuid4(), family_name=family_name, **details)


def arrival(family_name: str) -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags="08111000",
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference=f"B-{uuid.uuid4().hex[:6]}",
        allocation_date=dt.date.today() - dt.timedelta(days=3),
        persons=(
            person(
                family_name,
                role="head",
                given_names="Rania",
                date_of_birth="1988-03",
                languages=("ar",),
                phone="+49 711 5550100",
            ),
            person(family_name, role="child", given_names="Omar", date_of_birth="2016"),
        ),
    )


async def test_a_counsellors_day_in_the_browser(
    service: str, browser: BrowserContext, casework_env: dict[str, Any]
) -> None:
    family = f"Haddad-{uuid.uuid4().hex[:5]}"
    registered = arrival(family)
    await produce(casework_env["kafka_bootstrap_servers"], encode(registered))

    page = await browser.new_page()
    journey = Journey(page, "casework")

    # Sign in on the development login page.
    await expect_login_page(page, f"{service}/cases")
    # The first user to try is a counsellor (the admin, last, sees no case); each says what they see.
    await expect(page.locator("tbody tr").first.locator("td").first).to_have_text("Integrationsmanager/in")
    await expect(page.locator("tbody tr").last).to_contain_text("sieht keine Fälle")
    await journey.record("login")
    await page.get_by_role("button", name="Anmelden als Lena Müller").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Meine Fälle")
    # The first view shows the new household although nobody has taken it yet.
    for _ in range(60):
        if (
            await page.get_by_role("region", name="Neue, noch nicht zugewiesene Fälle")
            .get_by_text(family)
            .count()
        ):
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.get_by_role("heading", name="Neue, noch nicht zugewiesene Fälle")).to_be_visible()
    await journey.record("caseload")

    # Find the case by name (the arrival may still be on its way through Kafka).
    await page.get_by_role("link", name="Suche").click()
    for _ in range(60):
        await page.get_by_label("Name").fill(family.lower()[:10])
        await page.get_by_role("button", name="Suchen").click()
        if await page.get_by_role("link", name=f"{family}, Rania").count():
            break
        await page.wait_for_timeout(500)
    await journey.record("search")
    await page.get_by_role("link", name=f"{family}, Rania").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Fall {family}, Rania")
    await journey.record("case")

    # Record a consultation: first with mistakes, which come back next to their fields.
    await page.get_by_role("link", name="Beratung erfassen").click()
    await page.get_by_label("Dauer in Minuten").fill("0")
    await page.get_by_label("Mit Sprachmittlung").check()
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.locator("#f-duration_minutes-error")).to_have_text("Der Wert muss größer als 0 sein.")
    await expect(page.locator("#f-type-error")).to_have_text("Bitte einen Wert aus der Liste wählen.")
    await expect(page.locator("#f-interpreter_language-error")).to_contain_text("Sprache der Sprachmittlung")
    assert await page.evaluate("document.activeElement.id") == "error-summary"
    await journey.record("consultation-errors")
    await page.get_by_label("Dauer in Minuten").fill("45")
    await page.get_by_label("Art der Beratung").select_option("erstgespraech")
    await page.get_by_label("Kanal").select_option("hausbesuch")
    await page.get_by_label("Sprache der Sprachmittlung").fill("ar")
    await page.get_by_label("Sprache", exact=True).check()
    await page.get_by_label("Wohnen").check()
    await page.get_by_label(f"{family}, Rania (Haushaltsvorstand)").check()
    await page.get_by_label("Notiz (eingeschränkt sichtbar)").fill("Wohnungssuche besprochen; Kita für Omar.")
    await journey.record("consultation-form")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Beratung wurde gespeichert.")
    await expect(page.locator(".app-timeline")).to_contain_text("Erstgespräch, Hausbesuch, 45 Minuten")
    await expect(page.locator(".app-note")).to_contain_text("Wohnungssuche besprochen")

    # Set a goal of the Integrationsplan.
    await page.get_by_role("link", name="Ziel festlegen").click()
    await page.get_by_label("Handlungsfeld").select_option("sprache")
    await page.get_by_label("Ziel und Schritte").fill("Deutsch B1 bis Sommer: Anmeldung zum Integrationskurs")
    await journey.record("goal-form")
    await page.get_by_role("button", name="Speichern").dblclick()  # saved once: the form's token
    await expect(page.get_by_role("status")).to_contain_text("Das Ziel wurde gespeichert.")
    await expect(page.locator("#plan ~ ul")).to_contain_text("Deutsch B1 bis Sommer")
    await expect(page.locator("#plan ~ ul li", has_text="Deutsch B1 bis Sommer")).to_have_count(1)

    # A referral without consent is refused, with the reason next to the programme.
    await page.get_by_role("link", name="Vermittlung anfragen").click()
    await page.get_by_label("Person").select_option(label=f"{family}, Rania (Haushaltsvorstand)")
    await page.get_by_label("Programm").select_option("integrationskurs")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.locator("#f-programme-error")).to_contain_text("Ohne gültige Einwilligung")
    await journey.record("referral-refused")
    await page.get_by_role("link", name="Abbrechen").click()

    # Grant consent, then request the referral.
    await page.get_by_role("link", name="Einwilligung erfassen").click()
    await page.get_by_label("Person").select_option(label=f"{family}, Rania (Haushaltsvorstand)")
    await page.get_by_label("Zweck (Programm)").select_option("integrationskurs")
    await page.get_by_label("Sprache des Einwilligungstextes").fill("ar")
    await journey.record("consent-form")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Einwilligung wurde gespeichert.")
    await page.get_by_role("link", name="Vermittlung anfragen").click()
    await page.get_by_label("Person").select_option(label=f"{family}, Rania (Haushaltsvorstand)")
    await page.get_by_label("Programm").select_option("integrationskurs")
    await page.get_by_label("Hinweis an den Partner (optional)").fill("Bevorzugt Vormittagskurs")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Vermittlung wurde angefragt.")
    referrals = page.locator("#referral-status")
    await expect(referrals).to_contain_text("Integrationskurs für")
    await expect(referrals.locator("[data-status]")).to_have_text("angefragt")
    await expect(page.locator(".app-timeline")).to_contain_text("Vermittlung angefragt: Integrationskurs")
    await journey.record("referral-requested")

    # Referrals answers on Kafka; the case page shows it without a reload.
    referral_id = await referrals.locator("[data-referral]").get_attribute("data-referral")
    case_id = page.url.split("/cases/")[1].split("?")[0].split("#")[0]
    partner = f"vhs-test-{uuid.uuid4().hex[:6]}"
    accepted = events.ReferralAccepted(
        ags="08111000",
        referral_id=uuid.UUID(str(referral_id)),
        case_id=uuid.UUID(case_id),
        programme="integrationskurs",
        partner_id=partner,
        requested_on=dt.date.today(),
        # An hour ahead: on a shared broker another referrals consumer may report on this request too;
        # casework keeps the newest status, so ours is the one that must end up on the page.
        occurred_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    await produce(casework_env["kafka_bootstrap_servers"], encode(accepted))
    await expect(referrals.locator("[data-status]")).to_have_text("angenommen", timeout=45_000)
    await expect(referrals).to_contain_text(f"Partner: {partner}")  # not in the catalogue: shown by its id
    await expect(page.locator(f'[data-timeline-referral="{referral_id}"]')).to_have_text("angenommen")
    await journey.record("referral-accepted")

    # The same page in English.
    await page.goto(f"{page.url.split('?')[0].split('#')[0]}?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    await expect(referrals.locator("[data-status]")).to_have_text("accepted")
    await journey.record("case-english")
    await page.goto(f"{service}/cases/new?lang=en")
    await journey.record("walk-in-form-english")
    await page.goto(f"{service}/cases?lang=de")

    # The supervisor's views: team caseloads and the audit log.
    await page.get_by_role("button", name="Abmelden").click()
    await page.get_by_role("button", name="Anmelden als Andrea Weber").click()
    await page.get_by_role("link", name="Teams").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Fallzahlen der Teams")
    await journey.record("team-caseloads")
    await page.get_by_role("link", name="Protokoll").click()
    await page.get_by_label("Fall-ID (optional)").fill(case_id)
    await page.get_by_role("button", name="Filter anwenden").click()
    log = page.locator("table")
    await expect(log).to_contain_text("request_referral")
    await expect(log).to_contain_text("s-mueller")
    await journey.record("audit-log")

    journey.assert_accessible(screens=15)
