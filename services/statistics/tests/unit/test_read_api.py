"""The read side over HTTP: the real app and its published cells on a temporary SQLite file, no broker.

Events go through the projection's writer and the publisher as in production; only Kafka is left out
(the app's lifespan never runs, so no consumer or publisher task starts).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from statistics_builders import arrival, consultation, project

from wegweiser.common import devtokens, events
from wegweiser.common.web_security import PAGE_POLICY
from wegweiser.statistics.app import build
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.settings import StatisticsSettings

STUTTGART, AIDLINGEN = "08111000", "08115001"
TODAY = dt.date(2025, 12, 15)
PROBLEM = "application/problem+json"


def history() -> list[events.Event]:
    """2025: 7 persons allocated to Stuttgart, 2 to Aidlingen; 6 consultations in Stuttgart."""
    case = uuid.uuid4()
    return [
        arrival(STUTTGART, "2025-03-10", 4),
        arrival(STUTTGART, "2025-03-20", 3),
        arrival(AIDLINGEN, "2025-03-05", 2),
        events.CaseOpened(
            ags=STUTTGART,
            case_id=case,
            provider_id="traeger",
            allocation_date=dt.date(2025, 3, 10),
            opened_on=dt.date(2025, 3, 12),
            household_size=4,
        ),
        consultation(STUTTGART, case, "2025-03-14", "erstgespraech"),
        *(consultation(STUTTGART, case, f"2025-0{m}-02", "folgeberatung") for m in range(4, 9)),
    ]


class Api:
    def __init__(
        self, client: httpx.AsyncClient, transport: httpx.ASGITransport, dev_keys: Path, workers: Workers
    ) -> None:
        self.client = client
        self.transport = transport
        self.workers = workers
        self.reader = self.bearer(dev_keys, "statistics_reader")
        self.admin = self.bearer(dev_keys, "admin")
        self.counsellor = self.bearer(dev_keys, "counsellor")

    @staticmethod
    def bearer(dev_keys: Path, role: str) -> dict[str, str]:
        token = devtokens.mint(subject=f"t-{role}", roles=[role], key_dir=dev_keys)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, headers=self.reader if headers is None else headers, **kwargs)


@pytest.fixture(scope="module")
async def api(tmp_path_factory: pytest.TempPathFactory, dev_keys: Path) -> AsyncIterator[Api]:
    database = tmp_path_factory.mktemp("statistics-api") / "statistics.db"
    settings = StatisticsSettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        auth_jwks_url=(dev_keys / "jwks.json").as_uri(),
        kafka_bootstrap_servers="127.0.0.1:9",  # never contacted: no lifespan, no consumer
    )
    app = build(settings, today=lambda: TODAY)
    workers: Workers = app.state.workers
    runtime = workers.runtime
    app.state.auth = runtime.auth  # what the runtime's lifespan would do
    await runtime.migrate()
    generation = (await workers.generations.create(live_offsets={})).id
    await project(workers, generation, *history())
    await workers.publisher.publish(generation, feed=False)
    await workers.generations.switch(generation)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://statistics") as client:
        yield Api(client, transport, dev_keys, workers)
    await runtime.db.dispose()


def rows(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {r["region"]["code"]: r["values"] for r in response.json()["rows"]}


async def test_the_catalogue_lists_every_indicator_in_the_callers_language(api: Api) -> None:
    german = (await api.get("/v1/indicators")).json()
    english = (await api.get("/v1/indicators", {**api.reader, "Accept-Language": "en"})).json()
    assert german["periods"] == {"first": "2017-01", "last": "2025-12"}
    assert german["threshold"] == 5 and german["generation"] == 1
    by_id = {i["id"]: i for i in german["indicators"]}
    assert by_id["arrivals"]["name"] == "Zugewiesene Personen"
    assert {i["id"]: i["name"] for i in english["indicators"]}["arrivals"] == "Persons allocated"
    assert by_id["referral_outcomes_by_programme"]["lowest_level"] == "regierungsbezirk"


async def test_a_table_shows_suppressed_cells_as_a_dot_and_the_total_that_is_safe(api: Api) -> None:
    table = rows(await api.get("/v1/indicators/arrivals?region=08&level=kreis&period=2025"))
    # Böblingen's 2 is below the threshold; Stuttgart's 7 would give it away (9 - 7): both hidden.
    assert table["08"] == {"total": 9}
    assert table["08111"] == {"total": "."} and table["08115"] == {"total": "."}
    assert table["08116"] == {"total": 0}  # no arrivals is a published 0, not a gap


async def test_each_hidden_cell_says_why_in_json_and_csv(api: Api) -> None:
    response = await api.get("/v1/indicators/arrivals?region=08&level=kreis&period=2025")
    reasons = {r["region"]["code"]: r["suppressed_reasons"] for r in response.json()["rows"]}
    # Böblingen's 2 is too small itself; Stuttgart's 7 is hidden so that 9 - 7 does not give it away.
    assert reasons["08115"] == {"total": "too_small"}
    assert reasons["08111"] == {"total": "protects_other"}
    assert reasons["08"] == {} and reasons["08116"] == {}  # shown values have no reason
    legend = response.json()["legend"]
    assert legend["too_small"].startswith("zu klein: weniger als 5 Fälle")
    assert legend["protects_other"] == "geschützt, damit kein kleiner Wert aus Summen errechnet werden kann"
    english = await api.get(response.request.url.raw_path.decode(), {**api.reader, "Accept-Language": "en"})
    assert english.json()["legend"]["protects_other"].startswith("protected: hidden so that")

    csv = await api.get("/v1/indicators/arrivals?region=08&level=kreis&period=2025&format=csv")
    lines = {line.split(";")[0]: line.split(";") for line in csv.content.decode("utf-8-sig").splitlines()}
    assert lines["Regionalschlüssel"][4:] == ["Personen", "Personen: Geheimhaltung", "Datenstand"]
    assert lines["08115"][4:6] == [".", "zu klein"]
    assert lines["08111"][4:6] == [".", "geschützt"]
    assert lines["08"][4:6] == ["9", ""]
    csv_en = await api.get(csv.request.url.raw_path.decode(), {**api.reader, "Accept-Language": "en"})
    english_lines = {
        row[0]: row for row in (line.split(";") for line in csv_en.content.decode("utf-8-sig").splitlines())
    }
    assert english_lines["Code"][5] == "Persons: suppression"
    assert english_lines["08111"][4:6] == [".", "protects another"]
    assert english_lines["08115"][4:6] == [".", "too small"]


async def test_the_dashboard_table_marks_why_a_cell_is_hidden(api: Api) -> None:
    page = (await api.get("/dashboard?indicator=arrivals&region=08&period=2025")).text
    assert '.<sup title="zu klein">1</sup>' in page and '.<sup title="geschützt">2</sup>' in page
    assert "= geschützt, damit kein kleiner Wert aus Summen errechnet werden kann" in page
    quiet = (await api.get("/dashboard?indicator=arrivals&region=08&period=2024")).text
    assert "<sup title=" not in quiet and "t-reasons" not in quiet  # nothing hidden in 2024: no footnote


async def test_breakdowns_hide_each_other_and_start_at_the_kreis(api: Api) -> None:
    table = rows(await api.get("/v1/indicators/consultations_by_type?region=081&period=2025"))
    # One first consultation (suppressed) and five follow-ups: the total minus 5 would reveal the 1.
    assert table["08111"]["total"] == 6
    assert table["08111"]["erstgespraech"] == "." and table["08111"]["folgeberatung"] == "."
    assert table["08111"]["kurzberatung"] == 0
    by_municipality = rows(await api.get("/v1/indicators/consultations_by_type?region=08111&period=2025"))
    assert by_municipality[STUTTGART] == {"total": 6}


async def test_csv_and_xlsx_carry_the_same_cells(api: Api) -> None:
    csv = await api.get("/v1/indicators/arrivals?region=08&period=2025&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="arrivals_08_kreis_2025.csv"' in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Regionalschlüssel;Region;Ebene;Zeitraum;Personen;Personen: Geheimhaltung;Datenstand"
    land = next(line for line in lines if line.startswith("08;"))
    assert land.startswith("08;Baden-Württemberg;Land;2025;9;;20")  # the Datenstand: when it was published
    xlsx = await api.get("/v1/indicators/arrivals?region=08&period=2025&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["Tabelle"]
    values = {row[0].value: row[4].value for row in sheet.iter_rows(min_row=4)}
    assert values["08"] == 9 and values["08111"] == "."


async def test_the_legacy_single_cell_sums_the_published_years(api: Api) -> None:
    legacy = (await api.get(f"/v1/indicators/consultations?ags={STUTTGART}&year=2025")).json()
    assert legacy == {
        "indicator": "consultations",
        "region": STUTTGART,
        "period": "2025",
        "value": 6,
        "suppressed": False,
    }
    outside = await api.get(f"/v1/indicators/consultations?ags={STUTTGART}&year=2016")
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "year"
    unknown = await api.get("/v1/indicators/consultations?ags=09999999")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ags"


# Bad queries that the API and the dashboard's download both refuse, each on both.
SHARED_BAD_QUERIES = [("region=99999", "region"), ("period=0000", "period"), ("format=pdf", "format")]
ENDPOINTS = ("/v1/indicators/arrivals?", "/dashboard/download?indicator=arrivals&format=csv&")


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        *((endpoint + query, 422, field) for endpoint in ENDPOINTS for query, field in SHARED_BAD_QUERIES),
        ("/v1/indicators/beratungen", 404, None),
        ("/v1/indicators/arrivals?period=2024-13", 422, "period"),
        ("/v1/indicators/arrivals?period=2016", 422, "period"),
        ("/v1/indicators/arrivals?period=2026-Q1", 422, "period"),
        ("/v1/indicators/arrivals?region=08111&level=land", 422, "level"),
        ("/v1/indicators/referral_outcomes_by_programme?region=08111", 422, "level"),
        ("/v1/rebuilds/99999999999999999999", 422, "generation"),
        ("/v1/rebuilds/0", 422, "generation"),
        ("/v1/rebuilds/7", 404, None),
        ("/dashboard/download?indicator=beratungen&format=csv", 404, None),
        ("/dashboard/download?indicator=arrivals&format=csv&level=dorf", 422, "level"),
        ("/dashboard/fortschritt?generation=99999999999999999999", 422, "generation"),
    ],
)
async def test_unknown_or_malformed_parameters_are_problems_never_500(
    api: Api, url: str, status: int, field: str | None
) -> None:
    response = await api.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if field is not None:
        assert field in {e["field"].split(".")[-1] for e in response.json()["errors"]}


async def test_problems_speak_the_callers_language(api: Api) -> None:
    german = await api.get("/dashboard/download?indicator=beratungen&format=csv")
    assert german.json()["detail"] == "Unbekannter Indikator 'beratungen'"
    english = await api.get("/v1/indicators/beratungen", {**api.reader, "Accept-Language": "en"})
    assert english.json()["detail"] == "unknown indicator 'beratungen'"
    bad = await api.get("/v1/indicators/arrivals?region=99999", {**api.reader, "Accept-Language": "en"})
    assert bad.json()["detail"] == "unknown region '99999'"


async def test_the_download_of_a_known_table(api: Api) -> None:
    response = await api.get("/dashboard/download?indicator=arrivals&format=csv&region=08&period=2025")
    assert response.status_code == 200
    assert 'filename="arrivals_08_kreis_2025.csv"' in response.headers["content-disposition"]
    assert "08;Baden-Württemberg;Land;2025;9" in response.content.decode("utf-8-sig")


async def test_only_statistics_readers_and_admins_read(api: Api) -> None:
    assert (await api.get("/v1/indicators/arrivals", {})).status_code == 401
    assert (await api.get("/v1/indicators/arrivals", api.counsellor)).status_code == 403
    assert (await api.get("/v1/indicators/arrivals", api.admin)).status_code == 200
    assert (await api.get("/dashboard/download?indicator=arrivals&format=csv", {})).status_code == 401
    assert (await api.client.post("/v1/rebuilds", headers=api.reader)).status_code == 403
    assert (await api.client.post("/v1/publications", headers=api.reader)).status_code == 403


@pytest.mark.parametrize("region", ["08", "081", "08115", AIDLINGEN])
async def test_the_dashboard_renders_for_every_level_of_region(api: Api, region: str) -> None:
    page = await api.get(f"/dashboard?indicator=arrivals&region={region}&period=2025")
    assert page.status_code == 200, page.text
    assert '<html lang="de">' in page.text and "<svg" in page.text


async def test_the_dashboard_explains_a_bad_query_on_the_page(api: Api) -> None:
    page = await api.get("/dashboard?indicator=beratungen")
    assert page.status_code == 400 and "Unbekannter Indikator" in page.text
    page = await api.get("/dashboard?indicator=arrivals&period=1999")
    assert page.status_code == 400 and "außerhalb" in page.text


async def test_the_dashboard_signs_in_with_a_cookie_and_out_again(api: Api) -> None:
    token = api.reader["Authorization"].removeprefix("Bearer ")
    # A browser of its own: the cookie jar must not leak into the other tests' client.
    async with httpx.AsyncClient(transport=api.transport, base_url="http://statistics") as browser:
        assert (await browser.get("/dashboard")).status_code == 401
        signed_in = await browser.post("/dashboard/anmelden", data={"token": token})
        assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
        assert (await browser.get("/dashboard")).status_code == 200
        assert (await browser.get("/dashboard/fortschritt?generation=1")).status_code == 200
        signed_out = await browser.post("/dashboard/abmelden")
        assert signed_out.status_code == 303 and 'wegweiser_token=""' in signed_out.headers["set-cookie"]
        assert (await browser.get("/dashboard")).status_code == 401
    forbidden = api.counsellor["Authorization"].removeprefix("Bearer ")
    assert (await api.client.post("/dashboard/anmelden", data={"token": forbidden})).status_code == 403
    assert (await api.client.post("/dashboard/anmelden", data={"token": "nonsense"})).status_code == 401


async def test_projection_status_and_rebuild_progress(api: Api) -> None:
    status = (await api.get("/v1/projection")).json()
    assert status["active_generation"] == 1 and status["building_generation"] is None
    assert status["cells"] > 0 and status["suppressed_cells"] > 0
    progress = (await api.get("/v1/rebuilds/1")).json()
    assert progress["state"] == "active" and progress["percent"] == 100.0
    bar = await api.get("/dashboard/fortschritt?generation=1")
    assert bar.json()["generation"] == 1
    assert (await api.get("/dashboard/fortschritt?generation=5")).status_code == 404


async def test_published_rows_are_what_every_output_reads(api: Api) -> None:
    async with api.workers.runtime.db.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT value, suppressed FROM stat_g1_published "
                "WHERE family = 'arrivals' AND region = '08115' AND period = '2025'"
            )
        )
        assert [tuple(r) for r in result] == [(None, 1)]


async def test_the_dashboard_pages_run_under_the_security_headers_with_their_files(api: Api) -> None:
    page = await api.get("/dashboard?indicator=arrivals")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "/static/statistics/dashboard.css" in page.text
    for asset in ("dashboard.css", "dashboard.js", "login.css"):
        assert (await api.client.get(f"/static/statistics/{asset}")).status_code == 200
