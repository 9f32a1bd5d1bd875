"""The upload page on real PostgreSQL: sign-in, template, error report, failed rows, valid rows, twice."""

from __future__ import annotations

import asyncio
import base64
import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from wegweiser.common.testing.apps import running
from wegweiser.intake.app import build
from wegweiser.intake.settings import IntakeSettings
from wegweiser.intake.upload_reader import XLSX_MEDIA_TYPE
from wegweiser.intake.web.clerks import DEV_CLERKS

pytestmark = pytest.mark.integration

Settings = Callable[..., IntakeSettings]
DAY = (dt.date.today() - dt.timedelta(days=1)).strftime("%d.%m.%Y")
HEADER = (
    "Aktenzeichen;Haushalt;Rolle;Familienname;Vornamen;Geburtsdatum;Geschlecht;Zielgemeinde (AGS);"
    "Zuweisungsdatum"
)


def csv_file(prefix: str, *, bad_sex: str = "Q") -> bytes:
    """Two good households (one of two persons) and a third with an unknown sex in its row 5."""
    rows = [
        HEADER,
        f"{prefix}-1;H1;Haushaltsvorstand;Haddad;Rania;1988;w;08111000;{DAY}",
        f";H1;Kind;Haddad;Omar;2016;m;08111000;{DAY}",
        f"{prefix}-2;;;Müller;Jana;17.04.1990;w;08111000;{DAY}",
        f"{prefix}-3;;;Petrenko;Olena;1975;{bad_sex};08111000;{DAY}",
    ]
    return ("\n".join(rows) + "\n").encode()


async def sign_in(client: httpx.AsyncClient) -> str:
    """The development login as the Stuttgart clerk; returns the page's CSRF token."""
    response = await client.post("/login", data={"subject": DEV_CLERKS[0].subject, "next": "/upload"})
    assert response.status_code == 303 and response.headers["location"] == "/upload"
    assert "wegweiser_intake_session" in response.cookies  # apart from casework's on the same host
    page = await client.get("/upload")
    assert page.status_code == 200
    return csrf_of(page.text)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, html[:500]
    return match.group(1)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match
    return match.group(1)


async def upload(
    client: httpx.AsyncClient, csrf: str, content: bytes, name: str = "liste.csv"
) -> httpx.Response:
    return await client.post("/upload", data={"csrf": csrf}, files={"file": (name, content, "text/csv")})


async def test_pages_need_a_session_and_the_login_lists_the_clerks(intake_settings: Settings) -> None:
    async with running(build(intake_settings())) as client:
        response = await client.get("/upload")
        assert (response.status_code, response.headers["location"]) == (303, "/login?next=/upload")
        login = await client.get("/login?next=/upload")
        assert 'lang="de"' in login.text and "Anmelden als Sabine Keller" in login.text
        assert "<script>" not in login.text  # only static script files
        english = await client.get("/login?lang=en")
        assert 'lang="en"' in english.text and "Sign in as Sabine Keller" in english.text
        refused = await client.post("/login", data={"subject": "nobody"})
        assert refused.headers["location"] == "/login" and "set-cookie" not in refused.headers


async def test_no_development_login_with_an_identity_provider(intake_settings: Settings) -> None:
    async with running(build(intake_settings(dev_login=False))) as client:
        assert "Entwicklungsanmeldung ist ausgeschaltet" in (await client.get("/login")).text
        response = await client.post("/login", data={"subject": DEV_CLERKS[0].subject})
        assert "set-cookie" not in response.headers


async def test_the_template_reads_back_without_errors(intake_settings: Settings) -> None:
    async with running(build(intake_settings())) as client:
        csrf = await sign_in(client)
        xlsx = await client.get("/upload/template.xlsx")
        assert xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
        assert "zuweisungen-vorlage.xlsx" in xlsx.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
        header, example = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
        assert header[:3] == ["Aktenzeichen", "Haushalt", "Rolle"] and example[0] == "UAB-2026-0001"
        assert example[header.index("Zielgemeinde (AGS)")] == "08111000"
        text = (await client.get("/upload/template.csv")).content.decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == 2
        # The example itself is valid: uploaded, it is imported (a fresh database, so created once).
        result = await client.post(
            "/upload", data={"csrf": csrf}, files={"file": ("vorlage.xlsx", xlsx.content, XLSX_MEDIA_TYPE)}
        )
        assert result.status_code == 200, result.text
        assert "1 Zuweisungen neu angelegt, 0 waren schon vorhanden" in result.text


async def test_a_file_with_errors_imports_nothing_until_the_clerk_chooses(
    intake_settings: Settings, authority: Any
) -> None:
    prefix = uuid.uuid4().hex[:6]
    async with running(build(intake_settings())) as client:
        csrf = await sign_in(client)
        report = await upload(client, csrf, csv_file(prefix))
        assert report.status_code == 422
        html = report.text
        assert "1 Fehler in 1 von 4 Zeilen; nichts wurde importiert." in html
        assert 'href="#e-1"' in html and 'id="e-1"' in html  # the summary links to the table row
        assert "Unbekannte Angabe &#39;Q&#39; für Geschlecht" in html
        assert "w, m, d oder u" in html  # what would be right
        assert "Nur die gültigen Zeilen importieren (3 von 4 Zeilen, Haushalte: 2)" in html
        assert await registered(client, prefix, authority()) == 0

        assert html.count('name="content"') == 1  # one form carries the file back for both choices
        carried = {k: hidden(html, k) for k in ("csrf", "filename", "media_type", "content")}
        assert base64.b64decode(carried["content"]) == csv_file(prefix)
        failed = await client.post("/upload/failed-rows", data=carried)
        assert failed.status_code == 200
        assert "liste-fehlerhafte-zeilen.csv" in failed.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(failed.content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][-1] == "Fehler" and len(rows) == 2
        assert rows[1][:2] == [f"{prefix}-3", ""] and "Geschlecht" in rows[1][-1]

        imported = await client.post("/upload/import", data=carried)
        assert imported.status_code == 200, imported.text
        assert "2 Zuweisungen neu angelegt, 0 waren schon vorhanden" in imported.text
        assert f"{prefix}-1" in imported.text and "Haddad, Omar" in imported.text
        assert f"{prefix}-3" not in imported.text
        assert await registered(client, prefix, authority()) == 2

        # The corrected failed rows ("Fehler" column and all) come back and complete the file.
        corrected = failed.content.decode("utf-8-sig").replace(";Q;", ";w;").encode()
        again = await upload(client, csrf, corrected, "liste-fehlerhafte-zeilen.csv")
        assert "1 Zuweisungen neu angelegt" in again.text, again.text
        assert await registered(client, prefix, authority()) == 3


async def test_the_same_file_twice_creates_nothing_twice(intake_settings: Settings, authority: Any) -> None:
    prefix = uuid.uuid4().hex[:6]
    content = csv_file(prefix, bad_sex="w")
    async with running(build(intake_settings())) as client:
        csrf = await sign_in(client)
        first = await upload(client, csrf, content)
        assert "3 Zuweisungen neu angelegt, 0 waren schon vorhanden" in first.text
        second = await upload(client, csrf, content)
        assert "0 Zuweisungen neu angelegt, 3 waren schon vorhanden" in second.text
        assert await registered(client, prefix, authority()) == 3


async def test_refusals_are_shown_beside_the_file_field(intake_settings: Settings) -> None:
    async with running(build(intake_settings(import_max_bytes=2048))) as client:
        csrf = await sign_in(client)
        wrong = await client.post(
            "/upload", data={"csrf": csrf}, files={"file": ("a.pdf", b"%PDF", "application/pdf")}
        )
        assert wrong.status_code == 422
        assert 'href="#f-file"' in wrong.text and 'aria-invalid="true"' in wrong.text
        assert "weder CSV noch Excel" in wrong.text
        big = await upload(client, csrf, b"x" * 4000)
        assert big.status_code == 422 and "größer als 1 MB" in big.text
        none = await client.post("/upload", data={"csrf": csrf}, files={"file": ("", b"", "text/csv")})
        assert "Bitte wählen Sie eine Datei aus." in none.text
        forged = await upload(client, "0" * 32, csv_file("x"))
        assert forged.status_code == 400
        english = await client.post(
            "/upload?lang=en", data={"csrf": csrf}, files={"file": ("a.pdf", b"%PDF", "application/pdf")}
        )
        assert "neither CSV nor Excel" in english.text


async def test_a_large_file_becomes_a_job_with_a_progress_page(
    intake_settings: Settings, authority: Any
) -> None:
    prefix = uuid.uuid4().hex[:6]
    async with running(build(intake_settings(import_sync_max_households=1, import_poll_s=0.2))) as client:
        csrf = await sign_in(client)
        queued = await upload(client, csrf, csv_file(prefix, bad_sex="w"))
        assert queued.status_code == 303
        page_url = queued.headers["location"]
        assert page_url.startswith("/upload/imports/")
        page = await client.get(page_url)
        assert page.status_code == 200 and 'id="import-progress-bar"' in page.text
        for _ in range(100):
            progress = (await client.get(f"{page_url}/progress")).json()
            if progress["status"] == "completed":
                break
            await asyncio.sleep(0.1)
        assert progress == {"status": "completed", "percent": 100.0, "text": "4 von 4 Zeilen"}
        done = await client.get(page_url)
        assert "3 Zuweisungen neu angelegt" in done.text and 'value="100.0"' in done.text
        assert "4 von 4 Zeilen (100 %)" in done.text
        # Another authority's clerk does not see the job.
        await client.post("/logout", data={"csrf": csrf})
        await client.post("/login", data={"subject": DEV_CLERKS[1].subject})
        assert (await client.get(page_url)).status_code == 404


async def registered(client: httpx.AsyncClient, prefix: str, headers: dict[str, str]) -> int:
    """How many of the file's three households the API finds."""
    found = 0
    for n in (1, 2, 3):
        response = await client.get(f"/v1/arrivals?authority_reference={prefix}-{n}", headers=headers)
        assert response.status_code == 200, response.text
        found += len(response.json())
    return found
