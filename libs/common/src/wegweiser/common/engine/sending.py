"""Writing copies: retry, park and dead-letter copies, and `released` markers, through one producer.

One writer task sends them in the order `PartitionWork` decided them; an acknowledged copy is
reported back (`written`), which releases the offsets it replaces. A copy that cannot be written
stops the engine (not ready); a restart recovers from the logs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer

from wegweiser.common.engine.copy_headers import Kind, Meta, Resolution, join
from wegweiser.common.engine.items import Input, Item, Write
from wegweiser.common.engine.pairs import Pair
from wegweiser.common.engine.retry_topics import dlq_topic, retry_topic
from wegweiser.common.kafka_security import client_options

if TYPE_CHECKING:
    from wegweiser.common.engine.consumer import ConsumerEngine

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Send:
    pair: Pair
    write: Write
    marker_for: int | None = None  # a `released` marker for this dead-letter offset


class CopyWriter:
    """The engine's producer for its group's retry and dead-letter topics."""

    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine
        self.producer: AIOKafkaProducer | None = None
        self._sends: asyncio.Queue[_Send] = asyncio.Queue()

    def build(self) -> AIOKafkaProducer:
        engine = self._engine
        cfg = engine.config
        self.producer = AIOKafkaProducer(
            bootstrap_servers=engine.bootstrap_servers,
            **client_options(),
            client_id=engine.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=cfg.producer_linger_ms,
            max_batch_size=cfg.producer_batch_bytes,
            max_request_size=max(cfg.producer_batch_bytes, 1024 * 1024),
        )
        return self.producer

    def send(self, pair: Pair, writes: list[Write]) -> None:
        for write in writes:
            pair.outstanding += 1
            self._sends.put_nowait(_Send(pair, write))

    def send_marker(self, pair: Pair, item: Item, dlq_offset: int) -> None:
        """Mark a dead-letter entry as applied, so operators and later recoveries skip it."""
        meta = Meta(
            kind=Kind.RESOLUTION,
            resolves=dlq_offset,
            resolution=Resolution.RELEASED,
            group=self._engine.group_id,
        )
        write = Write(Input.DLQ, item.record, meta, None)
        pair.outstanding += 1
        self._sends.put_nowait(_Send(pair, write, marker_for=dlq_offset))

    async def loop(self) -> None:
        """One writer, so copies reach each partition in the order they were decided."""
        producer = self.producer
        assert producer is not None
        group = self._engine.group_id
        while True:
            send = await self._sends.get()
            pair, write = send.pair, send.write
            work = pair.work
            topic = (
                retry_topic(work.topic, group)
                if write.target is Input.RETRY
                else dlq_topic(work.topic, group)
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
        self._engine.progress.set()
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
                self.send_marker(pair, item, dlq_offset)
        self._engine.advance(pair)

    def _fail(self, exc: BaseException) -> None:
        """A copy could not be written: stop taking work (not ready); a restart recovers."""
        engine = self._engine
        if engine.fatal is None:
            log.error("engine %s: cannot write to its retry/DLQ topics, stopping: %r", engine.group_id, exc)
            engine.fatal = exc
