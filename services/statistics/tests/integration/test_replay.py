"""The rebuild's replay on real Kafka and PostgreSQL: exactly once beside the live path, after a restart."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from synthetic_history import History

from wegweiser.common.db import create_engine
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.testing.kafka import create_topic, read_all
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.projection.batch import Batch
from wegweiser.statistics.projection.decode import decode_record
from wegweiser.statistics.projection.loader import load_facts
from wegweiser.statistics.projection.replay import Offsets, ReplayPlan, Sink, replay
from wegweiser.statistics.projection.writer import flush

pytestmark = pytest.mark.integration


async def produce_history(bootstrap: str, topic: str) -> int:
    """A small synthetic history, and a re-published copy of one early event near the end."""
    items = list(History(seed=11, scale=0.0006, consultations_per_month=0.6).events())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        sent = []
        for n, item in enumerate(items):
            headers = [
                ("ce_id", str(uuid.uuid4()).encode()),
                ("ce_source", f"/wegweiser/{item.model.source}".encode()),
                ("ce_type", item.model.ce_type().encode()),
                ("ce_specversion", b"1.0"),
                ("ce_time", item.at.isoformat().encode()),
                ("ce_subject", str(n).encode()),
            ]
            value = item.event().model_dump_json().encode()
            await producer.send(
                topic, value, key=b"08111000", headers=headers
            )  # one key: one partition, in order
            sent.append((value, headers))
        value, headers = sent[3]
        await producer.send_and_wait(topic, value, key=b"08111000", headers=headers)
        return len(sent) + 1
    finally:
        await producer.stop()


async def facts(engine: AsyncEngine, generation: int) -> dict[str, Any]:
    async with engine.connect() as conn:
        loaded = await load_facts(conn, generation)
    return {name: sorted(map(repr, value)) for name, value in vars(loaded).items()}


async def test_replay_is_exactly_once_beside_the_live_path_and_across_a_restart(
    kafka_bootstrap: str, database_url: str
) -> None:
    topic = await create_topic(kafka_bootstrap, partitions=3, prefix="stat-test.replay")
    total = await produce_history(kafka_bootstrap, topic)
    records = await read_all(kafka_bootstrap, topic, expected=total)
    ends: Offsets = {(topic, p): 0 for p in range(3)}
    for r in records:
        ends[(topic, r.partition)] = max(ends[(topic, r.partition)], r.offset + 1)
    half = {tp: o // 2 for tp, o in ends.items()}

    engine = create_engine(database_url)
    try:
        await upgrade_database(engine, MIGRATIONS)
        generations = Generations(engine, async_sessionmaker(engine, expire_on_commit=False))
        clean, mirrored, resumed, parallel = [
            (await generations.create(live_offsets={})).id for _ in range(4)
        ]

        # Every run reads the same topic into the same database; only generation, plan and workers vary.
        replay_into = functools.partial(replay, bootstrap_servers=kafka_bootstrap, engine=engine)
        reference = await replay_into(generation=clean, plan=ReplayPlan([topic], ends))
        assert (reference.read, reference.duplicates, reference.malformed) == (total, 1, 0)

        # The live path already applied the second half (through the generation's inbox) when the
        # replay starts: those offsets are "risky" and must be claimed, not applied twice. Like the
        # engine's dispatcher, the simulated live group skips an id it processed before (its own inbox).
        group_inbox: set[str] = set()
        async with Sink(engine, mirrored) as sink:
            for r in sorted(records, key=lambda r: (r.partition, r.offset)):
                raw_id, at, event = decode_record(r.headers, r.value)
                ce_id = raw_id.decode()
                seen_before = ce_id in group_inbox
                group_inbox.add(ce_id)
                if r.offset >= half[(topic, r.partition)] and not seen_before:
                    async with sink.transaction() as writer:
                        if await writer.claim([ce_id]):
                            batch = Batch()
                            batch.add(event, time_us=at)
                            await flush(batch, writer)
        overlap = await replay_into(
            generation=mirrored,
            plan=ReplayPlan([topic], ends, live_offsets=half),
        )
        assert overlap.duplicates > 1  # the mirrored half and the re-published copy

        # Stopped halfway (a crash after a committed batch), then resumed to the end.
        first = await replay_into(
            generation=resumed,
            plan=ReplayPlan([topic], half),
            flush_events=50,
        )
        assert first.read == sum(half.values())
        second = await replay_into(
            generation=resumed,
            plan=ReplayPlan([topic], ends),
        )
        assert (second.read, second.applied, second.duplicates) == (total, reference.applied, 1)

        # Two worker processes over disjoint partitions, as large rebuilds run.
        split = await replay_into(
            generation=parallel,
            plan=ReplayPlan([topic], ends),
            workers=2,
            parallel_from=1,
        )
        assert (split.read, split.applied, split.duplicates) == (total, reference.applied, 1)

        expected = await facts(engine, clean)
        assert expected["consultations"] and expected["cases"]
        assert await facts(engine, mirrored) == expected
        assert await facts(engine, resumed) == expected
        assert await facts(engine, parallel) == expected
    finally:
        await engine.dispose()
