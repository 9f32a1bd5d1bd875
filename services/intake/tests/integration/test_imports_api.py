"""Spreadsheet uploads on real PostgreSQL: validated whole first, then imported in full (or resumed)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from openpyxl import Workbook
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from wegweiser.common.db import utcnow
from wegweiser.common.outbox import OUTBOX
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.topics import ARRIVALS
from wegweiser.intake.app import build
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.settings import IntakeSettings
from wegweiser.intake.upload_reader import XLSX_MEDIA_TYPE

pytestmark = pytest.mark.integration

Settings = Callable[..., IntakeSettings]
YESTERDAY = dt.date.today() - dt.timedelta(days=1)
HEADER = (
    "Aktenzeichen;Haushalt;Rolle;Familienname;Vornamen;Geburtsdatum;Geschlecht;Staatsangehörigkeit;Sprachen;"
    "Aufenthaltsstatus;Zielgemeinde (AGS);Zuweisungsdatum"
)


def csv_file(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("cp1252")


async def upload_csv(
    client: httpx.AsyncClient,
    authority: Any,
    content: bytes,
    *,
    path: str = "/v1/imports",
    language: str | None = None,
) -> httpx.Response:
    """Upload a CSV export as the reception authority's staff do (answers in ``language`` if given)."""
    headers = {"Content-Type": "text/csv"} | ({"Accept-Language": language} if language else {})
    return await client.post(path, content=content, headers=authority(**headers))


async def test_a_csv_export_is_imported_in_one_go(intake_settings: Settings, authority: Any) -> None:
    day = YESTERDAY.strftime("%d.%m.%Y")
    prefix = uuid.uuid4().hex[:6]
    content = csv_file(
        f"{prefix}-1;H1;Haushaltsvorstand;Haddad;Rania;00.03.1988;w;SY;ar;anerkannt;8111000;{day}",
        f";H1;Kind;Haddad;Omar;2016;m;SY;ar, de;anerkannt;8111000;{day}",
        f"{prefix}-2;;;Müller;Jana;17.04.1990;weiblich;UA;uk;§24;08111000;{YESTERDAY.isoformat()}",
    )
    async with running(build(intake_settings())) as client:
        response = await upload_csv(client, authority, content, path="/v1/imports?filename=liste.csv")
        assert response.status_code == 201, response.text
        job = response.json()
        assert (job["status"], job["rows_total"], job["households_total"], job["created"]) == (
            "completed",
            3,
            2,
            2,
        )
        assert job["percent"] == 100.0
        assert (await client.get(response.headers["location"], headers=authority())).json() == job
        first = (await client.get(f"/v1/arrivals?authority_reference={prefix}-1", headers=authority())).json()
        assert [p["given_names"] for p in first[0]["persons"]] == ["Rania", "Omar"]
        assert first[0]["persons"][0]["date_of_birth"] == "1988-03"
        assert first[0]["persons"][1]["languages"] == ["ar", "de"]
        second = (
            await client.get(f"/v1/arrivals?authority_reference={prefix}-2", headers=authority())
        ).json()
        assert second[0]["persons"][0]["residence_status"] == "temporary_protection_24"
        again = await upload_csv(client, authority, content)
        assert again.json()["existing"] == 2 and again.json()["created"] == 0


async def test_a_broken_file_imports_nothing_and_reports_every_row(
    intake_settings: Settings, authority: Any
) -> None:
    day = YESTERDAY.strftime("%d.%m.%Y")
    prefix = uuid.uuid4().hex[:6]
    content = csv_file(
        f"{prefix}-1;;;Haddad;Rania;1988;w;SY;ar;anerkannt;08111000;{day}",
        f"{prefix}-2;;;Karimi;;31.02.1990;x;Afghanistan;fa;Asyl?;08111000;morgen",
        f"{prefix}-3;;;Ivanova;Olena;1979;w;UA;uk;§24;08115003;{day}",
    )
    async with running(build(intake_settings())) as client:
        response = await upload_csv(client, authority, content)
        english = await upload_csv(client, authority, content, language="en")
        assert response.status_code == 422, response.text
        problem = response.json()
        cells = {(e["row"], e["column"]) for e in problem["errors"]}
        assert cells == {
            (3, "Vornamen"),
            (3, "Geburtsdatum"),
            (3, "Staatsangehörigkeit"),
            (3, "Aufenthaltsstatus"),
            (3, "Zuweisungsdatum"),
            (4, "Zielgemeinde (AGS)"),
        }, problem["errors"]
        assert len(problem["errors"]) == len(cells), "one message per cell"
        assert "nichts wurde importiert" in problem["detail"]
        assert "nothing was imported" in english.json()["detail"]
        nothing = await client.get(f"/v1/arrivals?authority_reference={prefix}-1", headers=authority())
        assert nothing.json() == []
        missing = await upload_csv(client, authority, b"Name;Vorname\nA;B\n")
        assert {e["column"] for e in missing.json()["errors"]} == {
            "Aktenzeichen",
            "Zielgemeinde (AGS)",
            "Zuweisungsdatum",
            "Familienname",
        }, "'Vorname' is an accepted header, 'Name' is not"
        wrong_type = await client.post("/v1/imports", content=b"{}", headers=authority())
        assert wrong_type.status_code == 415


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["Aktenzeichen", "Familienname", "Vornamen", "Geburtsdatum", "Zielgemeinde (AGS)", "Zuweisungsdatum"]
    )
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_large_file_becomes_a_job_with_progress(intake_settings: Settings, authority: Any) -> None:
    prefix = uuid.uuid4().hex[:6]
    content = xlsx(
        [
            [f"{prefix}-{i}", "Nowak", f"Anna{i}", dt.date(1990, 1, 1 + i), 8111000, YESTERDAY]
            for i in range(7)
        ]
    )
    settings = intake_settings(import_sync_max_households=2, import_chunk_households=3)
    async with running(build(settings)) as client:
        response = await client.post(
            "/v1/imports", content=content, headers=authority(**{"Content-Type": XLSX_MEDIA_TYPE})
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued" and response.json()["rows_total"] == 7

        async def finished() -> dict[str, Any] | None:
            job = (await client.get(response.headers["location"], headers=authority())).json()
            return job if job["status"] == "completed" else None

        job = await eventually(finished, timeout_s=30, what="import completed")
        assert job is not None
        assert (job["rows_done"], job["households_done"], job["created"]) == (7, 7, 7)
        last = (await client.get(f"/v1/arrivals?authority_reference={prefix}-6", headers=authority())).json()
        assert last[0]["persons"][0]["date_of_birth"] == "1990-01-07"


async def test_a_jobs_arrivals_continue_the_trace_of_the_upload(
    intake_settings: Settings, authority: Any, spans: InMemorySpanExporter
) -> None:
    prefix = uuid.uuid4().hex[:6]
    content = xlsx(
        [[f"{prefix}-{i}", "Nowak", f"Ewa{i}", dt.date(1991, 2, 1 + i), 8111000, YESTERDAY] for i in range(4)]
    )
    app = build(intake_settings(import_sync_max_households=1, import_chunk_households=2))
    async with running(app) as client:
        response = await client.post(
            "/v1/imports", content=content, headers=authority(**{"Content-Type": XLSX_MEDIA_TYPE})
        )
        assert response.status_code == 202, response.text

        async def finished() -> bool:
            job = (await client.get(response.headers["location"], headers=authority())).json()
            return job["status"] == "completed"

        await eventually(finished, timeout_s=30, what="import completed")
        async with app.state.runtime.sessions() as session:
            rows = (await session.execute(select(OUTBOX.c.topic, OUTBOX.c.headers))).all()
    (upload,) = [
        s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER and s.name == "POST /v1/imports"
    ]
    assert upload.context is not None
    (job,) = [s for s in spans.get_finished_spans() if s.name == "intake import job"]
    assert job.context is not None and job.context.trace_id == upload.context.trace_id
    assert job.parent is not None and job.parent.span_id == upload.context.span_id
    # Every record of the job (arrivals, facts, person keys) carries the upload's trace: one flow from there.
    assert sum(topic == ARRIVALS.name for topic, _ in rows) == 4
    assert {dict(headers)["traceparent"].split("-")[1] for _, headers in rows} == {
        f"{upload.context.trace_id:032x}"
    }


async def test_a_job_interrupted_by_a_crash_resumes_where_its_last_chunk_committed(
    intake_settings: Settings, authority: Any, household: Any
) -> None:
    prefix = uuid.uuid4().hex[:6]
    documents = [household(f"{prefix}-{i}") for i in range(3)]
    app = build(intake_settings(import_chunk_households=1))
    async with running(app) as client:
        first = await client.post("/v1/arrivals", json=documents[0], headers=authority())
        # The state a crash leaves: chunk 1 committed with the job's progress, the lease run out.
        runtime = app.state.runtime
        now = utcnow()
        job = ImportJob(
            import_id=uuid.uuid4(),
            authority_id="uab-08111",
            uploaded_by="sb",
            media_type="text/csv",
            status="running",
            rows_total=6,
            households_total=3,
            rows_done=2,
            households_done=1,
            created=1,
            created_at=now,
            updated_at=now,
        )
        payload = orjson.dumps([{"rows": 2, "arrival": d} for d in documents]).decode()
        async with runtime.unit_of_work() as uow:
            uow.imports.add(job, payload=payload)
            await uow.commit()
            await uow.imports.save(job, lease_until=now - dt.timedelta(seconds=1))
            await uow.commit()
        app.state.imports.wake()

        async def finished() -> dict[str, Any] | None:
            status = (await client.get(f"/v1/imports/{job.import_id}", headers=authority())).json()
            return status if status["status"] == "completed" else None

        done = await eventually(finished, timeout_s=30, what="import resumed")
        assert done is not None
        assert (done["households_done"], done["rows_done"], done["created"], done["existing"]) == (3, 6, 3, 0)
        again = await client.get(f"/v1/arrivals?authority_reference={prefix}-0", headers=authority())
        assert [a["arrival_id"] for a in again.json()] == [first.json()["arrival_id"]]


async def test_an_upload_with_a_bidi_control_in_a_name_reports_that_row(
    intake_settings: Settings, authority: Any
) -> None:
    day = YESTERDAY.strftime("%d.%m.%Y")
    prefix = uuid.uuid4().hex[:6]
    content = (
        "\n".join(
            [
                HEADER,
                f"{prefix}-1;;;Ne\u0301meth;Zsófia;1988;w;HU;hu;anerkannt;08111000;{day}",
                f"{prefix}-2;;;Haddad\u202e;Rania;1988;w;SY;ar;anerkannt;08111000;{day}",
            ]
        )
        + "\n"
    ).encode()
    async with running(build(intake_settings())) as client:
        response = await upload_csv(client, authority, content)
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert (error["row"], error["column"]) == (3, "Familienname")
        assert error["message"].startswith("Unsichtbares Steuerzeichen U+202E")

        fixed = content.replace("\u202e".encode(), b"")
        imported = await upload_csv(client, authority, fixed)
        assert imported.status_code == 201, imported.text
        found = await client.get(f"/v1/arrivals?authority_reference={prefix}-1", headers=authority())
        assert found.json()[0]["persons"][0]["family_name"] == "Németh"
