"""Small helpers for integration tests on the real broker: private topics and reading them back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from wegweiser.common.db import UnitOfWork
from wegweiser.common.dispatch import opened_event, until_keys_known
from wegweiser.common.envelope import OutgoingRecord, parse
from wegweiser.common.events import Event


async def create_topic(bootstrap: str, *, partitions: int = 3, prefix: str = "test") -> str:
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()
    return name


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    value = dict(record.headers).get(name)
    return value.decode() if value is not None else None


async def read_all(
    bootstrap: str,
    topic: str,
    *,
    expected: int,
    where: Callable[[ConsumerRecord[bytes, bytes]], bool] = lambda _: True,
    timeout_s: float = 30,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topic`` from the beginning until ``expected`` records matching ``where`` arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for partition_records in batch.values():
                    records.extend(r for r in partition_records if where(r))
    except TimeoutError:
        raise AssertionError(f"{topic}: {len(records)} of {expected} records after {timeout_s}s") from None
    finally:
        await consumer.stop()
    return records


async def produce(bootstrap: str, *records: OutgoingRecord) -> None:
    """Send records as a foreign producer would (tests of consumers, duplicates and poison)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for r in records:
            await producer.send_and_wait(r.topic, r.value, key=r.key.encode(), headers=list(r.headers))
    finally:
        await producer.stop()


async def opened(record: ConsumerRecord[bytes, bytes], unit_of_work: Callable[[], UnitOfWork]) -> Event:
    """A record as its reader sees it: sealed personal fields opened with the keys the service holds."""
    _, model, payload = parse(record.headers, record.value)

    async def look() -> Event | None:  # a new unit of work each time: SQLite's snapshot would not see the key
        async with unit_of_work() as uow:
            return await opened_event(model, payload, uow)

    event = await until_keys_known(look)
    assert event is not None, "sealed with a shredded key: the person was erased"
    return event
