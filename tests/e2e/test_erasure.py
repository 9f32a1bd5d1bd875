"""Black box: after one erasure a person is readable nowhere, in no database and on no topic.

A person arrives through intake, gets a case, consents, and is referred to a Kafka partner, who reads
the person through the claim check. An admin erases the closed case. Then every table of the four
services' databases and every record of every topic (value, key and headers, raw bytes, retry and
dead-letter topics included) is searched for the person's name, birth date, phone and e-mail: nothing
may be found. The sealed records that carried the person are still on the topics, and the keys they
name are shredded in every key table: crypto-shredding, not deletion.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import string
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from wegweiser.common import subject_access_pdf
from wegweiser.common.devstack import ServiceProcesses
from wegweiser.common.personal_data import key_ids
from wegweiser.common.subject_access_all import collect
from wegweiser.common.testing.apps import bearer, poll

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
PARTNER = "vhs-stuttgart"  # an example partner on Kafka for Integrationskurse in Stuttgart


def someone() -> dict[str, str]:
    """A person no other test has: a made-up name and birth date, a phone and an e-mail of their own."""
    rng = random.Random()
    letters = "".join(rng.choice(string.ascii_lowercase) for _ in range(9))
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18_000))
    return {
        "family_name": f"Zw{letters}",
        "given_names": f"Ol{letters[::-1]}",
        "date_of_birth": born.isoformat(),
        "phone": f"+49 711 {rng.randrange(10**7, 10**8)}",
        "email": f"{letters}@example.org",
    }


async def found_in_databases(urls: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """``database.table`` of every row that holds a secret as text, or as bytes (bytea shows as hex)."""
    needles = [f"%{s}%" for s in secrets] + [f"%{s.encode().hex()}%" for s in secrets]
    hits = []
    for url in urls:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            tables = (
                await conn.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
                )
            ).scalars()
            for table in list(tables):
                condition = " OR ".join(f"t::text ILIKE :n{i}" for i in range(len(needles)))
                query = text(f'SELECT count(*) FROM "{table}" AS t WHERE {condition}')
                params = {f"n{i}": n for i, n in enumerate(needles)}
                if (await conn.execute(query, params)).scalar_one():
                    hits.append(f"{url.rsplit('/', 1)[-1]}.{table}")
        await engine.dispose()
    return hits


async def every_record(bootstrap: str) -> list[tuple[str, bytes]]:
    """(topic, raw bytes of key, value and headers) of every record on every topic of the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if not t.startswith("__")]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    parts = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        left = {tp for tp, end in ends.items() if end > 0}
        out: list[tuple[str, bytes]] = []
        while left:
            for tp, records in (await consumer.getmany(*left, timeout_ms=1000)).items():
                for r in records:
                    raw = b"".join([r.key or b"", r.value or b"", *(v for _, v in r.headers)])
                    out.append((tp.topic, raw))
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
        return out
    finally:
        await consumer.stop()


async def key_states(url: str, kids: set[str]) -> dict[str, bool]:
    """kid -> True while the key is held, False once shredded (absent kids are left out)."""
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT kid, key IS NOT NULL FROM person_keys WHERE kid = ANY(:kids)"), {"kids": list(kids)}
        )
        states = {kid: bool(held) for kid, held in rows.tuples()}
    await engine.dispose()
    return states


def sealed_kids(records: list[tuple[str, bytes]], topic: str, subject: str) -> set[str]:
    """The data keys named by the records on ``topic`` whose payload names ``subject``."""
    kids: set[str] = set()
    for name, raw in records:
        if name == topic and subject.encode() in raw and b'"sealed"' in raw:
            start = raw.index(b"{")
            payload, _ = json.JSONDecoder().raw_decode(raw[start:].decode(errors="replace"))
            kids |= key_ids(payload)
    return kids


def exported(stack: ServiceProcesses, person_id: str, token: str) -> dict[str, Any]:
    """``wegweiser export-person`` against the running services: one document across all three."""

    async def run() -> dict[str, Any]:
        clients = {s: httpx.AsyncClient(base_url=stack.url(s)) for s in ("intake", "casework", "referrals")}
        try:
            return await collect(clients, uuid.UUID(person_id), token=token, english=False)
        finally:
            for client in clients.values():
                await client.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("own_kafka", ["plaintext"], indirect=True)
def test_an_erased_person_is_readable_in_no_database_and_on_no_topic(
    stack: ServiceProcesses, dev_keys: Path, databases: dict[str, str], own_kafka: Any
) -> None:
    person = someone()
    secrets = list(person.values())
    today = dt.date.today().isoformat()
    authority = bearer(dev_keys, "reception_authority", authority_id="uab-08111", ags=["08111000"])
    counsellor = bearer(dev_keys, "counsellor", provider_id="kreis-08111", ags=["08111000"])
    admin, partner = bearer(dev_keys, "admin"), bearer(dev_keys, "partner", partner_id=PARTNER)
    intake, casework, referrals = (stack.url(s) for s in ("intake", "casework", "referrals"))

    arrival = httpx.post(
        f"{intake}/v1/arrivals",
        headers=authority,
        json={
            "authority_reference": f"E2E-{uuid.uuid4().hex[:8]}",
            "ags": "08111000",
            "allocation_date": today,
            "persons": [
                {"role": "head", **{k: person[k] for k in ("family_name", "given_names", "date_of_birth")}}
            ],
        },
    )
    assert arrival.status_code == 201, arrival.text
    arrival_id = arrival.json()["arrival_id"]

    def case() -> dict[str, Any] | None:
        cases = httpx.get(f"{casework}/v1/cases?ags=08111000", headers=counsellor).json()
        return next((c for c in cases if c["arrival_id"] == arrival_id), None)

    cid = poll(case, what="case opened from the sealed arrival")["case_id"]
    opened = httpx.get(f"{casework}/v1/cases/{cid}", headers=counsellor).json()
    [member] = opened["persons"]
    assert member["family_name"] == person["family_name"]  # casework opened the sealed persons
    pid = member["person_id"]
    contact = {"phone": person["phone"], "email": person["email"]}
    assert httpx.put(f"{casework}/v1/cases/{cid}/persons/{pid}/contact", headers=counsellor, json=contact)
    consent = {"person_id": pid, "purpose": "integrationskurs", "partner_id": PARTNER, "granted_on": today}
    assert (
        httpx.post(f"{casework}/v1/cases/{cid}/consents", headers=counsellor, json=consent).status_code == 201
    )
    referral = {"person_id": pid, "programme": "integrationskurs", "partner_id": PARTNER}
    requested = httpx.post(f"{casework}/v1/cases/{cid}/referrals", headers=counsellor, json=referral)
    assert requested.status_code == 201, requested.text
    rid = requested.json()["referral_id"]

    # The partner's topic names the referral; the person comes from the API (the claim check).
    person_url = f"{referrals}/v1/partner/referrals/{rid}/person"
    read = poll(
        lambda: (r := httpx.get(person_url, headers=partner)).status_code == 200 and r.json(),
        what="the partner reads the person of its referral",
    )
    assert (
        read["person"]["family_name"] == person["family_name"] and read["person"]["phone"] == person["phone"]
    )
    # The search can find: before the erasure the services hold the person.
    held = asyncio.run(found_in_databases(databases.values(), secrets))
    assert {h.split(".")[0] for h in held} >= {
        databases[s].rsplit("/", 1)[-1] for s in ("intake", "casework")
    }

    # One export (GDPR Art. 15) holds what all three services know of the person, and prints as one PDF.
    token = admin["Authorization"].removeprefix("Bearer ")
    export = exported(stack, pid, token)
    assert [source["service"] for source in export["sources"]] == ["intake", "casework", "referrals"]
    assert person["family_name"] in json.dumps(export, ensure_ascii=False)
    assert subject_access_pdf.render(export).startswith(b"%PDF")

    closure = {"reason": "goals_met", "closed_on": today}
    assert (
        httpx.post(f"{casework}/v1/cases/{cid}/closure", headers=counsellor, json=closure).status_code == 200
    )
    erased = httpx.post(f"{casework}/v1/admin/cases/{cid}/erase", headers=admin)
    assert erased.status_code == 200 and erased.json()["erased_now"], erased.text

    left = poll(
        lambda: not asyncio.run(found_in_databases(databases.values(), secrets)) or None,
        timeout_s=60,
        what="the person gone from every database",
    )
    assert left
    assert httpx.get(person_url, headers=partner).status_code == 404
    after = json.dumps(exported(stack, pid, token), ensure_ascii=False)
    assert not [secret for secret in secrets if secret in after]

    records = asyncio.run(every_record(own_kafka.bootstrap_servers))
    readable = sorted({topic for topic, raw in records for s in secrets if s.encode() in raw})
    assert readable == [], f"readable on {readable}"
    arrival_kids = sealed_kids(records, "wegweiser.intake.arrivals.v1", arrival_id)
    request_kids = sealed_kids(records, "wegweiser.referrals.requests.v1", rid)
    assert arrival_kids and request_kids  # the sealed records are still there ...
    states = {
        service: asyncio.run(key_states(databases[service], kids))
        for service, kids in (
            ("intake", arrival_kids),
            ("casework", arrival_kids | request_kids),
            ("referrals", request_kids),
        )
    }
    # ... and every key that could open them is shredded where it was held (owner and copies alike).
    assert set(states["intake"]) == arrival_kids and set(states["casework"]) == arrival_kids | request_kids
    assert set(states["referrals"]) == request_kids
    assert not any(held for by_kid in states.values() for held in by_kid.values()), states
