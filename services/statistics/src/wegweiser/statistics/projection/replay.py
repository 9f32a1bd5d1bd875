"""The replay path: read the pseudonymous topics in large batches into one generation.

Used by every rebuild (and by ``bench/statistics_replay.py``, so the benchmark measures this code).
Records are fetched in bulk and decoded straight from their bytes; the deltas of up to ``flush_events``
events are merged in memory and written in one transaction together with the position reached in
every partition, so a restarted rebuild resumes exactly where it stopped. The next batch is read while
the previous one is written; large replays split the partitions among worker processes.

Exactly once without an inbox row per event:

* **Duplicates in the source** (an outbox relay that crashed between publishing and marking sent
  publishes again) carry the original ``ce_id``; they are dropped by a per-partition window of recent
  ids (``dedupe_window_ms`` of record time; on resume the window is read again from ``window_offset``).
* **Overlap with the live consumer** (it mirrors every event into a building generation, through that
  generation's inbox): only events the live group can still deliver may be applied twice. Those are the
  ones at or after its committed offsets when the rebuild was registered, and those waiting in its retry
  or dead-letter topics (``risky_ids``); for them the replay claims the id in the same inbox first.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from wegweiser.common.envelope import MalformedEvent
from wegweiser.common.events import Event
from wegweiser.common.kafka_security import client_options
from wegweiser.statistics.projection import tables
from wegweiser.statistics.projection.batch import Batch, Caches
from wegweiser.statistics.projection.decode import decode_record
from wegweiser.statistics.projection.writer import PgWriter, SqliteWriter, Writer, flush

log = logging.getLogger(__name__)

Offsets = dict[tuple[str, int], int]


def offsets_to_json(offsets: Mapping[tuple[str, int], int]) -> dict[str, int]:
    return {f"{t}:{p}": o for (t, p), o in sorted(offsets.items())}


def offsets_from_json(data: Mapping[str, Any]) -> Offsets:
    out = {}
    for key, offset in data.items():
        topic, _, partition = key.rpartition(":")
        out[(topic, int(partition))] = int(offset)
    return out


@dataclass
class Progress:
    """How far a replay is; ``rate`` is events per second over the last few seconds."""

    total: int = 0
    read: int = 0
    applied: int = 0
    duplicates: int = 0
    malformed: int = 0
    ignored: int = 0
    rate: float = 0.0
    pending: int = 0  # read, but its batch not yet written
    resumed_from: int = 0  # events already read before this run (a resumed replay)
    started: float = field(default_factory=time.monotonic)
    done: bool = False

    @property
    def seen(self) -> int:
        return self.read + self.pending

    @property
    def eta_s(self) -> float | None:
        if self.done:
            return 0.0
        if self.rate <= 0:
            return None
        return max(0.0, (self.total - self.seen) / self.rate)


class _Window:
    """Recent event ids of one partition, by record time, for dropping re-published duplicates."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.ids: set[bytes] = set()
        self.order: deque[tuple[int, int, bytes]] = deque()  # (timestamp, offset, id)
        self.newest = 0

    def remember(self, ce_id: bytes, timestamp: int, offset: int) -> None:
        """Add an id not seen yet (the caller checked ``ids``)."""
        self.ids.add(ce_id)
        self.order.append((timestamp, offset, ce_id))
        if timestamp > self.newest:
            self.newest = timestamp
            horizon = timestamp - self.window_ms
            order = self.order
            while order and order[0][0] < horizon:
                self.ids.discard(order.popleft()[2])

    def start(self, default: int) -> int:
        """The offset a resumed replay must read from to rebuild this window."""
        return self.order[0][1] if self.order else default


class Sink:
    """Transactions on the generation's tables: asyncpg directly on PostgreSQL, SQLAlchemy on SQLite."""

    def __init__(self, engine: AsyncEngine, generation: int) -> None:
        self.engine = engine
        self.generation = generation
        self._pg: Any = None

    async def __aenter__(self) -> Sink:
        if self.engine.dialect.name == "postgresql":
            import asyncpg

            url = self.engine.url.set(drivername="postgresql")
            self._pg = await asyncpg.connect(url.render_as_string(hide_password=False))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._pg is not None:
            await self._pg.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Writer]:
        if self._pg is not None:
            async with self._pg.transaction():
                yield PgWriter(self._pg, self.generation)
        else:
            async with self.engine.begin() as conn:
                yield SqliteWriter(conn, self.generation)

    async def stored_offsets(self) -> dict[tuple[str, int], tuple[int, ...]]:
        """(next offset, window offset, applied, duplicates, malformed, ignored) per partition."""
        sql = (
            "SELECT topic, partition, next_offset, window_offset, applied, duplicates, malformed, ignored "
            f"FROM {tables.table_name(self.generation, 'offsets')}"
        )
        if self._pg is not None:
            rows = await self._pg.fetch(sql)
        else:
            async with self.engine.connect() as conn:
                rows = list(await conn.exec_driver_sql(sql))
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}


@dataclass
class ReplayPlan:
    """What to read and what may overlap with the live consumer."""

    topics: list[str]
    target: Offsets  # stop when every partition reached its target (end offsets at registration)
    live_offsets: Offsets = field(default_factory=dict)  # the live group's committed offsets then
    risky_ids: frozenset[str] = frozenset()  # ids in the live group's retry and dead-letter topics
    dedupe_window_ms: int = 30 * 24 * 3600 * 1000


APPLIED, DUPLICATES, MALFORMED, IGNORED = range(4)


@dataclass
class _Pending:
    batch: Batch = field(default_factory=Batch)
    risky: list[tuple[TopicPartition, str, int, Event]] = field(default_factory=list)
    dead: list[tuple[str, int, int, str | None, str | None, str]] = field(default_factory=list)
    counts: dict[TopicPartition, list[int]] = field(default_factory=dict)
    read: int = 0

    def count(self, tp: TopicPartition, what: int) -> None:
        counts = self.counts.get(tp)
        if counts is None:
            counts = self.counts[tp] = [0, 0, 0, 0]
        counts[what] += 1


async def replay(
    *,
    bootstrap_servers: str,
    engine: AsyncEngine,
    generation: int,
    plan: ReplayPlan,
    flush_events: int = 500_000,
    flush_interval_s: float = 30.0,
    progress: Progress | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    workers: int = 1,
    parallel_from: int = 200_000,
) -> Progress:
    """Replay ``plan.topics`` up to ``plan.target`` into ``generation``; resumable, exactly once.

    With ``workers`` > 1 (PostgreSQL only) and at least ``parallel_from`` events to read, the partitions
    are split among that many processes: each reads, decodes and writes its own partitions and stores
    their positions in its own transactions, so exactness and resumption work as with one.
    """
    job = _Job(
        bootstrap_servers,
        engine,
        generation,
        plan,
        flush_events,
        flush_interval_s,
        progress or Progress(),
        on_progress,
    )
    partitions = sorted(plan.target)
    if workers > 1 and engine.dialect.name == "postgresql" and len(partitions) > 1:
        async with Sink(engine, generation) as sink:
            stored = await sink.stored_offsets()
        remaining = sum(o - stored.get(tp, (0,))[0] for tp, o in plan.target.items())
        if remaining >= parallel_from:
            return await _replay_in_processes(job, workers)
    return await _replay_here(job)


@dataclass(frozen=True)
class _Job:
    """One replay's inputs, as both ways of running it (here, or split among processes) take them."""

    bootstrap_servers: str
    engine: AsyncEngine
    generation: int
    plan: ReplayPlan
    flush_events: int
    flush_interval_s: float
    progress: Progress
    on_progress: Callable[[Progress], Any] | None


async def _replay_here(job: _Job) -> Progress:
    async with Sink(job.engine, job.generation) as sink:
        stored = await sink.stored_offsets()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=job.bootstrap_servers,
            **client_options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            client_id=f"wegweiser-statistics-replay-g{job.generation}",
        )
        await consumer.start()
        collecting = gc.isenabled()
        # Millions of short-lived objects beside large long-lived dictionaries: automatic collections
        # would walk those dictionaries again and again (a third of the CPU). Instead what survives a
        # batch is frozen (excluded from collection) until the replay ends.
        gc.disable()
        try:
            run = _Replay(
                consumer,
                sink,
                job.plan,
                stored,
                job.progress,
                job.flush_events,
                job.flush_interval_s,
                job.on_progress,
            )
            await run.run()
            return job.progress
        finally:
            gc.unfreeze()
            if collecting:
                gc.enable()
            await consumer.stop()


_FIELDS = ("total", "read", "applied", "duplicates", "malformed", "ignored")


async def _replay_in_processes(job: _Job, workers: int) -> Progress:
    """Run the replay in ``workers`` processes over disjoint partitions; sum their progress here.

    Each worker is ``python -m wegweiser.statistics.projection.replay`` with its share of the plan on
    stdin and one JSON line of progress per written batch on stdout.
    """
    progress, partitions = job.progress, sorted(job.plan.target)
    url = job.engine.url.render_as_string(hide_password=False)
    processes = []
    for index in range(workers):
        mine = partitions[index::workers]
        share = {
            "bootstrap_servers": job.bootstrap_servers,
            "url": url,
            "generation": job.generation,
            "topics": job.plan.topics,
            "target": offsets_to_json({tp: job.plan.target[tp] for tp in mine}),
            "live_offsets": offsets_to_json({tp: o for tp, o in job.plan.live_offsets.items() if tp in mine}),
            "risky_ids": sorted(job.plan.risky_ids),
            "dedupe_window_ms": job.plan.dedupe_window_ms,
            "flush_events": job.flush_events,
            "flush_interval_s": job.flush_interval_s,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wegweiser.statistics.projection.replay",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1024 * 1024,
        )
        assert process.stdin is not None
        process.stdin.write(json.dumps(share).encode() + b"\n")
        await process.stdin.drain()
        process.stdin.close()
        processes.append(process)
    latest: dict[int, list[int]] = {}
    began = time.monotonic()

    async def follow(index: int, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            message = json.loads(line)
            if "error" in message:
                raise RuntimeError(f"replay worker {index} failed: {message['error']}")
            latest[index] = message["progress"]
            totals = [sum(v[i] for v in latest.values()) for i in range(len(_FIELDS) + 1)]
            (
                progress.total,
                progress.read,
                progress.applied,
                progress.duplicates,
                progress.malformed,
                progress.ignored,
            ) = totals[: len(_FIELDS)]
            progress.rate = totals[len(_FIELDS)] / max(time.monotonic() - began, 1e-9)
            if job.on_progress is not None:
                result = job.on_progress(progress)
                if asyncio.iscoroutine(result):
                    await result
        if await process.wait() != 0:
            raise RuntimeError(f"replay worker {index} exited with {process.returncode}")

    try:
        await asyncio.gather(*(follow(i, p) for i, p in enumerate(processes)))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    progress.done = True
    return progress


def _worker_main() -> None:
    """A replay worker process: its partitions, its own consumer and database connection."""
    from wegweiser.common.db import create_engine

    job = json.loads(sys.stdin.readline())
    out = sys.stdout

    def report(p: Progress) -> None:
        fields = [getattr(p, f) for f in _FIELDS]
        fields[_FIELDS.index("read")] = p.seen
        out.write(json.dumps({"progress": [*fields, p.seen - p.resumed_from]}) + "\n")
        out.flush()

    async def main() -> None:
        engine = create_engine(job["url"])
        plan = ReplayPlan(
            topics=job["topics"],
            target=offsets_from_json(job["target"]),
            live_offsets=offsets_from_json(job["live_offsets"]),
            risky_ids=frozenset(job["risky_ids"]),
            dedupe_window_ms=job["dedupe_window_ms"],
        )
        progress = Progress()
        try:
            await _replay_here(
                _Job(
                    job["bootstrap_servers"],
                    engine,
                    job["generation"],
                    plan,
                    job["flush_events"],
                    job["flush_interval_s"],
                    progress,
                    report,
                )
            )
            report(progress)
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except BaseException as exc:
        out.write(json.dumps({"error": repr(exc)[:2000]}) + "\n")
        out.flush()
        raise SystemExit(1) from exc


@dataclass(eq=False)
class _Replay:
    """One replay in this process: what it reads and writes, and (``__post_init__``) where it stands."""

    consumer: AIOKafkaConsumer
    sink: Sink
    plan: ReplayPlan
    stored: dict[tuple[str, int], tuple[int, ...]]
    progress: Progress
    flush_events: int
    flush_interval_s: float
    on_progress: Callable[[Progress], Any] | None

    def __post_init__(self) -> None:
        self.caches = Caches()
        self.inflight = 0
        self.person_keys: dict[str, int] = {}
        self.writing: asyncio.Task[None] | None = None
        self.rate_mark = (time.monotonic(), 0)
        # Per partition, set by ``_start``: where to resume applying, where the replay stops, where the
        # live group began (events from there on are claimed in the inbox), and the read position.
        self.resume: dict[TopicPartition, int] = {}
        self.target: dict[TopicPartition, int] = {}
        self.live: dict[TopicPartition, int | None] = {}
        self.position: dict[TopicPartition, int] = {}
        self.windows: dict[TopicPartition, _Window] = {}
        self.totals: dict[TopicPartition, list[int]] = {}
        self.risky_ids = {i.encode() for i in self.plan.risky_ids}

    async def run(self) -> None:
        """Read every partition up to its target; a transaction per ``flush_events`` events or interval."""
        consumer, progress = self.consumer, self.progress
        open_tps = await self._start()
        first_read, began = progress.read, time.monotonic()
        pending = self._pending()
        last_flush = time.monotonic()
        while open_tps:
            fetched = await consumer.getmany(timeout_ms=200, max_records=5_000)
            for tp, records in fetched.items():
                if tp in open_tps:
                    self._take(tp, records, pending)
                    await asyncio.sleep(0)  # let the previous batch's transaction take its next step
            for tp in list(open_tps):
                # The fetch position, not the last record: it also moves past offsets without records.
                position = max(self.position[tp], await consumer.position(tp))
                self.position[tp] = min(self.target[tp], position)
                if self.position[tp] >= self.target[tp]:
                    open_tps.discard(tp)
                    consumer.pause(tp)
            now = time.monotonic()
            if not open_tps or (
                pending.read
                and (pending.read >= self.flush_events or now - last_flush >= self.flush_interval_s)
            ):
                await self._submit(pending)
                pending = self._pending()
                last_flush = now
            if now - self.rate_mark[0] >= 2.0:
                await self._tick(pending.read)
        if self.writing is not None:
            await self.writing
        progress.done = True
        progress.rate = (progress.read - first_read) / max(1e-9, time.monotonic() - began)

    async def _start(self) -> set[TopicPartition]:
        """Seek each partition to where this generation's replay stopped (the beginning the first time);
        returns the partitions that still have events before their target."""
        consumer, plan, progress = self.consumer, self.plan, self.progress
        partitions = [TopicPartition(t, p) for (t, p) in sorted(plan.target)]
        consumer.assign(partitions)
        beginnings = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            stored = self.stored.get((tp.topic, tp.partition))
            if stored is None:
                consumer.seek(tp, beginnings[tp])
                self.resume[tp] = beginnings[tp]
                self.totals[tp] = [0, 0, 0, 0]
            else:
                consumer.seek(tp, max(stored[1], beginnings[tp]))
                self.resume[tp] = stored[0]
                self.totals[tp] = list(stored[2:])
            self.target[tp] = plan.target[(tp.topic, tp.partition)]
            self.live[tp] = plan.live_offsets.get((tp.topic, tp.partition))
            self.windows[tp] = _Window(plan.dedupe_window_ms)
        target, resume = self.target, self.resume
        progress.total = sum(max(0, target[tp] - beginnings[tp]) for tp in partitions)
        progress.read = sum(max(0, min(resume[tp], target[tp]) - beginnings[tp]) for tp in partitions)
        progress.resumed_from = progress.read
        self._sum_totals()
        self.rate_mark = (time.monotonic(), progress.read)
        self.position = dict(resume)
        open_tps = {tp for tp in partitions if resume[tp] < target[tp]}
        for tp in partitions:
            if tp not in open_tps:
                consumer.pause(tp)
        return open_tps

    def _take(self, tp: TopicPartition, records: list[Any], pending: _Pending) -> None:
        """One partition's fetched records into the pending batch: decoded, deduplicated, and applied,
        or held back for the generation's inbox when the live path may deliver them too."""
        window = self.windows[tp]
        known = window.ids
        remember = window.remember
        first_new = self.resume[tp]
        live_from = self.live[tp]
        stop = self.target[tp]
        risky_ids = self.risky_ids
        add = pending.batch.add
        applied = duplicates = ignored = read = 0
        for r in records:
            offset = r.offset
            if offset >= stop:
                break
            if offset < first_new:
                # Re-reading the dedupe window of a resumed replay: remember ids, apply nothing.
                raw_id = dict(r.headers).get("ce_id")
                if raw_id and raw_id not in known:
                    remember(raw_id, r.timestamp, offset)
                continue
            read += 1
            try:
                ce_id, at, event = decode_record(r.headers, r.value)
            except MalformedEvent as exc:
                pending.count(tp, MALFORMED)
                pending.dead.append(
                    (
                        tp.topic,
                        tp.partition,
                        offset,
                        _header(r.headers, "ce_type"),
                        _header(r.headers, "ce_id"),
                        str(exc)[:2000],
                    )
                )
                continue
            if ce_id in known:
                duplicates += 1
                continue
            remember(ce_id, r.timestamp, offset)
            if (live_from is not None and offset >= live_from) or ce_id in risky_ids:
                pending.risky.append((tp, ce_id.decode(), at, event))
            elif add(event, time_us=at):
                applied += 1
            else:
                ignored += 1
        pending.read += read
        counts = pending.counts.setdefault(tp, [0, 0, 0, 0])
        counts[APPLIED] += applied
        counts[DUPLICATES] += duplicates
        counts[IGNORED] += ignored

    def _pending(self) -> _Pending:
        pending = _Pending()
        pending.batch.person_keys = self.person_keys
        return pending

    def _sum_totals(self) -> None:
        p = self.progress
        p.applied, p.duplicates, p.malformed, p.ignored = (
            sum(t[i] for t in self.totals.values()) for i in range(4)
        )

    async def _submit(self, pending: _Pending) -> None:
        """Write the previous batch's transaction to completion, then start this one's."""
        offsets = {tp: (self.position[tp], self.windows[tp].start(self.position[tp])) for tp in self.position}
        if self.writing is not None:
            await self.writing
        self.inflight = pending.read
        self.writing = asyncio.create_task(self._write(pending, offsets))

    async def _tick(self, accumulating: int) -> None:
        """Progress between batches: events read so far (written or not) and the recent rate."""
        progress = self.progress
        progress.pending = self.inflight + accumulating
        now = time.monotonic()
        then, before = self.rate_mark
        progress.rate = (progress.seen - before) / max(now - then, 1e-9)
        self.rate_mark = (now, progress.seen)
        await self._report()

    async def _report(self) -> None:
        if self.on_progress is not None:
            result = self.on_progress(self.progress)
            if asyncio.iscoroutine(result):
                await result

    async def _write(self, p: _Pending, offsets: dict[TopicPartition, tuple[int, int]]) -> None:
        async with self.sink.transaction() as writer:
            if p.risky:
                claimed = await writer.claim([ce_id for _, ce_id, _, _ in p.risky])
                for tp, ce_id, at, event in p.risky:
                    if ce_id not in claimed:
                        p.count(tp, DUPLICATES)
                        continue
                    claimed.discard(ce_id)  # an id repeated inside the batch counts once
                    p.count(tp, APPLIED if p.batch.add(event, time_us=at) else IGNORED)
            p.batch.prune(self.caches)
            await flush(p.batch, writer)
            await writer.upsert(tables.DEAD_LETTERS, p.dead)
            rows = []
            for tp, (next_offset, window_offset) in offsets.items():
                totals = self.totals[tp]
                for i, n in enumerate(p.counts.get(tp, (0, 0, 0, 0))):
                    totals[i] += n
                rows.append((tp.topic, tp.partition, next_offset, window_offset, *totals))
            await writer.upsert(tables.OFFSETS, rows)
        gc.freeze()
        progress = self.progress
        progress.read += p.read
        self.inflight = 0
        progress.pending = max(0, progress.pending - p.read)
        self._sum_totals()
        await self._report()


def _header(headers: Any, name: str) -> str | None:
    for key, value in headers:
        if key == name and value is not None:
            return bytes(value).decode("utf-8", "replace")
    return None


if __name__ == "__main__":
    _worker_main()
