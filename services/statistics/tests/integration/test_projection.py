"""Statistics on real PostgreSQL and Kafka: facts fold into counts once, small counts are suppressed."""

import datetime as dt
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from wegweiser.common import devtokens, events
from wegweiser.common.envelope import encode
from wegweiser.common.regions import catalogue
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.statistics.app import build
from wegweiser.statistics.settings import StatisticsSettings

pytestmark = pytest.mark.integration


def consultation(ags: str, year: int) -> events.ConsultationRecorded:
    return events.ConsultationRecorded(
        ags=ags,
        case_id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        held_on=dt.date(year, 5, 6),
        duration_minutes=30,
        type="kurzberatung",
        channel="video",
    )


async def test_consultations_are_counted_once_and_small_counts_hidden(
    service_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    # The shared broker keeps earlier runs' events and a new group reads them all: a (municipality, year)
    # cell that no other run uses keeps the count exact.
    ags = random.choice([m.ags for m in catalogue().in_land("08") if m.population > 0])
    year = random.randint(2030, 2099)
    reader = {
        "Authorization": "Bearer "
        + devtokens.mint(subject="r", roles=["statistics_reader"], key_dir=dev_keys)
    }
    url = f"/v1/indicators/consultations?ags={ags}&year={year}"
    bootstrap = service_env["kafka_bootstrap_servers"]
    async with running(build(StatisticsSettings(database_url=database_url, **service_env))) as client:
        first = [encode(consultation(ags, year)) for _ in range(3)]
        await produce(bootstrap, *first, first[0])  # one redelivery
        await eventually(lambda: _value(client, url, reader, "."), what="3 consultations, suppressed")
        await produce(bootstrap, *(encode(consultation(ags, year)) for _ in range(3)))
        body = await eventually(lambda: _value(client, url, reader, 6), what="6 consultations")
        assert body["suppressed"] is False
        assert (
            await client.get("/v1/indicators/consultations?ags=12345678", headers=reader)
        ).status_code == 422
        assert (await client.get(url)).status_code == 401


async def _value(client, url, headers, expected):  # type: ignore[no-untyped-def]
    body = (await client.get(url, headers=headers)).json()
    return body if body["value"] == expected else None
