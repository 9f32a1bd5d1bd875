"""Casework on real PostgreSQL and Kafka: arrivals open cases once; poison is dead-lettered, not fatal."""

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from wegweiser.casework.app import build
from wegweiser.casework.settings import CONSUMER_ENGINE, CaseworkSettings
from wegweiser.common import devtokens, events, topics
from wegweiser.common.engine.dlq_command import DlqEntry, list_entries, replay_entries
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import header, produce, read_all

pytestmark = pytest.mark.integration


def arrival(ags: str = "08111000") -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags=ags,
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference=f"R-{uuid.uuid4().hex[:6]}",
        allocation_date=dt.date(2026, 11, 2),
        persons=(
            events.ArrivedPerson(person_id=uuid.uuid4(), role="head", family_name="H", given_names="R"),
        ),
    )


def counsellor(dev_keys: Path) -> dict[str, str]:
    token = devtokens.mint(
        subject="c1", roles=["counsellor"], key_dir=dev_keys, provider_id="kreis-08111", ags=["08111000"]
    )
    return {"Authorization": f"Bearer {token}"}


async def cases_for(
    client: httpx.AsyncClient, headers: dict[str, str], *arrival_ids: uuid.UUID
) -> list[dict]:
    cases = (await client.get("/v1/cases?ags=08111000", headers=headers)).json()
    return [c for c in cases if c["arrival_id"] in {str(a) for a in arrival_ids}]


async def case_opened(bootstrap: str, arrival_id: uuid.UUID) -> list[Any]:
    """The ``case.opened`` records of one arrival on the cases topic (waits for the first)."""
    return await read_all(
        bootstrap,
        topics.CASES.name,
        expected=1,
        where=lambda r: (
            header(r, "ce_type") == events.CaseOpened.ce_type() and str(arrival_id).encode() in r.value
        ),
    )


async def test_the_same_arrival_delivered_twice_opens_one_case(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    bootstrap = casework_env["kafka_bootstrap_servers"]
    event = arrival()
    record = encode(event)
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await produce(bootstrap, record, record)  # same ce_id twice: a redelivery
        later = arrival()
        await produce(bootstrap, encode(later))
        both = await eventually(
            lambda: _when_len(cases_for(client, counsellor(dev_keys), event.arrival_id, later.arrival_id), 2),
            what="both cases opened",
        )
        assert len({c["case_id"] for c in both}) == 2
        opened = await case_opened(bootstrap, event.arrival_id)
    assert len(opened) == 1
    assert b'"H"' not in opened[0].value


async def test_a_malformed_record_is_dead_lettered_and_the_consumer_carries_on(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    bootstrap = casework_env["kafka_bootstrap_servers"]
    settings = CaseworkSettings(database_url=database_url, **casework_env)
    poison = dataclasses.replace(encode(arrival()), value=b'{"ags": "08111000", "arrival_id": "not-a-uuid"}')
    good = arrival()
    async with running(build(settings)) as client:
        await produce(bootstrap, poison, encode(good))
        await eventually(
            lambda: _when_len(cases_for(client, counsellor(dev_keys), good.arrival_id), 1), what="case"
        )
        dlq = f"{topics.ARRIVALS.name}.dlq.{settings.consumer_group('casework')}"
        dead = await read_all(
            bootstrap, dlq, expected=1, where=lambda r: header(r, "ce_id") == poison.event_id
        )
    reasons = " ".join(
        v.decode(errors="replace") for k, v in dead[0].headers if "error" in k or "reason" in k
    )
    assert "arrival_id" in reasons
    assert dead[0].value == poison.value and dead[0].key == b"08111000"


async def test_an_injected_fault_dead_letters_one_municipality_and_its_replay_opens_the_case(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    """CASEWORK_FAULT_FAIL_AGS: the named AGS's arrival ends on the DLQ with the setting as its reason
    while another AGS's case opens; with the setting off, a replay with ``wegweiser dlq`` opens it."""
    bootstrap = casework_env["kafka_bootstrap_servers"]
    quick = CONSUMER_ENGINE.model_copy(update={"max_attempts": 2, "backoff_initial_s": 0.2})
    faulty = CaseworkSettings(
        database_url=database_url, engine=quick, fault_fail_ags="08425001", **casework_env
    )
    failing, good = arrival("08425001"), arrival()
    failing_record = encode(failing)
    group = faulty.consumer_group("casework")

    async def dead_entry() -> DlqEntry | None:
        entries = await list_entries(bootstrap_servers=bootstrap, group=group, ags="08425001")
        return next((e for e in entries if e.ce_id == failing_record.event_id and e.kind == "dead"), None)

    async with running(build(faulty)) as client:
        await produce(bootstrap, failing_record, encode(good))
        await eventually(
            lambda: _when_len(cases_for(client, counsellor(dev_keys), good.arrival_id), 1), what="case"
        )
        dead = await eventually(dead_entry, what="the failing arrival dead-lettered")
    assert dead is not None and dead.meta.error_type == "InjectedFault" and dead.meta.attempt == 2
    assert "CASEWORK_FAULT_FAIL_AGS names 08425001" in dead.meta.error_message

    healed = CaseworkSettings(database_url=database_url, engine=quick, **casework_env)
    async with running(build(healed)):
        [replayed] = await replay_entries(bootstrap_servers=bootstrap, entry_ids=[dead.id])
        assert replayed.startswith("replayed ")
        opened = await case_opened(bootstrap, failing.arrival_id)
    assert len(opened) == 1 and opened[0].key == b"08425001"


async def _when_len(coro, n: int):  # type: ignore[no-untyped-def]
    result = await coro
    return result if len(result) >= n else None


async def test_counsellors_see_only_their_provider_and_municipality(
    casework_env: dict[str, Any], database_url: str, dev_keys: Path
) -> None:
    event = arrival()
    async with running(build(CaseworkSettings(database_url=database_url, **casework_env))) as client:
        await produce(casework_env["kafka_bootstrap_servers"], encode(event))
        [case] = await eventually(
            lambda: _when_len(cases_for(client, counsellor(dev_keys), event.arrival_id), 1)
        )
        other = devtokens.mint(
            subject="c2", roles=["counsellor"], key_dir=dev_keys, provider_id="diakonie", ags=["08111000"]
        )
        foreign = {"Authorization": f"Bearer {other}"}
        assert await cases_for(client, foreign, event.arrival_id) == []
        assert (await client.get(f"/v1/cases/{case['case_id']}", headers=foreign)).status_code == 404
        consultation = {
            "held_on": "2026-11-03",
            "duration_minutes": 30,
            "type": "erstgespraech",
            "channel": "telefon",
        }
        url = f"/v1/cases/{case['case_id']}/consultations"
        assert (await client.post(url, json=consultation, headers=foreign)).status_code == 404
        assert (await client.post(url, json=consultation, headers=counsellor(dev_keys))).status_code == 201
        bad = await client.post(
            url, json={**consultation, "type": "plausch", "duration_minutes": 0}, headers=counsellor(dev_keys)
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"type", "duration_minutes"}
