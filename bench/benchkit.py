"""What the isolation benchmarks share: municipalities, events on the wire, a consumer with an inbox.

The consumer does what a service's typed dispatch does for each event: decode the CloudEvents
binary-mode headers, validate the JSON payload with a frozen pydantic model, simulate the I/O of
its effect, and record the `ce_id` in a SQLite inbox (group-committed, WAL) in one go.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sqlite3
import statistics
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from pydantic import BaseModel, ConfigDict

from wegweiser.common.engine import Record

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
CE_TYPE = "de.wegweiser.intake.arrival.registered.v1"


@dataclass(frozen=True)
class Municipality:
    ags: str
    name: str
    kreis: str
    population: int


def municipalities() -> list[Municipality]:
    """Populated municipalities of Baden-Württemberg (AGS prefix 08)."""
    packaged = ROOT.parent / "libs/common/src/wegweiser/common/data/gemeinden.csv"
    path = packaged if packaged.exists() else Path("/work/shared/data/gemeinden.csv")
    with path.open(encoding="utf-8") as f:
        rows = [
            Municipality(r["ags"], r["name"], r["kreis_ags"], int(r["population"] or 0))
            for r in csv.DictReader(f)
            if r["ags"].startswith("08") and int(r["population"] or 0) > 0
        ]
    return rows


class ArrivalRegistered(BaseModel):
    """The payload the benchmark consumer validates (tolerant reader: unknown fields ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    arrival_id: uuid.UUID
    ags: str
    household_size: int
    registered_at: datetime


def event(ags: str, subject: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of one arrival event in CloudEvents binary mode."""
    ce_id = str(uuid.uuid4())
    value = json.dumps(
        {
            "arrival_id": subject,
            "ags": ags,
            "household_size": 3,
            "registered_at": datetime.now(UTC).isoformat(),
            "note": "x" * 64,
        }
    ).encode()
    headers = [
        ("ce_id", ce_id.encode()),
        ("ce_source", b"/wegweiser/intake"),
        ("ce_type", CE_TYPE.encode()),
        ("ce_specversion", b"1.0"),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("ce_subject", subject.encode()),
        ("content-type", b"application/json"),
        ("traceparent", f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01".encode()),
    ]
    return ags.encode(), value, headers


async def create_topic(name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, partitions, 1, topic_configs={"retention.ms": str(3600_000)})]
        )
    finally:
        await admin.close()


async def delete_topics(prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


def producer() -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_batch_size=256 * 1024,
    )


async def produce_all(topic: str, events: Iterable[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> int:
    p = producer()
    await p.start()
    try:
        futures = [await p.send(topic, key=k, value=v, headers=h) for k, v, h in events]
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await p.stop()


class Inbox:
    """SQLite inbox with group commit: one transaction per batch of events, WAL, durable on commit."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS inbox (ce_id TEXT PRIMARY KEY, applied_at REAL)")
        self._pending: list[tuple[str, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def record(self, ce_id: str) -> bool:
        """True if this event is new (its effect counts), False for a redelivery."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((ce_id, future))
        self._wake.set()
        return await future

    async def _run(self) -> None:
        db = self.db
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            now = time.time()
            db.execute("BEGIN")
            results = [
                db.execute("INSERT OR IGNORE INTO inbox VALUES (?, ?)", (ce_id, now)).rowcount == 1
                for ce_id, _ in batch
            ]
            db.execute("COMMIT")
            for (_, future), new in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(new)

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM inbox").fetchone()[0])

    async def close(self) -> None:
        self._task.cancel()
        self.db.close()


class Service:
    """The per-event work of a consuming service: decode, validate, effect (simulated I/O), inbox."""

    def __init__(self, inbox: Inbox, io_s: float) -> None:
        self.inbox = inbox
        self.io_s = io_s
        self.done = 0
        self.first_start: float | None = None
        self.last_done = 0.0
        self._target: int | None = None
        self._reached = asyncio.Event()

    async def wait_done(self, count: int) -> None:
        """Return once `count` events have been handled."""
        self._target = count
        if self.done < count:
            await self._reached.wait()

    async def handle(self, record: Record) -> None:
        if self.first_start is None:
            self.first_start = time.perf_counter()
        envelope = {k: v.decode() for k, v in record.headers if k.startswith("ce_")}
        if envelope.get("ce_type") != CE_TYPE:
            raise ValueError(f"unknown type {envelope.get('ce_type')}")
        ArrivalRegistered.model_validate_json(record.value or b"")
        if self.io_s:
            await asyncio.sleep(self.io_s)
        await self.inbox.record(envelope["ce_id"])
        self.done += 1
        self.last_done = time.perf_counter()
        if self._target is not None and self.done >= self._target:
            self._reached.set()

    @property
    def rate(self) -> float:
        if self.first_start is None or self.done == 0:
            return 0.0
        return self.done / max(self.last_done - self.first_start, 1e-9)


def enable_metrics() -> InMemoryMetricReader:
    """Record the engine's metrics with the real SDK, so that their cost is measured too."""
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return reader


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]
        if len(values) > 1
        else values[0]
    )


def write_result(name: str, result: dict[str, object]) -> Path:
    """Write the figures, with the machine's load (other processes share its two cores)."""
    result = {**result, "load_average_1m_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return path
