"""All of statistics' Kafka wiring outside the projection itself: which topics it reads, in which group,
and where that group and the topics stand (what a rebuild needs to know before it replays).

The live handlers (event type → ``project_event``) come from ``projection.live``; the replay itself
reads the same topics without a group (``projection.replay``).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from wegweiser.common import topics
from wegweiser.common.engine.retry_topics import dlq_topic, retry_topic
from wegweiser.common.kafka_security import client_options
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.statistics.projection.live import HANDLERS
from wegweiser.statistics.projection.replay import Offsets
from wegweiser.statistics.settings import StatisticsSettings

SOURCE_TOPICS = (topics.INTAKE_FACTS, topics.CASES, topics.REFERRAL_STATUS)


def source_topics(settings: StatisticsSettings) -> list[topics.TopicSpec]:
    """The pseudonymous topics (never the personal ones), or the override for benchmarks and tests."""
    if settings.source_topics:
        return [
            topics.TopicSpec(name, topics.LONG_RETENTION_MS, personal_data=False)
            for name in settings.source_topics
        ]
    return list(SOURCE_TOPICS)


def live_group(settings: StatisticsSettings) -> str:
    """The consumer group of the live projection; a rebuild reads its committed offsets."""
    return settings.consumer_group("statistics")


def live_consumer(settings: StatisticsSettings) -> ConsumerSpec:
    """The live projection: every source topic into the serving (and a building) generation."""
    return ConsumerSpec(
        group=live_group(settings),
        topics=source_topics(settings),
        handlers=HANDLERS,
        config=settings.engine,
    )


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(d["topic"], p["partition"])
        for d in described
        if not d.get("error_code")
        for p in d["partitions"]
    )


async def end_offsets(bootstrap: str, topics: list[str]) -> Offsets:
    partitions = await partitions_of(bootstrap, topics)
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): o for tp, o in ends.items()}


async def committed_offsets(bootstrap: str, group: str, *, attempts: int = 30) -> Offsets:
    """The group's committed offsets; waits while a fresh cluster is still creating its offsets topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        for attempt in range(1, attempts + 1):
            try:
                committed = await admin.list_consumer_group_offsets(group)
                break
            except GroupCoordinatorNotAvailableError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): om.offset for tp, om in committed.items() if om.offset >= 0}


async def place_group(bootstrap: str, group: str, offsets: Offsets) -> None:
    """Commit ``offsets`` for a group that has no members yet (before the live engine joins it)."""
    if not offsets:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(t, p) for t, p in offsets])
        await consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
    finally:
        await consumer.stop()


async def pending_live_ids(bootstrap: str, group: str, topics: list[str]) -> frozenset[str]:
    """Event ids on the live group's retry and dead-letter topics: the live path may still apply them."""
    names = [name for t in topics for name in (retry_topic(t, group), dlq_topic(t, group))]
    partitions = await partitions_of(bootstrap, names)
    if not partitions:
        return frozenset()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    ids: set[str] = set()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        open_tps = {tp for tp in partitions if ends[tp] > 0}
        while open_tps:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                for r in records:
                    for key, value in r.headers:
                        if key == "ce_id" and value is not None:
                            ids.add(bytes(value).decode("utf-8", "replace"))
            for tp in list(open_tps):
                if await consumer.position(tp) >= ends[tp]:
                    open_tps.discard(tp)
    finally:
        await consumer.stop()
    return frozenset(ids)
