"""Fetching: the group's reader (source, retry and DLQ partitions) and the catch-up reader.

The group reader admits records in order and, when a partition has no room, stashes them and
pauses it. The catch-up reader (no group) re-reads a source partition from its cursor while an
AGS's records are deferred (see `catchup`), in small batches, as that AGS gets room again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import ConsumerStoppedError, KafkaError
from aiokafka.structs import ConsumerRecord

from wegweiser.common.engine.copy_headers import Kind, split
from wegweiser.common.engine.items import Input
from wegweiser.common.engine.pairs import Pair, Prepared
from wegweiser.common.engine.record import Record
from wegweiser.common.kafka_security import client_options

if TYPE_CHECKING:
    from wegweiser.common.engine.consumer import ConsumerEngine

log = logging.getLogger(__name__)


def _decode_key(key: bytes | None) -> str | None:
    return key.decode("utf-8", "replace") if key is not None else None


def _record(cr: ConsumerRecord, headers: tuple, attempt: int, source: tuple[str, int, int]) -> Record:
    """What a handler sees of ``cr``: the event's own ``headers`` and the ``source`` record it copies."""
    return Record(
        cr.topic,
        cr.partition,
        cr.offset,
        _decode_key(cr.key),
        cr.value,
        headers,
        cr.timestamp,
        attempt,
        *source,
    )


def prepare(pair: Pair, inp: Input, cr: ConsumerRecord, group: str) -> Prepared | None:
    """The engine's view of a fetched record; None for a record that is no engine copy."""
    if inp is Input.SOURCE:
        return _record(cr, cr.headers, 1, (cr.topic, cr.partition, cr.offset)), None
    work = pair.work
    meta, own = split(cr.headers)
    if meta is None or (meta.kind is not Kind.RESOLUTION and meta.src_partition != work.partition):
        log.error("engine %s: %s[%d]@%d has no engine headers; skipped", group, *cr[:3])
        work.trackers[inp].fetched(cr.offset)
        return None
    source = (meta.src_topic or work.topic, meta.src_partition, meta.src_offset)
    return _record(cr, own, meta.attempt, source), meta


async def fetch(
    engine: ConsumerEngine, consumer: AIOKafkaConsumer, max_records: int, what: str
) -> dict[TopicPartition, list[ConsumerRecord]] | None:
    """One poll's records; None once the consumer is stopped. A failed fetch is logged and, after a
    poll interval's pause, counts as an empty one: the broker may be back on the next poll."""
    cfg = engine.config
    try:
        return await consumer.getmany(timeout_ms=int(cfg.poll_interval_s * 1000), max_records=max_records)
    except ConsumerStoppedError:
        return None
    except KafkaError as exc:
        log.warning("engine %s: %s failed: %s", engine.group_id, what, exc)
        await asyncio.sleep(cfg.poll_interval_s)
        return {}


class GroupReader:
    """The group member's consumer: fetch, admit in order, stash and pause what finds no room."""

    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine
        self.consumer: AIOKafkaConsumer | None = None

    def build(self) -> AIOKafkaConsumer:
        engine = self._engine
        cfg = engine.config
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=engine.bootstrap_servers,
            **client_options(),
            client_id=engine.client_id,
            group_id=engine.group_id,
            group_instance_id=engine.group_instance_id,
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
        return self.consumer

    async def loop(self) -> None:
        engine = self._engine
        consumer = self.consumer
        assert consumer is not None
        while not engine.stopping and engine.fatal is None:
            if engine.unsetup:
                await engine.setup_pairs()
            data = await fetch(engine, consumer, engine.config.fetch_max_records, "fetch")
            if data is None:
                break
            for tp, records in data.items():
                route = engine.routes.get(tp)
                if route is None:
                    continue
                pair, inp = route
                self._take(pair, inp, records)
            for pair in list(engine.pairs.values()):
                engine.advance(pair)

    def _take(self, pair: Pair, inp: Input, records: list[ConsumerRecord]) -> None:
        """Admit records in order; from the first that finds no room on, stash them and pause."""
        stash = pair.stash[inp]
        work = pair.work
        group = self._engine.group_id
        deferred = work.deferred_keys if inp is Input.SOURCE else None
        for cr in records:
            # A deferred AGS's records are skipped by their raw key, before any decoding or parsing
            # (only in order: not while earlier records wait in the stash). A key that is no valid
            # UTF-8 misses here and is deferred by `admit_source` instead.
            if (
                deferred
                and not stash
                and (ags := deferred.get(cr.key)) is not None
                and work.skip_deferred(cr.offset, ags)
            ):
                continue
            prepared = prepare(pair, inp, cr, group)
            if prepared is None:
                continue
            if stash or not self.admit(pair, inp, prepared):
                stash.append(prepared)
        if stash:
            self.set_paused(pair, inp, True)

    def admit(self, pair: Pair, inp: Input, prepared: Prepared, force: bool = False) -> bool:
        work = pair.work
        record, meta = prepared
        if meta is None:
            taken, writes = work.admit_source(record, force=force)
        elif inp is Input.RETRY:
            taken, writes = work.admit_retry(record, meta, force=force)
        else:
            taken, writes = True, work.admit_dlq(record, meta)
        if writes:
            self._engine.copies.send(pair, writes)
        return taken

    def set_paused(self, pair: Pair, inp: Input, paused: bool) -> None:
        if paused == (inp in pair.paused) or pair.closed:
            return
        consumer = self.consumer
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


class CatchUpReader:
    """Re-reads source partitions from their cursor while records of an AGS are deferred."""

    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine
        self.consumer: AIOKafkaConsumer | None = None
        self._reading: set[TopicPartition] = set()
        self.wake = asyncio.Event()

    def build(self) -> AIOKafkaConsumer:
        engine = self._engine
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=engine.bootstrap_servers,
            **client_options(),
            client_id=f"{engine.client_id}-catch-up",
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_poll_records=engine.config.fetch_max_records,
        )
        return self.consumer

    def reads(self, pairs: list[Pair]) -> bool:
        return any(p.tps[Input.SOURCE] in self._reading for p in pairs)

    def catch_up(self, pair: Pair) -> None:
        """Admit deferred records the catch-up reader brought back; keep its assignment current."""
        work = pair.work
        behind = pair.behind
        while behind and work.cursor is not None:
            taken, writes = work.admit_catchup(behind[0])
            if writes:
                self._engine.copies.send(pair, writes)
            if not taken:
                break
            behind.popleft()
        tp = pair.tps[Input.SOURCE]
        if work.caught_up():
            behind.clear()
        assert self.consumer is not None
        if (work.cursor is not None) != (tp in self._reading):
            self.assign()
        elif tp in self._reading:
            if behind:
                self.consumer.pause(tp)
            else:
                self.consumer.resume(tp)

    def assign(self) -> None:
        """Give the catch-up reader exactly the partitions with deferred records, at their cursors."""
        assert self.consumer is not None
        wanted = {
            pair.tps[Input.SOURCE]: pair
            for pair in self._engine.pairs.values()
            if not pair.closed and pair.work.cursor is not None
        }
        self.consumer.assign(list(wanted))  # positions restart: seek every one to its cursor
        for tp, pair in wanted.items():
            pair.behind.clear()
            assert pair.work.cursor is not None
            self.consumer.seek(tp, pair.work.cursor)
        self._reading = set(wanted)
        self.wake.set()

    async def loop(self) -> None:
        """Re-read partitions from their cursor while records are deferred."""
        engine = self._engine
        reader = self.consumer
        assert reader is not None
        cfg = engine.config
        # Small batches: what it reads waits in memory until its AGS has room, and a big batch is
        # both a long stretch of the event loop and a big working set for the garbage collector.
        batch = max(1, min(cfg.fetch_max_records, cfg.max_buffered_per_ags // 4))
        while not engine.stopping and engine.fatal is None:
            if not self._reading:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), cfg.poll_interval_s * 4)
                continue
            data = await fetch(engine, reader, batch, "catch-up fetch")
            if data is None:
                break
            for tp, records in data.items():
                pair = engine.pairs.get((tp.topic, tp.partition))
                if pair is None or pair.closed or pair.work.cursor is None:
                    continue
                for cr in records:
                    prepared = prepare(pair, Input.SOURCE, cr, engine.group_id)
                    if prepared is not None:
                        pair.behind.append(prepared[0])
                engine.advance(pair)
