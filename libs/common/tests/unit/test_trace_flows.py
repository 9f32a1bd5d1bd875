"""traces_complete_ratio: an arrival counts when its one trace has every hop and hangs together."""

from __future__ import annotations

import itertools
from dataclasses import replace

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from wegweiser.common import events, topics
from wegweiser.common.trace_flows import (
    SpanRecord,
    arrival_traces,
    missing_hops,
    span_record,
    traces_complete_ratio,
)

_ids = itertools.count(1)
REGISTERED = events.ArrivalRegistered.ce_type()


def _span(
    trace_id: int, parent: SpanRecord | None, kind: SpanKind, name: str, **attributes: str
) -> SpanRecord:
    return SpanRecord(
        trace_id=trace_id,
        span_id=next(_ids),
        parent_id=parent.span_id if parent else None,
        name=name,
        kind=kind,
        attributes=attributes,
    )


def flow(
    trace_id: int, arrival_id: str, *, groups: tuple[str, ...] = ("statistics", "referrals")
) -> list[SpanRecord]:
    """The spans of one arrival as the services emit them (groups with a deployment prefix)."""
    arrivals, cases = topics.ARRIVALS.name, topics.CASES.name
    request = _span(trace_id, None, SpanKind.SERVER, "POST /v1/arrivals")
    published = _span(
        trace_id,
        request,
        SpanKind.PRODUCER,
        f"{arrivals} publish",
        **{"cloudevents.event_type": REGISTERED, "cloudevents.event_subject": arrival_id},
    )
    opened = _span(
        trace_id,
        published,
        SpanKind.CONSUMER,
        f"{arrivals} process",
        **{"messaging.consumer.group.name": "prod-casework"},
    )
    relayed = _span(trace_id, opened, SpanKind.PRODUCER, f"{cases} publish")
    consumers = [
        _span(
            trace_id,
            relayed,
            SpanKind.CONSUMER,
            f"{cases} process",
            **{"messaging.consumer.group.name": f"prod-{g}"},
        )
        for g in groups
    ]
    return [request, published, opened, relayed, *consumers]


def test_complete_flows_count_and_a_missing_consumer_does_not() -> None:
    whole = flow(1, "a1")
    without_referrals = flow(2, "a2", groups=("statistics",))
    assert missing_hops(whole) == []
    assert missing_hops(without_referrals) == [
        "no consumer span wegweiser.casework.cases.v1 process of referrals"
    ]
    assert traces_complete_ratio([*whole, *without_referrals], ["a1", "a2"]) == 0.5
    assert traces_complete_ratio([*whole, *without_referrals], ["a1"]) == 1.0


def test_a_consumer_that_started_its_own_trace_leaves_the_arrival_incomplete() -> None:
    spans = flow(1, "a1")
    casework = spans[2]
    cut = [replace(s, trace_id=9, parent_id=None) if s is casework else s for s in spans]
    assert traces_complete_ratio(cut, ["a1"]) == 0.0
    # The relayed case.opened (and its consumers) still name casework's span: parent not in the trace.
    assert "1 spans whose parent is not in the trace" in missing_hops([s for s in cut if s.trace_id == 1])


def test_a_trace_in_pieces_or_with_two_roots_is_not_one_flow() -> None:
    spans = flow(1, "a1")
    orphaned = [replace(s, parent_id=12345) if i == 3 else s for i, s in enumerate(spans)]
    assert missing_hops(orphaned) == ["1 spans whose parent is not in the trace"]
    two_roots = [*spans, _span(1, None, SpanKind.SERVER, "POST /v1/arrivals")]
    assert missing_hops(two_roots) == ["2 root spans, not 1"]
    consumer_root = [replace(s, parent_id=None) if i == 0 else s for i, s in enumerate(spans[2:])]
    assert "the root is 'wegweiser.intake.arrivals.v1 process', not an HTTP request" in missing_hops(
        consumer_root
    )
    assert traces_complete_ratio(orphaned, ["a1"]) == traces_complete_ratio(two_roots, ["a1"]) == 0.0


def test_arrivals_without_spans_or_published_twice_in_two_traces_count_as_incomplete() -> None:
    spans = [*flow(1, "a1"), *flow(2, "a1"), *flow(3, "a3")]
    assert arrival_traces(spans) == {"a1": {1, 2}, "a3": {3}}
    assert traces_complete_ratio(spans, ["a1", "a3", "never-seen"]) == 1 / 3
    assert traces_complete_ratio(spans, []) == 0.0


def test_span_record_reads_an_sdk_span() -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /v1/arrivals", kind=SpanKind.SERVER) as root,
        tracer.start_as_current_span("x publish", kind=SpanKind.PRODUCER, attributes={"a": "b"}),
    ):
        pass
    child, parent = (span_record(s) for s in exporter.get_finished_spans())
    assert parent.parent_id is None and parent.kind == SpanKind.SERVER
    assert child.parent_id == root.get_span_context().span_id == parent.span_id
    assert child.trace_id == parent.trace_id and child.attributes == {"a": "b"} and child.name == "x publish"
