"""Statistics on real Kafka and PostgreSQL: live projection, suppressed outputs, feed, and a rebuild that
publishes exactly what the incremental projection did."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from statistics_builders import arrival, consultation

from wegweiser.common import devtokens, events, topics
from wegweiser.common.envelope import OutgoingRecord, encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import create_topic, header, produce, read_all
from wegweiser.statistics.app import build
from wegweiser.statistics.projection.tables import NAMES, table_name
from wegweiser.statistics.settings import StatisticsSettings

pytestmark = pytest.mark.integration

E = TypeVar("E", bound=events.Event)

STUTTGART, AIDLINGEN, ALTDORF = "08111000", "08115001", "08115002"


class Fixture:
    """A small, hand-counted year 2025 in Stuttgart and two municipalities of Kreis Böblingen."""

    def __init__(self) -> None:
        self.items: list[tuple[events.Event, dt.datetime]] = []
        self.clock = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)

    def add(self, event: E, day: str) -> E:
        self.clock = max(
            self.clock + dt.timedelta(seconds=1), dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")
        )
        self.items.append((event, self.clock))
        return event

    def household(self, ags: str, allocated: str, persons: int) -> uuid.UUID:
        return self.add(arrival(ags, allocated, persons), allocated).arrival_id

    def case(
        self, ags: str, allocated: str, opened: str, consultations: list[tuple[str, str, bool]]
    ) -> uuid.UUID:
        case_id = uuid.uuid4()
        pseudonyms = (uuid.uuid4().hex * 2, uuid.uuid4().hex * 2)
        self.add(
            events.CaseOpened(
                ags=ags,
                case_id=case_id,
                provider_id="traeger",
                allocation_date=dt.date.fromisoformat(allocated),
                opened_on=dt.date.fromisoformat(opened),
                household_size=2,
                person_pseudonyms=pseudonyms,
            ),
            opened,
        )
        for held, type_, interpreter in consultations:
            self.add(
                consultation(
                    ags,
                    case_id,
                    held,
                    type_,
                    duration_minutes=45,
                    channel="persoenlich",
                    interpreter_used=interpreter,
                    handlungsfelder=("sprache",),
                    person_pseudonyms=pseudonyms,
                ),
                held,
            )
        return case_id


def fixture() -> Fixture:
    f = Fixture()
    f.household(STUTTGART, "2025-03-10", 4)
    f.household(STUTTGART, "2025-03-20", 3)
    f.household(AIDLINGEN, "2025-03-05", 2)
    withdrawn = f.household(ALTDORF, "2025-04-02", 1)
    f.add(
        events.ArrivalWithdrawnFact(ags=ALTDORF, arrival_id=withdrawn, withdrawn_on=dt.date(2025, 4, 3)),
        "2025-04-03",
    )
    moved = f.household(STUTTGART, "2025-05-05", 2)
    f.add(
        events.ArrivalRelocatedFact(
            ags=STUTTGART, arrival_id=moved, new_ags=AIDLINGEN, relocated_on=dt.date(2025, 5, 6)
        ),
        "2025-05-06",
    )
    first = [("2025-03-14", "erstgespraech", True)] + [
        (f"2025-0{m}-1{m}", "folgeberatung", m == 5) for m in (4, 5, 6, 7, 8)
    ]
    c1 = f.case(STUTTGART, "2025-03-10", "2025-03-12", first)
    c2 = f.case(
        STUTTGART,
        "2025-03-20",
        "2025-03-21",
        [("2025-03-25", "erstgespraech", False), ("2025-06-02", "kurzberatung", False)],
    )
    f.case(
        AIDLINGEN,
        "2025-03-05",
        "2025-03-06",
        [(f"2025-0{m}-20", "folgeberatung", False) for m in (3, 4, 5, 6, 7)],
    )
    goal = uuid.uuid4()
    f.add(
        events.GoalSet(
            ags=STUTTGART, case_id=c1, goal_id=goal, handlungsfeld="sprache", set_on=dt.date(2025, 3, 20)
        ),
        "2025-03-20",
    )
    f.add(
        events.GoalStatusChanged(
            ags=STUTTGART,
            case_id=c1,
            goal_id=goal,
            handlungsfeld="sprache",
            status="achieved",
            changed_on=dt.date(2025, 6, 1),
        ),
        "2025-06-01",
    )
    base = {
        "ags": STUTTGART,
        "referral_id": uuid.uuid4(),
        "case_id": c1,
        "programme": "integrationskurs",
        "requested_on": dt.date(2025, 4, 1),
    }
    f.add(events.ReferralSent(**base, occurred_at=dt.datetime(2025, 4, 1, 10, tzinfo=dt.UTC)), "2025-04-01")
    f.add(
        events.ReferralAccepted(**base, occurred_at=dt.datetime(2025, 4, 8, 10, tzinfo=dt.UTC)), "2025-04-08"
    )
    f.add(
        events.ReferralStarted(
            **base, occurred_at=dt.datetime(2025, 5, 2, 10, tzinfo=dt.UTC), started_on=dt.date(2025, 5, 2)
        ),
        "2025-05-02",
    )
    f.add(
        events.CaseClosed(ags=STUTTGART, case_id=c2, closed_on=dt.date(2025, 6, 30), reason="goals_met"),
        "2025-06-30",
    )
    return f


def records(f: Fixture, topic_of: dict[str, str]) -> Iterator[OutgoingRecord]:
    for event, at in f.items:
        record = encode(event, time=at)
        yield dataclasses.replace(record, topic=topic_of[event.topic.name])


def malformed(topic: str) -> OutgoingRecord:
    headers = (
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_source", b"/wegweiser/casework"),
        ("ce_type", b"de.wegweiser.casework.case.vanished.v1"),
        ("ce_specversion", b"1.0"),
        ("ce_subject", str(uuid.uuid4()).encode()),
    )
    return OutgoingRecord(topic=topic, key=STUTTGART, value=b"{}", headers=headers, event_id="x")


def bearer(dev_keys: Path, role: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + devtokens.mint(subject=f"t-{role}", roles=[role], key_dir=dev_keys)}


async def rows_of(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return {r["region"]["code"]: r["values"] for r in response.json()["rows"]}


async def table_rows(app: Any, generation: int, name: str) -> list[tuple[Any, ...]]:
    async with app.state.runtime.db.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table_name(generation, name)}"))
        return sorted(tuple(r) for r in result)


async def test_live_projection_outputs_and_a_rebuild_that_publishes_the_same(
    service_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    bootstrap = service_env["kafka_bootstrap_servers"]
    # Topics of its own: every count below is exact, whatever else the shared broker holds.
    topic_of = {
        spec.name: await create_topic(bootstrap, partitions=3, prefix=f"stat-test.{spec.name.split('.')[1]}")
        for spec in (topics.INTAKE_FACTS, topics.CASES, topics.REFERRAL_STATUS)
    }
    settings = StatisticsSettings(
        database_url=database_url,
        source_topics=list(topic_of.values()),
        publish_interval_s=3600,
        **service_env,
    )
    reader, admin = bearer(dev_keys, "statistics_reader"), bearer(dev_keys, "admin")
    app = build(settings)
    f = fixture()
    async with running(app) as client:
        stats = app.state.workers
        await eventually(lambda: stats.generations.active(), what="first generation (empty history) serving")
        out = list(records(f, topic_of))
        await produce(
            bootstrap, *out, out[12], malformed(topic_of[topics.CASES.name])
        )  # a duplicate, a broken one
        handled = len(f.items)

        async def applied() -> int | None:
            n = await stats.generations.applied_count(1)
            return n if n == handled else None

        await eventually(applied, timeout_s=90, what=f"{handled} events projected live")

        async def dead_lettered() -> bool:
            return stats.live_dead_letters() >= 1

        await eventually(dead_lettered, timeout_s=30, what="the malformed record dead-lettered")
        assert (await client.post("/v1/publications", headers=admin)).status_code == 200

        # Consultations: Stuttgart 8, Aidlingen 5 in 2025.
        rows = await rows_of(client, "/v1/indicators/consultations_by_type?region=081&period=2025", reader)
        assert rows["081"]["total"] == 13
        assert rows["08111"]["total"] == 8 and rows["08115"]["total"] == 5
        # 2 first, 5 follow-up, 1 short: two small cells hide each other; the 5 stays.
        assert [rows["08111"][t] for t in ("erstgespraech", "folgeberatung", "kurzberatung")] == [".", 5, "."]
        rows = await rows_of(client, "/v1/indicators/consultations_by_type?region=08115&period=2025", reader)
        assert rows[AIDLINGEN] == {"total": 5} and rows[ALTDORF] == {"total": 0}
        # Arrivals: Stuttgart 7 (March), Aidlingen 2 in March + 2 relocated in May, Altdorf withdrawn.
        # Böblingen's 4 is hidden; so is Stuttgart's March 7 (the Regierungsbezirk's March 9 less it would
        # give Böblingen's 2 away), and with it Stuttgart's quarter and year; and the year's 11 of the
        # Regierungsbezirk and the Land: their second quarter (2) is too small, and hiding the year protects
        # that quarter and Böblingen's 4 at once — eight cells hidden to protect, where taking the smaller
        # part each time hid ten.
        arrivals = await client.get(
            "/v1/indicators/arrivals?region=08&level=kreis&period=2025", headers=reader
        )
        rows = {r["region"]["code"]: r["values"] for r in arrivals.json()["rows"]}
        assert rows["08"]["total"] == "."
        assert rows["08111"]["total"] == "." and rows["08115"]["total"] == "."
        # ... and each says why: Böblingen's 4 is too small, the others protect it (and the quarter's 2).
        reasons = {r["region"]["code"]: r["suppressed_reasons"] for r in arrivals.json()["rows"]}
        assert reasons["08115"] == {"total": "too_small"}
        assert reasons["08111"] == reasons["08"] == {"total": "protects_other"}
        assert reasons["08116"] == {}
        # Derived values with too small a base are hidden, not left out.
        rows = await rows_of(
            client, "/v1/indicators/days_to_first_consultation?region=08111&period=2025", reader
        )
        assert rows[STUTTGART] == {"cases": ".", "median": ".", "p90": "."}
        legacy = (await client.get(f"/v1/indicators/consultations?ags={STUTTGART}", headers=reader)).json()
        assert legacy == {
            "indicator": "consultations",
            "region": STUTTGART,
            "period": "all",
            "value": 8,
            "suppressed": False,
        }

        csv = await client.get("/v1/indicators/arrivals?region=08&period=2025&format=csv", headers=reader)
        assert csv.headers["content-type"].startswith("text/csv")
        assert "08111;Stuttgart, Stadtkreis;Kreis;2025;.;geschützt;" in csv.content.decode("utf-8-sig")
        assert "08115;Böblingen;Kreis;2025;.;zu klein;" in csv.content.decode("utf-8-sig")
        xlsx = await client.get("/v1/indicators/arrivals?region=08&period=2025&format=xlsx", headers=reader)
        sheet = load_workbook(io.BytesIO(xlsx.content))["Tabelle"]
        assert {row[0].value: row[4].value for row in sheet.iter_rows(min_row=4)}["08111"] == "."

        page = await client.get(
            "/dashboard?indicator=consultations_by_type&region=081&period=2025", headers=reader
        )
        assert page.status_code == 200 and '<html lang="de">' in page.text and "<svg" in page.text
        assert (await client.get("/dashboard")).status_code == 401  # the sign-in page

        assert (await client.get("/v1/indicators/arrivals")).status_code == 401
        assert (
            await client.get("/v1/indicators/arrivals", headers=bearer(dev_keys, "counsellor"))
        ).status_code == 403
        unknown = await client.get("/v1/indicators/beratungen", headers=reader)
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        bad = await client.get("/v1/indicators/arrivals?region=99999&period=2016", headers=reader)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "region"
        assert (await client.get("/asyncapi.json")).json()["asyncapi"] == "3.0.0"

        # The feed: through the outbox, keyed indicator/region/period, suppressed values as ".".
        async with app.state.runtime.db.connect() as conn:
            outbox = {
                r[0]: (r[1], r[2])
                for r in await conn.execute(
                    text("SELECT key, event_id, value FROM outbox WHERE topic = :t"),
                    {"t": topics.INDICATORS.name},
                )
            }
        assert b'"values":{"total":9}' in outbox["arrivals/08/2025-03"][1]
        assert b'"values":{"total":"."}' in outbox["arrivals/08/2025"][1]
        assert b'"values":{"total":"."}' in outbox["arrivals/08111/2025"][1]
        assert b'"suppressed_reasons":{"total":"protects_other"}' in outbox["arrivals/08111/2025"][1]
        assert b'"suppressed_reasons":{"total":"too_small"}' in outbox["arrivals/08115/2025"][1]
        wanted = {outbox[k][0] for k in ("arrivals/08/2025", "arrivals/08111/2025")}
        on_topic = await read_all(
            bootstrap,
            topics.INDICATORS.name,
            expected=2,
            where=lambda r: header(r, "ce_id") in wanted,
            timeout_s=60,
        )
        assert {r.key for r in on_topic} == {b"arrivals/08/2025", b"arrivals/08111/2025"}

        # Rebuild: generation 2 from the topics' full history, then the switch.
        started = await client.post("/v1/rebuilds", headers=admin)
        assert started.status_code == 202 and started.json()["generation"] == 2

        async def switched() -> dict[str, Any] | None:
            status = (await client.get("/v1/projection", headers=reader)).json()
            return status if status["active_generation"] == 2 else None

        status = await eventually(switched, timeout_s=90, what="generation 2 serving")
        assert status is not None
        progress = (await client.get("/v1/rebuilds/2", headers=reader)).json()
        assert progress["events_read"] == progress["events_total"] == len(out) + 2
        assert (progress["duplicates"], progress["malformed"], progress["percent"]) == (1, 1, 100.0)
        assert status["dead_letters_rebuild"] == 1
        for name in PROJECTION_TABLES:
            assert await table_rows(app, 2, name) == await table_rows(app, 1, name), name

    # Restarted with a consumer group that has no offsets (they expired while it was down): the group
    # starts at the end and a rebuild covers the history, instead of applying it a second time.
    again = build(
        settings.model_copy(update={"consumer_group_prefix": f"{settings.consumer_group_prefix}-b"})
    )
    async with running(again) as client:
        await eventually(lambda: _serving(client, reader, 3), timeout_s=90, what="generation 3 serving")
        for name in PROJECTION_TABLES:
            assert await table_rows(again, 3, name) == await table_rows(again, 2, name), name


# What a rebuild must reproduce: every table but the bookkeeping of how the events were read.
PROJECTION_TABLES = tuple(name for name in NAMES if name not in ("applied", "offsets", "dead_letters"))


async def _serving(client: httpx.AsyncClient, headers: dict[str, str], generation: int) -> bool:
    status = (await client.get("/v1/projection", headers=headers)).json()
    return bool(status["active_generation"] == generation)
