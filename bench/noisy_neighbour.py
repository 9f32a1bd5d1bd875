"""noisy-neighbour: does a flooding and a failing municipality hurt the others' latency?

Arrivals over all populated BW municipalities, weighted by population, offered at 50 % of the
engine's measured capacity for 60 s with 5 ms simulated work (decode, validate and a SQLite inbox
included). Run 1 is quiet; in run 2 Stuttgart (08111000) offers 50x its share on top and one other
municipality fails every event (retried, then dead-lettered). End-to-end latency is the producer's
record timestamp to the end of handling; p50/p99 are over the other municipalities. Every event is
accounted for: processed (inbox) or dead-lettered (DLQ), none missing.

    ./dev run python bench/noisy_neighbour.py            # add --seconds 20 for a shorter try
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import logging
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchkit

from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.engine.dlq_command import list_entries

STUTTGART = "08111000"
FAILING = "08416041"  # Tübingen: fails every event
FLOOD_FACTOR = 50
PARTITIONS = 12
IO_S = 0.005
CAPACITY_EVENTS = 40_000
# Service defaults, except a short back-off so that the failing events reach the DLQ within the run.
CONFIG = EngineConfig(backoff_initial_s=0.2, backoff_multiplier=3.0, backoff_max_s=5.0)


# ---------------------------------------------------------------------- producer (own process)


def produce(
    topic: str, streams: list[tuple[float, list[str], list[float]]], seconds: float, ids: str
) -> None:
    """Offer each stream (rate/s, AGS, cumulative weights) for `seconds`; write every ce_id sent."""
    asyncio.run(_produce(topic, streams, seconds, Path(ids)))


async def _produce(
    topic: str, streams: list[tuple[float, list[str], list[float]]], seconds: float, ids: Path
) -> None:
    # Cheap events: pre-serialized payloads and counter-based ids, so that generating the load
    # takes little of the CPU the consumer shares with it (the payload's ids are not checked).
    rng = random.Random(7)
    payloads = [benchkit.event("08000000", str(uuid.uuid4()))[1] for _ in range(256)]
    constant = [(k, v) for k, v in benchkit.event("08000000", "x")[2] if k not in ("ce_id", "ce_subject")]
    run = uuid.uuid4().hex[:8]
    producer = AIOKafkaProducer(
        bootstrap_servers=benchkit.BOOTSTRAP,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    sent = [0] * len(streams)
    n = 0
    start = time.perf_counter()
    with ids.open("w") as out:
        while (elapsed := time.perf_counter() - start) < seconds:
            for i, (rate, places, cum) in enumerate(streams):
                due = int(rate * elapsed)
                total = cum[-1]
                while sent[i] < due:
                    ags = (
                        places[bisect.bisect_right(cum, rng.random() * total)]
                        if len(places) > 1
                        else places[0]
                    )
                    n += 1
                    ce_id = f"{run}-{n}"
                    headers = [
                        ("ce_id", ce_id.encode()),
                        ("ce_subject", f"arrival-{ce_id}".encode()),
                        *constant,
                    ]
                    await producer.send(topic, key=ags.encode(), value=payloads[n & 255], headers=headers)
                    out.write(f"{ce_id} {ags}\n")
                    sent[i] += 1
            await asyncio.sleep(0.002)
        await producer.flush()
    await producer.stop()


# ---------------------------------------------------------------------- consumer (this process)


class Measured(benchkit.Service):
    """The benchmark service, failing every event of one municipality and timing the others."""

    def __init__(self, inbox: benchkit.Inbox, failing: str | None) -> None:
        super().__init__(inbox, IO_S)
        self.failing = failing
        self.latency_ms: list[float] = []

    async def handle(self, record: Record) -> None:
        if record.key == self.failing:
            raise RuntimeError("this municipality's events always fail")
        await super().handle(record)
        if record.key not in (STUTTGART, self.failing) and record.attempt == 1:
            self.latency_ms.append(time.time() * 1000 - record.timestamp_ms)


def start_engine(topic: str, group: str, service: benchkit.Service) -> ConsumerEngine:
    return ConsumerEngine(
        bootstrap_servers=benchkit.BOOTSTRAP,
        group_id=group,
        topics=[topic],
        handler=service.handle,
        config=CONFIG,
        kreis_of=lambda ags: ags[:5],
    )


async def measure_capacity(places: list[benchkit.Municipality], tmp: Path, prefix: str) -> float:
    """Events/s the engine sustains with 5 ms work, reading a backlog flat out."""
    topic = f"{prefix}.capacity.v1"
    await benchkit.create_topic(topic, PARTITIONS)
    rng = random.Random(1)
    weights = [p.population for p in places]
    chosen = rng.choices([p.ags for p in places], weights=weights, k=CAPACITY_EVENTS)
    await benchkit.produce_all(topic, (benchkit.event(ags, str(uuid.uuid4())) for ags in chosen))
    inbox = benchkit.Inbox(tmp / "capacity.db")
    service = benchkit.Service(inbox, IO_S)
    engine = start_engine(topic, f"{prefix}-capacity", service)
    await engine.start()
    await service.wait_done(CAPACITY_EVENTS)
    await engine.stop()
    await inbox.close()
    return service.rate


async def run(
    label: str,
    places: list[benchkit.Municipality],
    rate: float,
    seconds: float,
    noisy: bool,
    tmp: Path,
    prefix: str,
) -> dict[str, float | int]:
    topic = f"{prefix}.{label}.v1"
    group = f"{prefix}-{label}"
    await benchkit.create_topic(topic, PARTITIONS)
    total_population = sum(p.population for p in places)
    all_ags = [p.ags for p in places]
    streams = [(rate, all_ags, list(itertools.accumulate(p.population for p in places)))]
    stuttgart_share = next(p.population for p in places if p.ags == STUTTGART) / total_population
    if noisy:
        streams.append((FLOOD_FACTOR * stuttgart_share * rate, [STUTTGART], [1.0]))
    inbox = benchkit.Inbox(tmp / f"{label}.db")
    service = Measured(inbox, FAILING if noisy else None)
    engine = start_engine(topic, group, service)
    await engine.start()
    for _ in range(600):  # joined the group: the partitions are being read
        if engine.ready:
            break
        await asyncio.sleep(0.05)
    ids = tmp / f"{label}.ids"
    print(f"  offering {sum(s[0] for s in streams):,.0f} events/s for {seconds:.0f} s ({label})")
    producer = multiprocessing.get_context("spawn").Process(
        target=produce, args=(topic, streams, seconds, str(ids))
    )
    cpu = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    window = time.perf_counter()
    producer.start()
    await asyncio.to_thread(producer.join)
    # CPU of the consumer (this process) and of the producer over the offered window: they share
    # the machine's cores, and the noisy run's producer offers four times as many events.
    window = time.perf_counter() - window
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    consumer_cores = (time.process_time() - cpu[0]) / window
    producer_cores = (children.ru_utime + children.ru_stime - cpu[1].ru_utime - cpu[1].ru_stime) / window
    sent = dict(line.split() for line in ids.read_text().splitlines())
    print(f"  sent {len(sent):,}; waiting until every event is processed or dead-lettered ...")
    dead: set[str] = set()
    checked = 0.0
    for tick in range(3600):  # a safety limit of 30 minutes, not a measurement
        processed = inbox.count()
        if processed + len(dead) < len(sent) and noisy and time.monotonic() - checked > 5:
            entries = await list_entries(
                bootstrap_servers=benchkit.BOOTSTRAP, group=group, include_parked=False
            )
            dead = {e.ce_id or "" for e in entries}
            checked = time.monotonic()
        if processed + len(dead) >= len(sent):
            break
        if tick % 20 == 0:
            print(f"    processed {processed:,}, dead-lettered {len(dead):,} of {len(sent):,}")
        await asyncio.sleep(0.5)
    await engine.stop()
    applied = {row[0] for row in inbox.db.execute("SELECT ce_id FROM inbox")}
    await inbox.close()
    missing = set(sent) - applied - dead
    lat = service.latency_ms
    stats = {
        "sent": len(sent),
        "processed": len(applied & set(sent)),
        "dead_lettered": len(dead & set(sent)),
        "missing": len(missing),
        "p50_ms": round(benchkit.percentile(lat, 0.50), 2),
        "p99_ms": round(benchkit.percentile(lat, 0.99), 2),
        "measured_events": len(lat),
        "stuttgart_sent": sum(1 for a in sent.values() if a == STUTTGART),
        "failing_sent": sum(1 for a in sent.values() if a == FAILING),
        "deferred": sum(engine.metrics.counts["deferred"].values()),
        "consumer_cores": round(consumer_cores, 2),
        "producer_cores": round(producer_cores, 2),
    }
    print(f"  others: p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms over {len(lat):,} events; {stats}")
    return stats


async def main(seconds: float) -> None:
    logging.basicConfig(level=logging.ERROR)
    benchkit.enable_metrics()
    places = benchkit.municipalities()
    prefix = f"bench.noisy.{uuid.uuid4().hex[:6]}"
    try:
        with tempfile.TemporaryDirectory() as tmp_dir:
            tmp = Path(tmp_dir)
            print(f"measuring capacity on {CAPACITY_EVENTS:,} events, {PARTITIONS} partitions ...")
            capacity = await measure_capacity(places, tmp, prefix)
            rate = capacity / 2
            print(f"  capacity {capacity:,.0f} events/s; offering 50 % = {rate:,.0f} events/s")
            quiet = await run("quiet", places, rate, seconds, False, tmp, prefix)
            noisy = await run("noisy", places, rate, seconds, True, tmp, prefix)
    finally:
        await benchkit.delete_topics(prefix)
    result = {
        "quiet_p99_ms": quiet["p99_ms"],
        "noisy_p99_ms": noisy["p99_ms"],
        "ratio": round(noisy["p99_ms"] / quiet["p99_ms"], 3),
        "events_sent": noisy["sent"],
        "events_processed": noisy["processed"],
        "events_dead_lettered": noisy["dead_lettered"],
        "events_missing": noisy["missing"],
        "quiet_p50_ms": quiet["p50_ms"],
        "noisy_p50_ms": noisy["p50_ms"],
        "quiet_events_sent": quiet["sent"],
        "quiet_events_missing": quiet["missing"],
        "capacity_events_per_s": round(capacity, 1),
        "offered_events_per_s": round(rate, 1),
        "seconds": seconds,
        "stuttgart_events_sent": noisy["stuttgart_sent"],
        "stuttgart_events_deferred": noisy["deferred"],
        "failing_ags": FAILING,
        "failing_events_sent": noisy["failing_sent"],
        "partitions": PARTITIONS,
        "quiet_consumer_cores": quiet["consumer_cores"],
        "noisy_consumer_cores": noisy["consumer_cores"],
        "quiet_producer_cores": quiet["producer_cores"],
        "noisy_producer_cores": noisy["producer_cores"],
    }
    print(
        f"others' p99: quiet {quiet['p99_ms']} ms, noisy {noisy['p99_ms']} ms"
        f" -> ratio {result['ratio']} (target <= 1.5)"
    )
    print(
        f"noisy run: sent {noisy['sent']:,}, processed {noisy['processed']:,},"
        f" dead-lettered {noisy['dead_lettered']:,}, missing {noisy['missing']}"
    )
    print(f"wrote {benchkit.write_result('noisy-neighbour', result)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="offered load duration per run (default 60)"
    )
    asyncio.run(main(parser.parse_args().seconds))
