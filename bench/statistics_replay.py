"""statistics-replay: how fast a rebuild replays the pseudonymous history into a fresh projection.

    ./dev run python bench/statistics_replay.py            # 3.5 million events; see bench/README.md

1. Produces a synthetic BW history since 2017 (``services/statistics/tests/synthetic_history.py``)
   into a dedicated topic on the real broker (12 partitions, record time = event time, kept forever
   until the run deletes it).
2. ``raw_events_per_s``: a plain aiokafka loop that only reads the topic (getmany, nothing else).
3. ``java_consumer_perf_events_per_s``: Kafka's own ``ConsumerPerformance`` on the same topic.
4. ``events_per_s``: ``projection.replay.replay`` — the code every rebuild runs — into a fresh
   PostgreSQL database: decoding and validation, aggregation, the projection's writes and its offsets.
5. For context, the time to publish everything from that projection (suppression included), once with
   the secondary suppression before issue 14 (``bench/legacy_suppression.py``) and once with today's, and
   both suppressions' figures on the same cells: primary and secondary cells, cells an intruder could
   compute through chains of relations, and a lower bound for any safe secondary suppression.
6. ``kafka_streams_events_per_s``: a Kafka Streams application (``bench/anchors/kafka-streams``) that
   counts the same topic into cells (indicator × region × period × breakdown) in its own state store,
   timed from its start to the last record applied; ``vs_kafka_streams`` is the replay ÷ that.

Writes ``bench/results/statistics-replay.json``. Never run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Hashable, Mapping
from pathlib import Path
from unittest import mock

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.ext.asyncio import async_sessionmaker

from wegweiser.common.db import UnitOfWork, create_engine
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.testing.infra import LOCAL_POSTGRES, fresh_database
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.projection.loader import load_facts
from wegweiser.statistics.projection.replay import ReplayPlan, replay
from wegweiser.statistics.publication import disclosure
from wegweiser.statistics.publication.compute import FamilyCells, Frame, all_families
from wegweiser.statistics.publication.disclosure import FamilyRelations
from wegweiser.statistics.publication.publisher import PublicationStats, Publisher, frame_for
from wegweiser.statistics.publication.suppression import (
    Relations,
    Suppression,
    is_primary,
    pinned,
    suppression,
)
from wegweiser.statistics.settings import StatisticsSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jvm_anchors
from legacy_suppression import greedy_suppress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services/statistics/tests"))  # the synthetic history, shared with the tests

from synthetic_history import History  # noqa: E402

PARTITIONS = 12
FULL_HISTORY = 3_500_000  # the figure the targets are set for
STREAMS_THREADS = 2  # one per core
FETCH = {"max_partition_fetch_bytes": 8 * 1024 * 1024, "fetch_max_bytes": 64 * 1024 * 1024}


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


async def create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, PARTITIONS, 1, topic_configs={"retention.ms": "-1", "retention.bytes": "-1"})]
        )
    finally:
        await admin.close()


async def delete_topic(bootstrap: str, name: str, *, prefix: bool = False) -> None:
    """Delete `name`, or with `prefix` every topic whose name starts with it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(name)] if prefix else [name]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, events: int) -> tuple[int, float]:
    """The synthetic history as CloudEvents records; returns (records, seconds)."""
    history = History.for_total(int(events * 1.02))  # a little more than needed; cut at exactly `events`
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=50, max_batch_size=1024 * 1024, compression_type=None
    )
    await producer.start()
    started = time.monotonic()
    sent = 0
    pending: list[asyncio.Future[object]] = []
    try:
        for item in history.events():
            if sent == events:
                break
            model = item.model
            payload = item.payload
            subject = payload.get("referral_id") or payload.get("case_id") or payload.get("arrival_id")
            headers = [
                ("ce_id", str(uuid.uuid4()).encode()),
                ("ce_source", f"/wegweiser/{model.source}".encode()),
                ("ce_type", model.ce_type().encode()),
                ("ce_specversion", b"1.0"),
                ("ce_time", item.at.isoformat().encode()),
                ("ce_subject", str(subject).encode()),
                ("content-type", b"application/json"),
            ]
            pending.append(
                await producer.send(
                    topic,
                    orjson.dumps(payload),
                    key=item.key.encode(),
                    headers=headers,
                    timestamp_ms=int(item.at.timestamp() * 1000),
                )
            )
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
                if sent % 500_000 < 20_000:
                    log(f"produced {sent:,} events")
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent, time.monotonic() - started


async def raw_read(bootstrap: str, topic: str, events: int) -> float:
    """Events per second of a loop that only fetches records (no decoding, no work)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **FETCH)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started = time.monotonic()
        n = 0
        while n < events:
            batch = await consumer.getmany(timeout_ms=1000, max_records=50_000)
            for records in batch.values():
                n += len(records)
        return n / (time.monotonic() - started)
    finally:
        await consumer.stop()


def java_consumer_perf(bootstrap: str, topic: str, events: int) -> tuple[float | None, str]:
    """Kafka's ConsumerPerformance (kafka-tools): its nMsg.sec column."""
    command = [
        str(ROOT / "deploy" / "local" / "kafka.sh"),
        "run-class",
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--messages",
        str(events),
        "--timeout",
        "60000",
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "nMsg.sec" in line and i + 1 < len(lines):
            names = [c.strip() for c in line.split(",")]
            values = [c.strip() for c in lines[i + 1].split(",")]
            row = dict(zip(names, values, strict=False))
            return float(row["nMsg.sec"]), lines[i + 1]
    return None, (out.stdout + out.stderr)[-2000:]


async def end_of_topic(bootstrap: str, topic: str) -> ReplayPlan:
    """Replay the whole topic: up to the end offsets it has now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(PARTITIONS)])
    finally:
        await consumer.stop()
    return ReplayPlan(topics=[topic], target={(tp.topic, tp.partition): o for tp, o in ends.items()})


async def replay_into_fresh_projection(
    bootstrap: str, topic: str, settings: StatisticsSettings
) -> tuple[int, float, dict[str, object]]:
    """Replay with the tuning a rebuild of the service takes from ``settings``, then publish."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade_database(engine, MIGRATIONS)
        generations = Generations(engine, async_sessionmaker(engine, expire_on_commit=False))
        generation = (await generations.create(live_offsets={})).id
        plan = await end_of_topic(bootstrap, topic)
        started = time.monotonic()
        progress = await replay(
            bootstrap_servers=bootstrap,
            engine=engine,
            generation=generation,
            plan=plan,
            flush_events=settings.rebuild_flush_events,
            workers=settings.rebuild_workers,
        )
        seconds = time.monotonic() - started
        log(f"replayed {progress.read:,} events in {seconds:.1f} s; now publishing (for context)")
        extra: dict[str, object] = {
            "applied": progress.applied,
            "duplicates": progress.duplicates,
            "malformed": progress.malformed,
            **await publish_both(settings, generations, generation),
        }
        return progress.read, seconds, extra
    finally:
        await engine.dispose()


async def publish_both(
    settings: StatisticsSettings, generations: Generations, generation: int
) -> dict[str, object]:
    """The same projection published with the suppression before issue 14, then with today's; and both
    suppressions compared on its cells."""
    with mock.patch.object(disclosure, "suppression", _legacy_suppression):
        before = await _publish(settings, generations, generation)
    published = await _publish(settings, generations, generation)
    log(f"published in {before.seconds:.1f} s before, {published.seconds:.1f} s now; comparing")
    async with generations.engine.connect() as conn:
        facts = await load_facts(conn, generation)
    frame = frame_for(settings, dt.date.today())
    figures = await asyncio.to_thread(
        compare_suppression, all_families(facts, frame), frame, settings.suppression_threshold
    )
    return {
        "publish_seconds": round(published.seconds, 1),
        "publish_seconds_before": round(before.seconds, 1),
        "published_cells": published.cells,
        "suppressed_cells": published.suppressed,
        "suppressed_cells_before": before.suppressed,
        **figures,
        "secondary_share_of_published_cells": round(
            figures["secondary_suppressed_cells"] / published.cells, 4
        ),
        "secondary_share_of_published_cells_before": round(
            figures["secondary_suppressed_cells_before"] / before.cells, 4
        ),
    }


async def _publish(
    settings: StatisticsSettings, generations: Generations, generation: int
) -> PublicationStats:
    # A fresh publisher each time, so both write the whole table the same way. No feed here: the unit
    # of work (for the outbox) is never asked for.
    publisher = Publisher(
        settings=settings, generations=generations, unit_of_work=_no_outbox, today=dt.date.today
    )
    published = await publisher.publish(generation, feed=False)
    assert published is not None
    return published


def _legacy_suppression(
    values: Mapping[Hashable, int], relations: Relations[Hashable], *, threshold: int
) -> Suppression[Hashable]:
    hidden = greedy_suppress(values, relations, threshold=threshold)
    first = {c for c in hidden if is_primary(values[c], threshold=threshold)}
    return Suppression(first, hidden - first)


def compare_suppression(families: dict[str, FamilyCells], frame: Frame, threshold: int) -> dict[str, float]:
    """Both suppressions on the counts of every family (the derived values and the stock periods' copies
    follow from these): cells hidden by reason, CPU seconds, cells that chains of relations give away
    (``suppression.pinned``), and a lower bound for the secondary cells of any safe pattern."""
    figures: Counter[str] = Counter()
    for fc in families.values():
        relations = FamilyRelations(fc.family, frame)
        started = time.process_time()
        old = greedy_suppress(fc.counts, relations, threshold=threshold)
        figures["suppression_cpu_seconds_before"] += time.process_time() - started
        started = time.process_time()
        new = suppression(fc.counts, relations, threshold=threshold)
        figures["suppression_cpu_seconds"] += time.process_time() - started
        figures["count_cells"] += len(fc.counts)
        figures["primary_suppressed_cells"] += len(new.primary)
        figures["secondary_suppressed_cells"] += len(new.secondary)
        figures["secondary_suppressed_cells_before"] += len(old - new.primary)
        figures["pinned_cells"] += len(pinned(new.hidden, relations))
        figures["pinned_cells_before"] += len(pinned(old, relations))
        figures["secondary_lower_bound"] += secondary_lower_bound(fc.counts, relations, new.primary)
    rounded = {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}
    rounded["secondary_lower_bound"] = round(figures["secondary_lower_bound"])
    return rounded


def secondary_lower_bound(
    values: Mapping[Hashable, int], relations: Relations[Hashable], first: set[Hashable]
) -> float:
    """Fewer secondary cells than this cannot protect the primary ones: every relation with a single
    primary cell needs one more hidden cell, and a cell can serve at most the lone relations it is in, so
    each such relation needs at least 1 / (the most lone relations any of its candidates serves)."""
    hidden_in: Counter[Hashable] = Counter(r for c in first for r in relations.relations_of(c))
    lone = {r for r, n in hidden_in.items() if n == 1}
    bound = 0.0
    for relation in lone:
        total, parts = relations.members(relation)
        serves = [
            sum(1 for r in relations.relations_of(c) if r in lone)
            for c in (total, *parts)
            if c not in first and values.get(c, 0) > 0
        ]
        if serves:
            bound += 1 / max(serves)
    return bound


async def kafka_streams_count(bootstrap: str, topic: str, events: int) -> dict[str, object]:
    """The Kafka Streams anchor on the same topic; its internal topics are deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="streams-state-") as state_dir:
        figures = await asyncio.to_thread(
            jvm_anchors.run,
            "kafka-streams",
            "StatisticsCountBench",
            bootstrap,
            topic,
            events,
            STREAMS_THREADS,
            state_dir,
            heap="2g",
        )
    await delete_topic(bootstrap, str(figures["application_id"]), prefix=True)
    return figures


def _no_outbox() -> UnitOfWork:
    raise AssertionError("the benchmark publishes without a feed")


async def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument(
        "--events", type=int, default=FULL_HISTORY, help="events in the history (fewer for a quick run)"
    )
    cli.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    cli.add_argument("--postgres", default=os.environ.get("WEGWEISER_TEST_POSTGRES_URL", LOCAL_POSTGRES))
    cli.add_argument("--flush-events", type=int, default=StatisticsSettings().rebuild_flush_events)
    cli.add_argument("--workers", type=int, default=StatisticsSettings().rebuild_workers)
    cli.add_argument("--keep-topic", action="store_true", help="leave the topic on the broker")
    cli.add_argument("--topic", help="reuse an existing topic (from --keep-topic) instead of producing")
    cli.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "statistics-replay.json")
    args = cli.parse_args()

    load_at_start = os.getloadavg()
    log("building the Java anchors (offline when cached)")
    jvm_anchors.build()
    topic = args.topic or f"bench.statistics.replay.{uuid.uuid4().hex[:8]}"
    produced: dict[str, object] = {}
    if not args.topic:
        await create_topic(args.bootstrap, topic)
        log(f"producing {args.events:,} synthetic events into {topic}")
        sent, seconds = await produce(args.bootstrap, topic, args.events)
        produced = {"produced": sent, "produce_events_per_s": round(sent / seconds)}
        log(f"produced {sent:,} events in {seconds:.0f} s")
    try:
        log("raw aiokafka read")
        raw = await raw_read(args.bootstrap, topic, args.events)
        log(f"raw: {raw:,.0f} events/s; Kafka ConsumerPerformance")
        java, java_line = java_consumer_perf(args.bootstrap, topic, args.events)
        log(f"ConsumerPerformance: {java_line}")
        log("replay into a fresh projection (PostgreSQL)")
        async with fresh_database(args.postgres) as url:
            settings = StatisticsSettings(
                database_url=url, rebuild_flush_events=args.flush_events, rebuild_workers=args.workers
            )
            replayed, seconds, extra = await replay_into_fresh_projection(args.bootstrap, topic, settings)
        rate = replayed / seconds
        log("Kafka Streams counting the same topic into cells")
        streams = await kafka_streams_count(args.bootstrap, topic, args.events)
        log(f"Kafka Streams: {streams}")
        streams_rate = float(streams["events_per_s"])  # type: ignore[arg-type]
        result = {
            "events": replayed,
            "events_per_s": round(rate),
            "raw_events_per_s": round(raw),
            "ratio": round(rate / raw, 3),
            "kafka_streams_events_per_s": round(streams_rate),
            "vs_kafka_streams": round(rate / streams_rate, 3),
            "kafka_streams": {k: v for k, v in streams.items() if k != "application_id"},
            "java_consumer_perf_events_per_s": round(java) if java else None,
            "replay_seconds": round(seconds, 1),
            "flush_events": args.flush_events,
            "workers": args.workers,
            **extra,
            **produced,
            "targets": {"events_per_s": 50_000, "ratio": 0.5, "vs_kafka_streams": 0.5},
            "full_history": args.events == FULL_HISTORY,
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "topic_partitions": PARTITIONS,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "system": platform.platform(),
            },
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep_topic and not args.topic:
            await delete_topic(args.bootstrap, topic)
        elif not args.topic:
            log(f"kept topic {topic}")


if __name__ == "__main__":
    if re.search(r"\bpytest\b", " ".join(sys.argv)):
        raise SystemExit("a benchmark, not a test")
    asyncio.run(main())
