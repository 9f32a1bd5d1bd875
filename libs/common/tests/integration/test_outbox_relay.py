"""The outbox relay on real PostgreSQL and Kafka: commit order, marking as sent, a producer renewed."""

import asyncio
import contextlib
import uuid

import pytest
from aiokafka import TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.broker import RelayProducer
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
    producer = RelayProducer(kafka_bootstrap, client_id="test-relay")
    await producer.start()
    relay = OutboxRelay(
        engine=engine, sessions=sessions, send=producer.send, wake=asyncio.Event(), batch_size=7
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
    await producer.stop()
    await engine.dispose()


async def test_a_failed_batch_does_not_block_its_partition_for_ever(
    kafka_bootstrap: str, database_url: str
) -> None:
    """aiokafka never takes back the sequence number of a batch that failed (one expired across a broker
    restart): every later batch of that producer to the partition is refused (OutOfOrderSequenceNumber),
    and the municipality's events stayed in the outbox. The relay now continues with a new producer."""
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(COMMON_METADATA.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    producer = RelayProducer(kafka_bootstrap, client_id="test-relay-renewal")
    await producer.start()
    relay = OutboxRelay(
        engine=engine, sessions=sessions, send=producer.send, wake=asyncio.Event(), renew=producer.renew
    )
    case_id = uuid.uuid4()
    topic = events.ConsultationRecorded.topic.name
    mine = lambda r: header(r, "ce_subject") == str(case_id)  # noqa: E731
    ids = []

    async def record(n: int) -> None:
        async with UnitOfWork(sessions) as uow:
            ids.append(uow.publish(fact("08425112", case_id, n)))
            await uow.commit()

    await record(0)
    await relay.publish_pending()
    [first] = await read_all(kafka_bootstrap, topic, expected=1, where=mine)
    # What a failed batch leaves behind: the producer's next number for the partition is one too far.
    producer._producer._txn_manager.increment_sequence_number(TopicPartition(topic, first.partition), 1)  # type: ignore[union-attr]
    await record(1)
    running = asyncio.create_task(relay.run())
    try:
        records = await read_all(kafka_bootstrap, topic, expected=2, where=mine, timeout_s=20)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await producer.stop()
        await engine.dispose()
    assert [header(r, "ce_id") for r in records] == ids
    assert producer.renewals >= 1
