"""The outbox relay on real PostgreSQL and Kafka: commit order, marking as sent, crash-safe resend."""

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.broker import broker_sender, create_broker
from wegweiser.common.db import COMMON_METADATA, OutboxRecord, UnitOfWork, create_engine
from wegweiser.common.envelope import decode
from wegweiser.common.outbox import OutboxRelay
from wegweiser.common.testing.kafka import header, read_all

pytestmark = pytest.mark.integration


def fact(ags: str, case_id: uuid.UUID, n: int) -> events.ConsultationRecorded:
    return events.ConsultationRecorded(
        ags=ags,
        case_id=case_id,
        consultation_id=uuid.uuid4(),
        held_on="2026-11-02",
        duration_minutes=n + 1,
        type="folgeberatung",
        channel="telefon",
    )


async def test_relay_publishes_in_commit_order_and_marks_sent(
    kafka_bootstrap: str, database_url: str
) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as conn:  # no service here, so no service's migrations: the bare tables
        await conn.run_sync(COMMON_METADATA.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    broker = create_broker(kafka_bootstrap, client_id="test-relay")
    await broker.start()
    relay = OutboxRelay(
        engine=engine, sessions=sessions, send=broker_sender(broker), wake=asyncio.Event(), batch_size=7
    )
    case_id = uuid.uuid4()  # one aggregate: its events must arrive in commit order
    ids = []
    for n in range(20):
        async with UnitOfWork(sessions) as uow:
            ids.append(uow.publish(fact("08111000", case_id, n)))
            await uow.commit()
    async with UnitOfWork(sessions) as uow:  # rolled back: must never be published
        uow.publish(fact("08111000", case_id, 99))

    while await relay.publish_pending():
        pass

    async with sessions() as session:
        unsent = await session.scalar(
            select(func.count()).select_from(OutboxRecord).where(col(OutboxRecord.published_at).is_(None))
        )
    assert unsent == 0
    records = await read_all(
        kafka_bootstrap,
        events.ConsultationRecorded.topic.name,
        expected=20,
        where=lambda r: header(r, "ce_subject") == str(case_id),
    )
    assert [header(r, "ce_id") for r in records] == ids
    assert {r.key for r in records} == {b"08111000"}
    assert [decode(r.headers, r.value)[1].duration_minutes for r in records] == list(range(1, 21))  # type: ignore[attr-defined]
    await broker.stop()
    await engine.dispose()
