"""The admin desk in a real browser (issue 14): the admin sets who takes new arrivals in Stuttgart, finds a
stuck records of Stuttgart with their reason and retries them; the supervisor sees the cases near their
deadline. Every screen is scanned by axe-core (no violation at all); the desk's screenshot is the README's.
"""

import dataclasses
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, expect

from wegweiser.casework.testing import STUTTGART, bearer, walk_in
from wegweiser.common import events
from wegweiser.common.envelope import encode
from wegweiser.common.testing.browser import Journey, retry_all_dead_letters, serve
from wegweiser.common.testing.kafka import produce

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOT = Path(__file__).resolve().parents[4] / "docs" / "screenshots" / "casework-admin-desk.png"


@pytest.fixture
def service(database_url: str, casework_env: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    with serve("casework", database_url, casework_env, tmp_path / "casework.log") as url:
        yield url


def poison() -> Any:
    """An arrival of Stuttgart whose body intake could never have sent: dead-lettered at once."""
    registered = events.ArrivalRegistered(
        ags=STUTTGART,
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="KAPUTT-1",
        allocation_date=dt.date.today(),
        persons=(
            events.ArrivedPerson(person_id=uuid.uuid4(), role="head", family_name="X", given_names="Y"),
        ),
    )
    return dataclasses.replace(encode(registered), value=b'{"ags": "08111000", "arrival_id": "kaputt"}')


async def test_the_admin_desk_and_the_supervisors_deadlines_in_the_browser(
    service: str, browser: BrowserContext, casework_env: dict[str, Any], dev_keys: Path
) -> None:
    near = dt.date.today().replace(year=dt.date.today().year - 3) + dt.timedelta(days=20)
    family = f"Fristnah-{uuid.uuid4().hex[:5]}"
    async with httpx.AsyncClient(base_url=service) as api:
        opened = await api.post("/v1/cases", headers=bearer(dev_keys), json=walk_in(family, opened_on=near))
        assert opened.status_code == 201, opened.text
    await produce(casework_env["kafka_bootstrap_servers"], poison(), poison())

    page = await browser.new_page()
    journey = Journey(page, "casework-admin")
    await page.goto(f"{service}/login")
    await page.get_by_role("button", name="Anmelden als Plattform-Administration").click()
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    await expect(page).to_have_url(f"{service}/admin")  # the admin's landing page is the desk
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Verwaltung: Träger, Gemeinden und Personal"
    )
    await expect(page.get_by_role("region", name="Personal und Rollen")).to_contain_text("Andrea Weber")

    # Stuttgart's new arrivals go to Caritas from now on: first the wrong provider, then the right one.
    await page.get_by_label("Gemeinde", exact=True).select_option(STUTTGART)
    await page.get_by_label("Träger", exact=True).select_option("kreis-08426")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.locator("#f-provider_id-error")).to_contain_text("betreut die gewählte Gemeinde nicht")
    await journey.record("rule-refused")
    await page.get_by_label("Träger", exact=True).select_option("caritas-stuttgart")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Zuständigkeit wurde gespeichert.")
    await journey.record("admin-desk")
    await page.evaluate(
        "window.scrollTo(0, 0)"
    )  # the form's answer jumps to #rules; the README shows the top
    await page.screenshot(path=str(journey.artifacts / "desk.png"), full_page=False)

    # Deniz Yılmaz moves to Team Stuttgart-Nord.
    await page.get_by_role("link", name="Deniz Yılmaz ändern").click()
    await page.get_by_label("Team (optional)").select_option("s-nord")
    await journey.record("staff-form")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Die Angaben zur Person wurden gespeichert.")

    # The stuck records of Stuttgart, with their reason; retried with the municipality's button.
    await nav.get_by_role("link", name="Hängende Ereignisse").click()
    await retry_all_dead_letters(
        page, journey, ags=STUTTGART, municipality="Stuttgart", ce_type=events.ArrivalRegistered.ce_type()
    )
    await page.goto(f"{service}/admin/dlq?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Stuck events of casework")
    await journey.record("dead-letters-english")
    await page.goto(f"{service}/admin?lang=de")

    # The supervisor: caseload per counsellor and the cases near their deadline.
    await page.get_by_role("button", name="Abmelden").click()
    await page.get_by_role("button", name="Anmelden als Andrea Weber").click()
    await nav.get_by_role("link", name="Teams").click()
    deadlines = page.get_by_role("region", name="Fälle mit naher oder überschrittener Frist")
    await expect(deadlines).to_contain_text(f"{family}, Anna")
    await journey.record("deadlines")

    journey.assert_accessible(screens=7)
    assert journey.report()["by_impact"] == {}, journey.report()["violations"]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(journey.artifacts / "desk.png", SCREENSHOT)
