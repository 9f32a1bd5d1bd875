"""One consumer span per consumed event: the engine opens it, the dispatcher only names the event in it."""

from __future__ import annotations

import asyncio
import datetime as dt

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from wegweiser.common.dispatch import EventDispatcher
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.engine.pairs import Pair
from wegweiser.common.engine.scheduler import PartitionWork
from wegweiser.common.envelope import encode
from wegweiser.common.events.statistics import IndicatorPublished
from wegweiser.common.testing.fakes import FakeUnitOfWork


def _exporter_on_the_global_provider() -> InMemorySpanExporter:
    """Spans of every tracer in the process (engine and dispatcher alike) reach the exporter."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def _event() -> IndicatorPublished:
    return IndicatorPublished(
        indicator="arrivals",
        region="08111000",
        region_level="gemeinde",
        region_name="Stuttgart",
        period="2026",
        period_level="year",
        values={"total": 12},
        unit="count",
        threshold=3,
        generation=1,
        published_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


async def test_a_dispatched_event_has_exactly_one_consumer_span() -> None:
    exporter = _exporter_on_the_global_provider()
    handled: list[object] = []
    done = asyncio.Event()

    async def handle(event: object, envelope: object, uow: object) -> None:
        handled.append(event)
        done.set()

    uow = FakeUnitOfWork()
    dispatcher = EventDispatcher(group="g", handlers={IndicatorPublished: handle}, unit_of_work=lambda: uow)
    engine = ConsumerEngine(
        bootstrap_servers="unused:9092", group_id="g", topics=["t"], handler=dispatcher
    )  # no tracer provider given: the process's own, as in a service
    engine.runner.start_tracing(True)
    encoded = encode(_event())
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = (*encoded.headers, ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode()))
    record = Record("t", 0, 7, "08111000", encoded.value, headers, 0, 1, "t", 0, 7)
    work = PartitionWork(config=EngineConfig(), group="g", topic="t", partition=0, positions=(7, 0, 0))
    pair = Pair(work=work, tps={}, targets={})
    taken, _ = work.admit_source(record)
    assert taken
    engine.runner.pump(pair)
    await asyncio.wait_for(done.wait(), 5)
    work.closing = True  # as the engine closes a pair: the handler task ends
    pair.dismiss_idle()
    await asyncio.gather(*pair.tasks)

    assert len(handled) == 1 and uow.processed == {("g", encoded.event_id)}
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.attributes is not None
    assert span.attributes["cloudevents.event_type"] == "de.wegweiser.statistics.indicator.published.v1"
    assert span.attributes["messaging.kafka.offset"] == 7
    exporter.shutdown()  # later tests' spans are not kept
