"""`ConsumerEngine`: the Kafka side of the engine (fetch, run, write copies, commit, rebalance)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import ConsumerStoppedError, KafkaError
from aiokafka.structs import ConsumerRecord
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.items import Input, Item, State, Write
from wegweiser.common.engine.metrics import EngineMetrics
from wegweiser.common.engine.record import Handler, MalformedRecord, Record
from wegweiser.common.engine.scheduler import PartitionWork
from wegweiser.common.engine.topics import ensure_topics
from wegweiser.common.engine.wire import Kind, Meta, Resolution, dlq_topic, join, retry_topic, split
from wegweiser.common.kafka_security import client_options

log = logging.getLogger(__name__)


_Prepared = tuple[Record, Meta | None]


@dataclass(eq=False)
class _Pair:
    """Source partition p with retry/DLQ partition p: the unit of assignment and of ordering."""

    work: PartitionWork
    tps: dict[Input, TopicPartition]
    targets: dict[Input, int]  # recovery reads retry/DLQ up to these end offsets first
    # Records fetched but not admitted yet (no room), parsed once; their partition is paused.
    stash: dict[Input, deque[_Prepared]] = field(default_factory=lambda: {i: deque() for i in Input})
    paused: set[Input] = field(default_factory=set)
    behind: deque[Record] = field(default_factory=deque)  # re-read by the catch-up reader, no room yet
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Handler tasks with nothing to do, waiting to be handed the next ready event (a task per event
    # cost more than the scheduling itself).
    idle: list[asyncio.Future[Item | None]] = field(default_factory=list)
    outstanding: int = 0  # copies sent but not yet acknowledged
    committed: dict[Input, int] = field(default_factory=dict)
    closed: bool = False


@dataclass(slots=True)
class _Send:
    pair: _Pair
    write: Write
    marker_for: int | None = None  # a `released` marker for this dead-letter offset


class _Listener(ConsumerRebalanceListener):
    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._engine._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._engine._on_assigned(set(assigned))


class _HeaderGetter(Getter[Record]):
    """Reads W3C trace context (`traceparent`, `tracestate`) from a record's headers."""

    def get(self, carrier: Record, key: str) -> list[str] | None:
        value = carrier.header(key)
        return [value] if value is not None else None

    def keys(self, carrier: Record) -> list[str]:
        return [k for k, _ in carrier.headers]


_GETTER = _HeaderGetter()


def _decode_key(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


class ConsumerEngine:
    """Consume `topics` as `group_id`, running `handler` per event with the isolation guarantees."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: list[str],
        handler: Handler,
        config: EngineConfig | None = None,
        kreis_of: Callable[[str], str] | None = None,
        client_id: str | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if not topics:
            raise ValueError("topics must not be empty")
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.topics = list(topics)
        self.config = config or EngineConfig()
        self._handler = handler
        self._client_id = client_id or f"wegweiser-engine-{group_id}"
        self.metrics = EngineMetrics(group=group_id, kreis_of=kreis_of, gauges=self._gauges)
        self._retry_of = {retry_topic(t, group_id): t for t in self.topics}
        self._dlq_of = {dlq_topic(t, group_id): t for t in self.topics}
        self._consumer: AIOKafkaConsumer | None = None
        self._behind: AIOKafkaConsumer | None = None  # the catch-up reader (no group)
        self._reading_behind: set[TopicPartition] = set()
        self._behind_wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._pairs: dict[tuple[str, int], _Pair] = {}
        self._routes: dict[TopicPartition, tuple[_Pair, Input]] = {}
        self._unsetup: set[TopicPartition] = set()
        self._generation = 0
        self._sends: asyncio.Queue[_Send] = asyncio.Queue()
        self._progress = asyncio.Event()  # set whenever a handler or a copy finishes
        self._tasks: list[asyncio.Task[None]] = []
        self._joined = False
        self._tracer_provider = tracer_provider
        self._tracer = trace.get_tracer("wegweiser.common.engine", tracer_provider=tracer_provider)
        self._tracing = False
        self._running = False
        self._stopping = False
        self.fatal: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> bool:
        """Running, member of its group, and no fatal error."""
        return self._running and self._joined and self.fatal is None and not self._stopping

    async def start(self) -> None:
        """Create the group's retry/DLQ topics if missing, join the group and start consuming."""
        cfg = self.config
        # Spans cost ~20 us per event even unrecorded: only when a real tracer provider is installed.
        provider = self._tracer_provider or trace.get_tracer_provider()
        self._tracing = cfg.tracing and not isinstance(
            provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider
        )
        await ensure_topics(
            bootstrap_servers=self.bootstrap_servers, topics=self.topics, group=self.group_id, config=cfg
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            **client_options(),
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=cfg.producer_linger_ms,
            max_batch_size=cfg.producer_batch_bytes,
            max_request_size=max(cfg.producer_batch_bytes, 1024 * 1024),
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            **client_options(),
            client_id=self._client_id,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            # Range keeps partition p of a source, its retry and its DLQ topic on one member.
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            max_poll_interval_ms=cfg.max_poll_interval_ms,
            max_poll_records=cfg.fetch_max_records,
        )
        self._behind = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            **client_options(),
            client_id=f"{self._client_id}-catch-up",
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_poll_records=cfg.fetch_max_records,
        )
        subscribed = [*self.topics, *self._retry_of, *self._dlq_of]
        self._consumer.subscribe(subscribed, listener=_Listener(self))
        await self._producer.start()
        try:
            await self._behind.start()
            await self._consumer.start()
        except BaseException:
            await self._behind.stop()
            await self._producer.stop()
            raise
        if cfg.gc_freeze:
            # Everything alive now (imports, the service's set-up, the Kafka clients) lives as long
            # as the process: keep it out of the collector's full collections, which otherwise
            # re-scan it every few hundred thousand allocations and stall every partition for
            # 40-80 ms each time (bench/README.md, noisy-neighbour).
            gc.collect()
            gc.freeze()
        self._running = True
        self._tasks = [
            asyncio.create_task(self._fetch_loop(), name=f"engine-fetch-{self.group_id}"),
            asyncio.create_task(self._commit_loop(), name=f"engine-commit-{self.group_id}"),
            asyncio.create_task(self._send_loop(), name=f"engine-send-{self.group_id}"),
            asyncio.create_task(self._behind_loop(), name=f"engine-catch-up-{self.group_id}"),
        ]

    async def stop(self) -> None:
        """Stop taking work, let running handlers finish (bounded), commit what is done, leave."""
        if not self._running:
            return
        self._stopping = True
        fetch, commit, send, behind = self._tasks
        self._behind_wake.set()
        await asyncio.gather(fetch, behind, return_exceptions=True)
        await self._close_pairs(list(self._pairs.values()))
        commit.cancel()
        send.cancel()
        await asyncio.gather(commit, send, return_exceptions=True)
        assert self._consumer is not None and self._producer is not None and self._behind is not None
        await self._consumer.stop()
        await self._behind.stop()
        await self._producer.stop()
        self._running = False

    # ------------------------------------------------------------------ rebalance

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._generation += 1
        self._joined = True
        if assigned:
            assert self._consumer is not None
            self._consumer.pause(*assigned)  # nothing is read before its pair is set up
            self._unsetup |= assigned

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._generation += 1
        self._unsetup -= revoked
        pairs = {route[0] for tp in revoked if (route := self._routes.get(tp)) is not None}
        for tp in revoked:
            self._routes.pop(tp, None)
        if pairs:
            log.info("engine %s: revoked %d partitions, draining", self.group_id, len(pairs))
            await self._close_pairs(list(pairs))

    def _input_of(self, tp: TopicPartition) -> tuple[str, Input] | None:
        if tp.topic in self._retry_of:
            return self._retry_of[tp.topic], Input.RETRY
        if tp.topic in self._dlq_of:
            return self._dlq_of[tp.topic], Input.DLQ
        if tp.topic in self.topics:
            return tp.topic, Input.SOURCE
        return None

    async def _setup_pairs(self) -> None:
        """Build the state of newly assigned partitions; their retry/DLQ backlog is read first."""
        consumer = self._consumer
        assert consumer is not None
        generation = self._generation
        tps, self._unsetup = self._unsetup, set()
        grouped: defaultdict[tuple[str, int], dict[Input, TopicPartition]] = defaultdict(dict)
        for tp in tps:
            found = self._input_of(tp)
            if found is not None:
                grouped[(found[0], tp.partition)][found[1]] = tp
        complete = {key: members for key, members in grouped.items() if len(members) == len(Input)}
        for key in grouped.keys() - complete.keys():
            log.error(
                "engine %s: %s lacks its source, retry or DLQ partition; not consumed", self.group_id, key
            )
        if not complete:
            return
        side = [tp for members in complete.values() for inp, tp in members.items() if inp is not Input.SOURCE]
        everything = [tp for members in complete.values() for tp in members.values()]
        try:
            begin = await consumer.beginning_offsets(side)
            end = await consumer.end_offsets(side)
            committed = {tp: await consumer.committed(tp) for tp in everything}
        except KafkaError as exc:  # retried on the next turn of the fetch loop
            log.warning("engine %s: cannot set up partitions yet (%s)", self.group_id, exc)
            if generation == self._generation:
                self._unsetup |= tps
            return
        if generation != self._generation:
            return
        for (topic, partition), members in complete.items():
            starts: dict[Input, int | None] = {Input.SOURCE: committed[members[Input.SOURCE]]}
            for inp in (Input.RETRY, Input.DLQ):
                tp = members[inp]
                starts[inp] = max(committed[tp] or 0, begin[tp])
            work = PartitionWork(
                config=self.config,
                group=self.group_id,
                topic=topic,
                partition=partition,
                positions=(starts[Input.SOURCE], starts[Input.RETRY], starts[Input.DLQ]),
                recovering=True,
                on_defer=functools.partial(self.metrics.add, "deferred"),
            )
            pair = _Pair(
                work=work,
                tps=dict(members),
                targets={Input.RETRY: end[members[Input.RETRY]], Input.DLQ: end[members[Input.DLQ]]},
            )
            pair.paused = {Input.SOURCE, Input.RETRY, Input.DLQ}
            self._pairs[(topic, partition)] = pair
            for inp, tp in members.items():
                self._routes[tp] = (pair, inp)
            self._set_paused(pair, Input.RETRY, False)
            self._set_paused(pair, Input.DLQ, False)
            self._advance(pair)

    async def _close_pairs(self, pairs: list[_Pair]) -> None:
        """Finish (or, after `drain_timeout_s`, abandon) running work, then commit what is done."""
        for pair in pairs:
            pair.work.closing = True
            self._dismiss_idle(pair)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.drain_timeout_s
        while any(p.tasks or p.outstanding for p in pairs) and self.fatal is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), min(remaining, 0.1))
        abandoned = [t for p in pairs for t in p.tasks]
        for task in abandoned:
            task.cancel()
        if abandoned:
            log.warning("engine %s: abandoned %d running handlers", self.group_id, len(abandoned))
            await asyncio.gather(*abandoned, return_exceptions=True)
        await self._commit(pairs)
        for pair in pairs:
            pair.closed = True
            key = (pair.work.topic, pair.work.partition)
            if self._pairs.get(key) is pair:
                del self._pairs[key]
            for tp in pair.tps.values():
                if self._routes.get(tp, (None,))[0] is pair:
                    del self._routes[tp]
        if any(p.tps[Input.SOURCE] in self._reading_behind for p in pairs):
            self._assign_behind()

    # ------------------------------------------------------------------ fetching

    async def _fetch_loop(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        cfg = self.config
        poll_ms = int(cfg.poll_interval_s * 1000)
        while not self._stopping and self.fatal is None:
            if self._unsetup:
                await self._setup_pairs()
            try:
                data = await consumer.getmany(timeout_ms=poll_ms, max_records=cfg.fetch_max_records)
            except ConsumerStoppedError:
                break
            except KafkaError as exc:
                log.warning("engine %s: fetch failed: %s", self.group_id, exc)
                await asyncio.sleep(cfg.poll_interval_s)
                continue
            for tp, records in data.items():
                route = self._routes.get(tp)
                if route is None:
                    continue
                pair, inp = route
                self._take(pair, inp, records)
            for pair in list(self._pairs.values()):
                self._advance(pair)

    def _take(self, pair: _Pair, inp: Input, records: list[ConsumerRecord]) -> None:
        """Admit records in order; from the first that finds no room on, stash them and pause."""
        stash = pair.stash[inp]
        work = pair.work
        deferring = work.deferring if inp is Input.SOURCE else None
        for cr in records:
            # A deferred AGS's records are skipped before any parsing (only in order: not while
            # earlier records wait in the stash).
            if (
                deferring
                and not stash
                and cr.key is not None
                and work.skip_deferred(cr.offset, cr.key.decode("utf-8", "replace"))
            ):
                continue
            prepared = self._prepare(pair, inp, cr)
            if prepared is None:
                continue
            if stash or not self._admit(pair, inp, prepared):
                stash.append(prepared)
        if stash:
            self._set_paused(pair, inp, True)

    def _prepare(self, pair: _Pair, inp: Input, cr: ConsumerRecord) -> _Prepared | None:
        """The engine's view of a fetched record; None for a record that is no engine copy."""
        if inp is Input.SOURCE:
            record = Record(
                cr.topic,
                cr.partition,
                cr.offset,
                _decode_key(cr.key),
                cr.value,
                cr.headers,
                cr.timestamp,
                1,
                cr.topic,
                cr.partition,
                cr.offset,
            )
            return record, None
        work = pair.work
        meta, own = split(cr.headers)
        if meta is None or (meta.kind is not Kind.RESOLUTION and meta.src_partition != work.partition):
            log.error("engine %s: %s[%d]@%d has no engine headers; skipped", self.group_id, *cr[:3])
            work.trackers[inp].fetched(cr.offset)
            return None
        record = Record(
            cr.topic,
            cr.partition,
            cr.offset,
            _decode_key(cr.key),
            cr.value,
            own,
            cr.timestamp,
            meta.attempt,
            meta.src_topic or work.topic,
            meta.src_partition,
            meta.src_offset,
        )
        return record, meta

    def _admit(self, pair: _Pair, inp: Input, prepared: _Prepared, force: bool = False) -> bool:
        work = pair.work
        record, meta = prepared
        if meta is None:
            taken, writes = work.admit_source(record, force=force)
        elif inp is Input.RETRY:
            taken, writes = work.admit_retry(record, meta, force=force)
        else:
            taken, writes = True, work.admit_dlq(record, meta)
        if writes:
            self._send(pair, writes)
        return taken

    def _advance(self, pair: _Pair) -> None:
        """Admit stashed records that now fit, finish recovery, never deadlock, start work."""
        if pair.closed:
            return
        work = pair.work
        for inp in (Input.RETRY, Input.SOURCE):
            stash = pair.stash[inp]
            while stash and self._admit(pair, inp, stash[0]):
                stash.popleft()
            if not stash and inp in pair.paused and not (inp is Input.SOURCE and work.recovering):
                self._set_paused(pair, inp, False)
        if work.recovering and all(
            (work.trackers[inp].position or 0) >= target for inp, target in pair.targets.items()
        ):
            work.recovered()
            if not pair.stash[Input.SOURCE]:
                self._set_paused(pair, Input.SOURCE, False)
            log.info("engine %s: %s[%d] recovered", self.group_id, work.topic, work.partition)
        if work.cursor is not None or pair.behind:
            self._catch_up(pair)
        if not work.recovering and work.idle:
            # Nothing can finish to make room: take one waiting record over the bound.
            if pair.behind and work.cursor is not None:
                _, writes = work.admit_catchup(pair.behind.popleft(), force=True)
                self._send(pair, writes)
            else:
                for inp in (Input.RETRY, Input.SOURCE):
                    stash = pair.stash[inp]
                    if stash:
                        self._admit(pair, inp, stash.popleft(), force=True)
                        break
        self._pump(pair)

    # ------------------------------------------------------------------ catching up

    def _catch_up(self, pair: _Pair) -> None:
        """Admit deferred records the catch-up reader brought back; keep its assignment current."""
        work = pair.work
        behind = pair.behind
        while behind and work.cursor is not None:
            taken, writes = work.admit_catchup(behind[0])
            if writes:
                self._send(pair, writes)
            if not taken:
                break
            behind.popleft()
        tp = pair.tps[Input.SOURCE]
        if work.caught_up():
            behind.clear()
        assert self._behind is not None
        if (work.cursor is not None) != (tp in self._reading_behind):
            self._assign_behind()
        elif tp in self._reading_behind:
            if behind:
                self._behind.pause(tp)
            else:
                self._behind.resume(tp)

    def _assign_behind(self) -> None:
        """Give the catch-up reader exactly the partitions with deferred records, at their cursors."""
        assert self._behind is not None
        wanted = {
            pair.tps[Input.SOURCE]: pair
            for pair in self._pairs.values()
            if not pair.closed and pair.work.cursor is not None
        }
        self._behind.assign(list(wanted))  # positions restart: seek every one to its cursor
        for tp, pair in wanted.items():
            pair.behind.clear()
            assert pair.work.cursor is not None
            self._behind.seek(tp, pair.work.cursor)
        self._reading_behind = set(wanted)
        self._behind_wake.set()

    async def _behind_loop(self) -> None:
        """The catch-up reader: re-reads partitions from their cursor while records are deferred."""
        reader = self._behind
        assert reader is not None
        cfg = self.config
        poll_ms = int(cfg.poll_interval_s * 1000)
        # Small batches: what it reads waits in memory until its AGS has room, and a big batch is
        # both a long stretch of the event loop and a big working set for the garbage collector.
        batch = max(1, min(cfg.fetch_max_records, cfg.max_buffered_per_ags // 4))
        while not self._stopping and self.fatal is None:
            if not self._reading_behind:
                self._behind_wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._behind_wake.wait(), cfg.poll_interval_s * 4)
                continue
            try:
                data = await reader.getmany(timeout_ms=poll_ms, max_records=batch)
            except ConsumerStoppedError:
                break
            except KafkaError as exc:
                log.warning("engine %s: catch-up fetch failed: %s", self.group_id, exc)
                await asyncio.sleep(cfg.poll_interval_s)
                continue
            for tp, records in data.items():
                pair = self._pairs.get((tp.topic, tp.partition))
                if pair is None or pair.closed or pair.work.cursor is None:
                    continue
                for cr in records:
                    prepared = self._prepare(pair, Input.SOURCE, cr)
                    if prepared is not None:
                        pair.behind.append(prepared[0])
                self._advance(pair)

    def _set_paused(self, pair: _Pair, inp: Input, paused: bool) -> None:
        if paused == (inp in pair.paused) or pair.closed:
            return
        consumer = self._consumer
        assert consumer is not None
        tp = pair.tps[inp]
        if tp not in consumer.assignment():
            return
        if paused:
            pair.paused.add(inp)
            consumer.pause(tp)
        else:
            pair.paused.discard(inp)
            consumer.resume(tp)

    # ------------------------------------------------------------------ running

    def _pump(self, pair: _Pair) -> None:
        work = pair.work
        idle = pair.idle
        while (item := work.pick()) is not None:
            while idle:
                waiter = idle.pop()
                if not waiter.done():
                    waiter.set_result(item)
                    break
            else:
                task = asyncio.create_task(self._run(pair, item))
                pair.tasks.add(task)
                task.add_done_callback(functools.partial(self._task_done, pair))

    @staticmethod
    def _dismiss_idle(pair: _Pair) -> None:
        """Let idle handler tasks end (the pair is closing)."""
        idle, pair.idle = pair.idle, []
        for waiter in idle:
            if not waiter.done():
                waiter.set_result(None)

    def _task_done(self, pair: _Pair, task: asyncio.Task[None]) -> None:
        pair.tasks.discard(task)
        self._progress.set()

    async def _run(self, pair: _Pair, item: Item) -> None:
        """Run `item`, then whatever is ready next; when nothing is, wait idle to be handed work."""
        work = pair.work
        handler = self._handler
        metrics = self.metrics
        stash = pair.stash
        tracing = self._tracing
        idle_cap = self.config.max_in_flight_per_partition
        loop = asyncio.get_running_loop()
        while True:
            record = item.record
            try:
                if tracing:
                    with self._span(record):
                        await handler(record)
                else:
                    await handler(record)
            except MalformedRecord as exc:
                self._failed(pair, item, exc, malformed=True)
            except Exception as exc:
                self._failed(pair, item, exc, malformed=False)
            else:
                if pair.closed:
                    return
                markers = work.succeeded(item)
                metrics.add("processed", item.ags)
                metrics.latency(
                    topic=record.source_topic,
                    partition=record.source_partition,
                    ags=item.ags,
                    seconds=max(0.0, time.time() - item.origin_ts_ms / 1000),
                )
                for dlq_offset in markers:
                    self._send_marker(pair, item, dlq_offset)
            if pair.closed:
                return
            if stash[Input.SOURCE] or stash[Input.RETRY]:
                self._advance(pair)
            following = work.pick()
            if following is None:
                if work.closing or len(pair.idle) >= idle_cap:
                    return
                waiter: asyncio.Future[Item | None] = loop.create_future()
                pair.idle.append(waiter)
                item = record = None  # type: ignore[assignment]  # hold no event while idle
                following = await waiter
                if following is None or pair.closed:
                    return
            else:
                self._pump(pair)
            item = following

    def _span(self, record: Record) -> AbstractContextManager[trace.Span]:
        """A consumer span in the producer's trace; it records the handler's exception, if any."""
        return self._tracer.start_as_current_span(
            f"{record.source_topic} process",
            context=propagate.extract(record, getter=_GETTER),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.source_topic,
                "messaging.destination.partition.id": str(record.source_partition),
                "messaging.kafka.offset": record.source_offset,
                "messaging.consumer.group.name": self.group_id,
                "messaging.message.id": record.ce_id or "",
                "wegweiser.attempt": record.attempt,
            },
        )

    def _failed(self, pair: _Pair, item: Item, exc: Exception, *, malformed: bool) -> None:
        if pair.closed:
            return
        record = item.record
        log.warning(
            "engine %s: %s failed on %s[%d]@%d (ce_id %s, attempt %d): %s: %s",
            self.group_id,
            "malformed record" if malformed else "handler",
            record.source_topic,
            record.source_partition,
            record.source_offset,
            record.ce_id,
            record.attempt,
            type(exc).__name__,
            exc,
        )
        writes = pair.work.failed(item, error_type=type(exc).__name__, message=str(exc), malformed=malformed)
        self.metrics.add("failed", item.ags)
        if item.state is State.DEAD:
            self.metrics.add("dead_lettered", item.ags)
        self._send(pair, writes)

    # ------------------------------------------------------------------ writing copies

    def _send(self, pair: _Pair, writes: list[Write]) -> None:
        for write in writes:
            pair.outstanding += 1
            self._sends.put_nowait(_Send(pair, write))

    def _send_marker(self, pair: _Pair, item: Item, dlq_offset: int) -> None:
        """Mark a dead-letter entry as applied, so operators and later recoveries skip it."""
        meta = Meta(
            kind=Kind.RESOLUTION, resolves=dlq_offset, resolution=Resolution.RELEASED, group=self.group_id
        )
        write = Write(Input.DLQ, item.record, meta, None)
        pair.outstanding += 1
        self._sends.put_nowait(_Send(pair, write, marker_for=dlq_offset))

    async def _send_loop(self) -> None:
        """One writer, so copies reach each partition in the order they were decided."""
        producer = self._producer
        assert producer is not None
        while True:
            send = await self._sends.get()
            pair, write = send.pair, send.write
            work = pair.work
            topic = (
                retry_topic(work.topic, self.group_id)
                if write.target is Input.RETRY
                else dlq_topic(work.topic, self.group_id)
            )
            marker = send.marker_for is not None
            try:
                future = await producer.send(
                    topic,
                    value=None if marker else write.record.value,
                    key=write.record.key.encode() if write.record.key is not None else None,
                    headers=join((), write.meta) if marker else join(write.record.headers, write.meta),
                    partition=work.partition,
                )
            except Exception as exc:
                self._fail(exc)
                return
            future.add_done_callback(functools.partial(self._written, send))

    def _written(self, send: _Send, future: asyncio.Future[object]) -> None:
        pair = send.pair
        pair.outstanding -= 1
        self._progress.set()
        if future.cancelled() or future.exception() is not None:
            self._fail(future.exception() or RuntimeError("send cancelled"))
            return
        if pair.closed:
            return
        offset = future.result().offset  # type: ignore[attr-defined]
        if send.marker_for is not None:
            pair.work.marker_written(send.marker_for, offset)
            return
        markers = pair.work.written(send.write, offset)
        item = send.write.item
        for dlq_offset in markers:
            if item is not None:
                self._send_marker(pair, item, dlq_offset)
        self._advance(pair)

    def _fail(self, exc: BaseException) -> None:
        """A copy could not be written: stop taking work (not ready); a restart recovers."""
        if self.fatal is None:
            log.error("engine %s: cannot write to its retry/DLQ topics, stopping: %r", self.group_id, exc)
            self.fatal = exc

    # ------------------------------------------------------------------ committing

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.commit_interval_s)
            await self._commit([p for p in self._pairs.values() if not p.closed])

    async def _commit(self, pairs: list[_Pair]) -> None:
        consumer = self._consumer
        assert consumer is not None
        offsets: dict[TopicPartition, int] = {}
        planned: list[tuple[_Pair, Input, int]] = []
        assignment = consumer.assignment()
        for pair in pairs:
            for inp, offset in pair.work.commit_offsets().items():
                tp = pair.tps[inp]
                if offset is not None and offset != pair.committed.get(inp) and tp in assignment:
                    offsets[tp] = offset
                    planned.append((pair, inp, offset))
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            log.info("engine %s: commit failed (%s); retried later", self.group_id, exc)
            return
        for pair, inp, offset in planned:
            pair.committed[inp] = offset

    # ------------------------------------------------------------------ metrics

    def _gauges(self) -> dict[str, dict[str, int]]:
        buffered: defaultdict[str, int] = defaultdict(int)
        parked: defaultdict[str, int] = defaultdict(int)
        for pair in list(self._pairs.values()):
            for ags, n in pair.work.buffered.items():
                if n:
                    buffered[ags] += n
            for ags, _where in pair.work.parked_lanes():
                parked[ags] += 1
        return {"buffered": dict(buffered), "parked": dict(parked)}
