"""Running handlers: hand ready events to handler tasks, report outcomes, one span per event.

Handler tasks are reused: a task that finished an event takes the next ready one of its pair, or
waits idle to be handed one (a task per event cost more than the scheduling itself). Each event
gets one consumer span in the producer's trace (W3C headers) when a tracer provider is installed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind

from wegweiser.common.engine.items import Input, Item, State
from wegweiser.common.engine.pairs import Pair
from wegweiser.common.engine.record import Handler, MalformedRecord, NotYet, Record

if TYPE_CHECKING:
    from wegweiser.common.engine.consumer import ConsumerEngine

log = logging.getLogger(__name__)


class _HeaderGetter(Getter[Record]):
    """Reads W3C trace context (`traceparent`, `tracestate`) from a record's headers."""

    def get(self, carrier: Record, key: str) -> list[str] | None:
        value = carrier.header(key)
        return [value] if value is not None else None

    def keys(self, carrier: Record) -> list[str]:
        return [k for k, _ in carrier.headers]


_GETTER = _HeaderGetter()


class HandlerRunner:
    """Runs the group's handler on the events `PartitionWork` picks, within its bounds."""

    def __init__(
        self, engine: ConsumerEngine, handler: Handler, tracer_provider: trace.TracerProvider | None
    ) -> None:
        self._engine = engine
        self._handler = handler
        self._tracer_provider = tracer_provider
        self._tracer = trace.get_tracer("wegweiser.common.engine", tracer_provider=tracer_provider)
        self.tracing = False

    def start_tracing(self, wanted: bool) -> None:
        # Spans cost ~20 us per event even unrecorded: only when a real tracer provider is installed.
        provider = self._tracer_provider or trace.get_tracer_provider()
        self.tracing = wanted and not isinstance(
            provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider
        )

    def pump(self, pair: Pair) -> None:
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

    def _task_done(self, pair: Pair, task: asyncio.Task[None]) -> None:
        pair.tasks.discard(task)
        self._engine.progress.set()

    async def _run(self, pair: Pair, item: Item) -> None:
        """Run `item`, then whatever is ready next; when nothing is, wait idle to be handed work."""
        engine = self._engine
        work = pair.work
        handler = self._handler
        stash = pair.stash
        tracing = self.tracing
        idle_cap = engine.config.max_in_flight_per_partition
        loop = asyncio.get_running_loop()
        while True:
            record = item.record
            try:
                if tracing:
                    with self.span(record):
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
                self._succeeded(pair, item)
            if pair.closed:
                return
            if stash[Input.SOURCE] or stash[Input.RETRY]:
                engine.advance(pair)
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
                self.pump(pair)
            item = following

    def span(self, record: Record) -> AbstractContextManager[trace.Span]:
        """The event's consumer span in the producer's trace; it records the handler's exception."""
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
                "messaging.consumer.group.name": self._engine.group_id,
                "messaging.message.id": record.ce_id or "",
                "wegweiser.attempt": record.attempt,
                "wegweiser.ags": record.key or "",
            },
        )

    def _succeeded(self, pair: Pair, item: Item) -> None:
        engine = self._engine
        record = item.record
        markers = pair.work.succeeded(item)
        engine.metrics.add("processed", item.ags)
        engine.metrics.latency(
            topic=record.source_topic,
            partition=record.source_partition,
            ags=item.ags,
            seconds=max(0.0, time.time() - item.origin_ts_ms / 1000),
        )
        for dlq_offset in markers:
            engine.copies.send_marker(pair, item, dlq_offset)

    def _failed(self, pair: Pair, item: Item, exc: Exception, *, malformed: bool) -> None:
        if pair.closed:
            return
        engine = self._engine
        record = item.record
        log.warning(
            "engine %s: %s failed on %s[%d]@%d (ce_id %s, attempt %d): %s: %s",
            engine.group_id,
            "malformed record" if malformed else "handler",
            record.source_topic,
            record.source_partition,
            record.source_offset,
            record.ce_id,
            record.attempt,
            type(exc).__name__,
            exc,
        )
        writes = pair.work.failed(
            item,
            error_type=type(exc).__name__,
            message=str(exc),
            malformed=malformed,
            not_yet=isinstance(exc, NotYet),
        )
        engine.metrics.add("failed", item.ags)
        if item.state is State.DEAD:
            engine.metrics.add("dead_lettered", item.ags)
        engine.copies.send(pair, writes)
