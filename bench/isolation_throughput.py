"""isolation-throughput: the engine against Confluent's Parallel Consumer and faststream's stock subscriber.

50,000 events over the 1,101 populated BW municipalities (uniform) and 10,000 aggregates, 5 ms of
simulated I/O per event, decoding and a SQLite inbox included. Confluent's Parallel Consumer (Java,
``bench/anchors/parallel-consumer``) runs with KEY ordering and the engine's bound on records in flight,
on the same events keyed by aggregate (and, for context, on the topic itself, keyed by AGS). The stock
subscriber processes a partition one event at a time (manual ack after processing), so it runs on fewer
events. Then the engine at 0 ms I/O against a plain aiokafka loop doing the same work one record at a
time, and against a loop that only reads the topic.

    ./dev run python bench/isolation_throughput.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchkit
import jvm_anchors

from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record

EVENTS = 50_000
AGGREGATES = 10_000
IO_S = 0.005
BASELINE_EVENTS = 1_000

ENGINE_CONFIG = EngineConfig(
    max_in_flight_per_partition=2_000,
    max_in_flight_per_ags=32,
    max_buffered_per_partition=20_000,
    max_buffered_per_ags=1_000,
    fetch_max_records=5_000,
)


def fresh_group(label: str) -> str:
    """A consumer group of its own for each run, so that every run reads the topic from the start."""
    return f"bench-{label}-{uuid.uuid4().hex[:6]}"


def fresh_consumer(topic: str, label: str) -> AIOKafkaConsumer:
    """A plain aiokafka consumer in a fresh group, from the earliest offset, committing by hand."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=benchkit.BOOTSTRAP,
        group_id=fresh_group(label),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )


def record_of(cr: object) -> Record:
    """The engine's Record for a raw aiokafka record (the stock subscriber hands those out)."""
    key = cr.key.decode() if cr.key is not None else None  # type: ignore[attr-defined]
    return Record(
        cr.topic,  # type: ignore[attr-defined]
        cr.partition,  # type: ignore[attr-defined]
        cr.offset,  # type: ignore[attr-defined]
        key,
        cr.value,  # type: ignore[attr-defined]
        tuple(cr.headers),  # type: ignore[attr-defined]
        cr.timestamp,  # type: ignore[attr-defined]
        1,
        cr.topic,  # type: ignore[attr-defined]
        cr.partition,  # type: ignore[attr-defined]
        cr.offset,  # type: ignore[attr-defined]
    )


async def run_engine(topic: str, tmp: Path, io_s: float, label: str) -> float:
    inbox = benchkit.Inbox(tmp / f"{label}.db")
    service = benchkit.Service(inbox, io_s)
    engine = ConsumerEngine(
        bootstrap_servers=benchkit.BOOTSTRAP,
        group_id=fresh_group(label),
        topics=[topic],
        handler=service.handle,
        config=ENGINE_CONFIG,
        kreis_of=lambda ags: ags[:5],
    )
    await engine.start()
    await service.wait_done(EVENTS)
    await engine.stop()
    assert inbox.count() == EVENTS
    await inbox.close()
    return service.rate


async def run_stock_faststream(topic: str, tmp: Path) -> float:
    inbox = benchkit.Inbox(tmp / "faststream.db")
    service = benchkit.Service(inbox, IO_S)
    broker = KafkaBroker(benchkit.BOOTSTRAP, logger=None)

    @broker.subscriber(  # type: ignore[misc]
        topic,
        group_id=fresh_group("faststream"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
    )
    async def on_event(msg: KafkaMessage) -> None:
        await service.handle(record_of(msg.raw_message))
        await msg.ack()

    await broker.start()
    await service.wait_done(BASELINE_EVENTS)
    await broker.stop()
    await inbox.close()
    return BASELINE_EVENTS / (service.last_done - (service.first_start or 0))


def run_parallel_consumer(topic: str) -> float:
    """Confluent's Parallel Consumer: KEY order, as many records in flight as the engine, 5 ms I/O."""
    figures = jvm_anchors.run(
        "parallel-consumer",
        "ParallelConsumerBench",
        benchkit.BOOTSTRAP,
        topic,
        EVENTS,
        ENGINE_CONFIG.max_in_flight_per_partition,
        int(IO_S * 1000),
    )
    return float(figures["events_per_s"])


async def run_same_work_loop(topic: str, tmp: Path) -> float:
    """A plain aiokafka loop doing the engine's per-record work (decode, validate, inbox) one at a time."""
    inbox = benchkit.Inbox(tmp / "loop.db")
    service = benchkit.Service(inbox, 0.0)
    consumer = fresh_consumer(topic, "loop")
    await consumer.start()
    try:
        while service.done < EVENTS:
            batch = await consumer.getmany(timeout_ms=500, max_records=ENGINE_CONFIG.fetch_max_records)
            for records in batch.values():
                for cr in records:
                    await service.handle(record_of(cr))
            if batch:
                await consumer.commit()
    finally:
        await consumer.stop()
    assert inbox.count() == EVENTS
    await inbox.close()
    return service.rate


async def run_raw_aiokafka(topic: str) -> float:
    consumer = fresh_consumer(topic, "raw")
    await consumer.start()
    count, first, last = 0, 0.0, 0.0
    try:
        while count < EVENTS:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                if records and not first:
                    first = time.perf_counter()
                count += len(records)
            last = time.perf_counter()
    finally:
        await consumer.stop()
    return count / (last - first)


def _subject_keyed(
    event: tuple[bytes, bytes, list[tuple[str, bytes]]],
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    _, value, headers = event
    return dict(headers)["ce_subject"], value, headers


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    benchkit.enable_metrics()
    rng = random.Random(42)
    places = benchkit.municipalities()
    prefix = f"bench.throughput.{uuid.uuid4().hex[:6]}"
    topic = f"{prefix}.v1"
    await benchkit.create_topic(topic, partitions=1)
    aggregates = [
        (str(uuid.UUID(int=rng.getrandbits(128))), rng.choice(places).ags) for _ in range(AGGREGATES)
    ]
    by_ags: dict[str, list[str]] = {}
    for subject, ags in aggregates:
        by_ags.setdefault(ags, []).append(subject)
    events = []
    for _ in range(EVENTS):  # uniform over AGS, then an aggregate of that AGS
        ags = rng.choice(places).ags
        subjects = by_ags.setdefault(ags, [str(uuid.UUID(int=rng.getrandbits(128)))])
        events.append(benchkit.event(ags, rng.choice(subjects)))
    load_at_start = os.getloadavg()
    print("building the Java anchors (offline when cached) ...")
    jvm_anchors.build()
    print(f"producing {EVENTS} events over {len(places)} AGS and {AGGREGATES} aggregates to {topic} ...")
    await benchkit.produce_all(topic, events)
    # The same records keyed by aggregate: Parallel Consumer's KEY order is by record key only.
    by_subject = f"{prefix}.by-subject.v1"
    await benchkit.create_topic(by_subject, partitions=1)
    await benchkit.produce_all(by_subject, (_subject_keyed(e) for e in events))
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            print("engine, 5 ms I/O ...")
            engine_rate = await run_engine(topic, tmp, IO_S, "engine")
            print(f"  {engine_rate:,.0f} events/s")
            print("Confluent Parallel Consumer, KEY order by aggregate, 5 ms I/O ...")
            pc_rate = await asyncio.to_thread(run_parallel_consumer, by_subject)
            print(f"  {pc_rate:,.0f} events/s")
            print("Confluent Parallel Consumer, KEY order by AGS (the topic's own key), 5 ms I/O ...")
            pc_ags_rate = await asyncio.to_thread(run_parallel_consumer, topic)
            print(f"  {pc_ags_rate:,.0f} events/s")
            print(f"faststream stock subscriber, 5 ms I/O, {BASELINE_EVENTS} events ...")
            baseline_rate = await run_stock_faststream(topic, tmp)
            print(f"  {baseline_rate:,.0f} events/s")
            print("engine, 0 ms I/O ...")
            zero_rate = await run_engine(topic, tmp, 0.0, "engine0")
            print(f"  {zero_rate:,.0f} events/s")
            print("plain aiokafka loop, same work one record at a time ...")
            loop_rate = await run_same_work_loop(topic, tmp)
            print(f"  {loop_rate:,.0f} events/s")
            print("plain aiokafka read loop ...")
            raw_rate = await run_raw_aiokafka(topic)
            print(f"  {raw_rate:,.0f} events/s")
    finally:
        await benchkit.delete_topics(prefix)
    result = {
        "engine_events_per_s": round(engine_rate, 1),
        "baseline_events_per_s": round(baseline_rate, 1),
        "ratio": round(engine_rate / baseline_rate, 2),
        "parallel_consumer_events_per_s": round(pc_rate, 1),
        "vs_parallel_consumer": round(engine_rate / pc_rate, 3),
        "parallel_consumer_keyed_by_ags_events_per_s": round(pc_ags_rate, 1),
        "engine_zero_io_events_per_s": round(zero_rate, 1),
        "same_work_loop_events_per_s": round(loop_rate, 1),
        "same_work_ratio": round(zero_rate / loop_rate, 3),
        "raw_aiokafka_events_per_s": round(raw_rate, 1),
        "overhead_ratio": round(zero_rate / raw_rate, 3),
        "max_in_flight": ENGINE_CONFIG.max_in_flight_per_partition,
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "events": EVENTS,
        "baseline_events": BASELINE_EVENTS,
        "aggregates": AGGREGATES,
        "municipalities": len(places),
        "io_ms": IO_S * 1000,
    }
    print(f"ratio engine/stock = {result['ratio']}x (target >= 50x)")
    print(f"engine/Parallel Consumer = {result['vs_parallel_consumer']} (target >= 1.0)")
    print(f"engine(0 ms)/same-work loop = {result['same_work_ratio']} (target >= 0.8)")
    print(f"overhead ratio engine(0 ms)/raw read = {result['overhead_ratio']} (target >= 0.5)")
    print(f"wrote {benchkit.write_result('isolation-throughput', result)}")


if __name__ == "__main__":
    asyncio.run(main())
