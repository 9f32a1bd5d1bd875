"""A reception authority's clerk in a real browser: Debian's Chromium, driven by Playwright, against intake.

Sign in, download the template, upload a file with one bad row, read the error report, download the
failed rows, import the valid rows (the progress bar shows meanwhile) and see the arrivals created;
an axe-core scan of every screen (no serious or critical violation) and a screenshot of every step in
``artifacts/intake-browser/`` (git-ignored).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from playwright.async_api import BrowserContext, expect

from wegweiser.common import devtokens
from wegweiser.common.testing.browser import Journey, expect_login_page, serve

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def service(database_url: str, service_env: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    """intake as people run it (``python -m wegweiser.intake``) on its own port and database."""
    with serve("intake", database_url, service_env, tmp_path / "intake.log") as url:
        yield url


def file_from_template(template: bytes, prefix: str) -> bytes:
    """The template's example made unique, one more good household, and one row with a bad sex."""
    sheet = load_workbook(io.BytesIO(template)).worksheets[0]
    header = [c.value for c in sheet[1]]
    example = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    good = {**example, "Aktenzeichen": f"{prefix}-1", "Haushalt": "H1"}
    second = {
        **example,
        "Aktenzeichen": f"{prefix}-2",
        "Haushalt": "H2",
        "Familienname": "Müller",
        "Vornamen": "Jana",
    }
    bad = {
        **example,
        "Aktenzeichen": f"{prefix}-3",
        "Haushalt": "H3",
        "Familienname": "Petrenko",
        "Geschlecht": "Q",
    }
    book = Workbook()
    out = book.active
    assert out is not None
    out.append(header)
    for row in (good, second, bad):
        out.append([row[h] for h in header])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_a_clerk_uploads_a_file_in_the_browser(
    service: str, browser: BrowserContext, dev_keys: Path, tmp_path: Path
) -> None:
    prefix = f"UAB-{uuid.uuid4().hex[:6]}"
    page = await browser.new_page()
    journey = Journey(page, "intake")

    # Sign in on the development login page.
    await expect_login_page(page, f"{service}/upload")
    await journey.record("login")
    await page.get_by_role("button", name="Anmelden als Sabine Keller").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Zuweisungen hochladen")
    await journey.record("upload")

    # Download the template: the headings and one example row.
    async with page.expect_download() as template_download:
        await page.get_by_role("link", name="Vorlage herunterladen (Excel)").click()
    template_path = tmp_path / "vorlage.xlsx"
    await (await template_download.value).save_as(template_path)
    template = template_path.read_bytes()
    assert len(list(load_workbook(io.BytesIO(template)).worksheets[0].iter_rows())) == 2

    # Upload a file with one bad row: the report names row, column, what is wrong and what is right.
    upload_path = tmp_path / "zuweisungen-dezember.xlsx"
    upload_path.write_bytes(file_from_template(template, prefix))
    await page.get_by_label("Datei (CSV oder Excel)").set_input_files(upload_path)
    await page.get_by_role("button", name="Datei prüfen und importieren").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Fehlerbericht: zuweisungen-dezember.xlsx"
    )
    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("1 Fehler in 1 von 3 Zeilen; nichts wurde importiert.")
    assert await page.evaluate("document.activeElement.id") == "error-summary"
    row = page.locator("#e-1")
    await expect(row).to_contain_text("4")  # the header is row 1
    await expect(row).to_contain_text("Geschlecht")
    await expect(row).to_contain_text("Unbekannte Angabe 'Q' für Geschlecht")
    await expect(row).to_contain_text("w, m, d oder u")
    await summary.get_by_role("link").first.click()
    await expect(row).to_be_focused()
    await journey.record("report")

    # Download the failed rows to correct them.
    async with page.expect_download() as failed_download:
        await page.get_by_role("button", name="Fehlerhafte Zeilen herunterladen (1 von 3 Zeilen)").click()
    failed_path = tmp_path / (await failed_download.value).suggested_filename
    await (await failed_download.value).save_as(failed_path)
    assert failed_path.name == "zuweisungen-dezember-fehlerhafte-zeilen.xlsx"
    failed = [[c.value for c in r] for r in load_workbook(failed_path).worksheets[0].iter_rows()]
    assert failed[0][-1] == "Fehler" and len(failed) == 2
    assert failed[1][0] == f"{prefix}-3" and "Geschlecht" in failed[1][-1]

    # Import the valid rows; the progress bar shows while the request runs. The test holds the form
    # back once (Playwright cannot read a page whose navigation is pending), then sends it.
    form = 'document.getElementById("choice")'
    await page.evaluate(f"{form}.addEventListener('submit', e => e.preventDefault(), {{once: true}})")
    await page.get_by_role(
        "button", name="Nur die gültigen Zeilen importieren (2 von 3 Zeilen, Haushalte: 2)"
    ).click()
    busy = page.locator("#upload-progress")
    await expect(busy).to_be_visible()
    await expect(busy.get_by_role("progressbar", name="Fortschritt")).to_be_visible()
    await expect(busy.get_by_role("status")).to_have_text("Die Datei wird hochgeladen und geprüft …")
    await journey.record("importing")
    await page.evaluate(f"{form}.submit()")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Import abgeschlossen: zuweisungen-dezember.xlsx"
    )
    bar = page.get_by_role("progressbar", name="Fortschritt")
    assert await bar.get_attribute("value") == "100.0"
    assert await bar.get_attribute("aria-valuetext") == "2 von 2 Zeilen"
    await expect(page.locator(".kern-alert--success")).to_contain_text(
        "2 Zuweisungen neu angelegt, 0 waren schon vorhanden"
    )
    arrivals = page.locator("#arrivals")
    await expect(arrivals).to_contain_text(f"{prefix}-1")
    await expect(arrivals).to_contain_text("Müller, Jana")
    await expect(arrivals).not_to_contain_text(f"{prefix}-3")
    await journey.record("imported")

    # The API sees the same two arrivals, and none of the bad row.
    token = devtokens.mint(
        subject="check",
        roles=["reception_authority"],
        key_dir=dev_keys,
        authority_id="uab-08111",
        ags=["08111000"],
    )
    async with httpx.AsyncClient(base_url=service, headers={"Authorization": f"Bearer {token}"}) as api:
        found = [
            len((await api.get("/v1/arrivals", params={"authority_reference": f"{prefix}-{n}"})).json())
            for n in (1, 2, 3)
        ]
    assert found == [1, 1, 0]

    # The corrected failed rows complete the file; nothing is created twice.
    book = load_workbook(failed_path)
    book.worksheets[0].cell(row=2, column=failed[0].index("Geschlecht") + 1, value="w")
    corrected = tmp_path / "korrigiert.xlsx"
    book.save(corrected)
    await page.get_by_role("link", name="Weitere Datei hochladen").click()
    await page.get_by_label("Datei (CSV oder Excel)").set_input_files(corrected)
    await page.get_by_role("button", name="Datei prüfen und importieren").click()
    await expect(page.locator(".kern-alert--success")).to_contain_text("1 Zuweisungen neu angelegt")
    await page.get_by_role("link", name="Weitere Datei hochladen").click()
    await page.get_by_label("Datei (CSV oder Excel)").set_input_files(upload_path)
    await page.get_by_role("button", name="Datei prüfen und importieren").click()
    await page.get_by_role(
        "button", name="Nur die gültigen Zeilen importieren (2 von 3 Zeilen, Haushalte: 2)"
    ).click()
    await expect(page.locator(".kern-alert--success")).to_contain_text(
        "0 Zuweisungen neu angelegt, 2 waren schon vorhanden"
    )

    # The same page in English.
    await page.goto(f"{service}/upload?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Upload allocations")
    await page.get_by_role("button", name="Check and import the file").click()
    await expect(page.locator("#f-file-error")).to_have_text("Please choose a file.")
    await journey.record("upload-error-english")

    journey.assert_accessible(screens=6)
