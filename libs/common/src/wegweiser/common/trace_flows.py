"""Is an arrival one flow? Finished spans checked for the hops of its trace (``traces_complete_ratio``).

An arrival's trace is the trace in which intake's relay published its ``arrival.registered`` record (the
relay's producer span names the event's type and subject). It is complete when it has every hop of
``ARRIVAL_HOPS`` and hangs together: one root span (intake's HTTP request), and every other span's parent
among the trace's spans. A consumer that started a trace of its own, or a record published without the
trace context, leaves a hop missing from the arrival's trace; a parent that was never exported leaves
the trace in pieces. The system day (``bench/``) and the trace test use this; so can anyone with spans
from a collector, converted to ``SpanRecord``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanKind

from wegweiser.common import topics
from wegweiser.common.events.intake import ArrivalRegistered

# Span attributes the relay (producer) and the dispatcher (consumer) set from the CloudEvents headers.
EVENT_TYPE = "cloudevents.event_type"
EVENT_SUBJECT = "cloudevents.event_subject"
CONSUMER_GROUP = "messaging.consumer.group.name"


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """What the check needs of a finished span (an SDK ``ReadableSpan`` converts with ``span_record``)."""

    trace_id: int
    span_id: int
    parent_id: int | None
    name: str
    kind: SpanKind
    attributes: Mapping[str, Any]
    start_ns: int = 0  # when known: where an arrival's time goes between the hops
    end_ns: int = 0


@dataclass(frozen=True, slots=True)
class Hop:
    """One step an arrival's trace must contain: a span of this kind and name (and consumer group)."""

    kind: SpanKind
    name: str = ""  # "" matches any name (the HTTP server span's name is the route's)
    group: str | None = None  # a consumer span's group ends with this (groups carry a deployment prefix)

    def matches(self, span: SpanRecord) -> bool:
        if span.kind != self.kind or (self.name and span.name != self.name):
            return False
        group = str(span.attributes.get(CONSUMER_GROUP, ""))
        return self.group is None or group == self.group or group.endswith(f"-{self.group}")


def _publish(topic: topics.TopicSpec) -> Hop:
    return Hop(SpanKind.PRODUCER, f"{topic.name} publish")


def _process(topic: topics.TopicSpec, group: str) -> Hop:
    return Hop(SpanKind.CONSUMER, f"{topic.name} process", group)


ARRIVAL_HOPS: tuple[Hop, ...] = (
    Hop(SpanKind.SERVER),  # intake's POST /v1/arrivals (or a batch, an import)
    _publish(topics.ARRIVALS),
    _process(topics.ARRIVALS, "casework"),  # the case is opened
    _publish(topics.CASES),  # case.opened, from the consumer span through casework's outbox
    _process(topics.CASES, "statistics"),
    _process(topics.CASES, "referrals"),
)
"""intake HTTP → relay → Kafka → casework (case opened) → relay → statistics and referrals."""


def span_record(span: Any) -> SpanRecord:
    """A ``SpanRecord`` of an OpenTelemetry SDK ``ReadableSpan`` (e.g. from the in-memory exporter)."""
    parent = span.parent
    return SpanRecord(
        trace_id=span.context.trace_id,
        span_id=span.context.span_id,
        parent_id=parent.span_id if parent is not None and parent.is_valid else None,
        name=span.name,
        kind=span.kind,
        attributes=dict(span.attributes or {}),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
    )


def arrival_traces(spans: Iterable[SpanRecord]) -> dict[str, set[int]]:
    """Arrival id → the trace ids its ``arrival.registered`` record was published in (one, normally)."""
    found: dict[str, set[int]] = defaultdict(set)
    registered = ArrivalRegistered.ce_type()
    for span in spans:
        if span.kind == SpanKind.PRODUCER and span.attributes.get(EVENT_TYPE) == registered:
            found[str(span.attributes.get(EVENT_SUBJECT, ""))].add(span.trace_id)
    return found


def missing_hops(trace: list[SpanRecord], hops: Iterable[Hop] = ARRIVAL_HOPS) -> list[str]:
    """What keeps one trace's spans from being one complete flow (empty when complete)."""
    ids = {s.span_id for s in trace}
    roots = [s for s in trace if s.parent_id is None]
    problems = [f"{len(roots)} root spans, not 1"] if len(roots) != 1 else []
    orphans = sum(1 for s in trace if s.parent_id is not None and s.parent_id not in ids)
    if orphans:
        problems.append(f"{orphans} spans whose parent is not in the trace")
    if roots and not Hop(SpanKind.SERVER).matches(roots[0]):
        problems.append(f"the root is {roots[0].name!r}, not an HTTP request")
    problems += [
        f"no {h.kind.name.lower()} span {h.name or '(any)'}{f' of {h.group}' if h.group else ''}"
        for h in hops
        if not any(h.matches(s) for s in trace)
    ]
    return problems


def traces_complete_ratio(
    spans: Iterable[SpanRecord], arrival_ids: Iterable[str], hops: Iterable[Hop] = ARRIVAL_HOPS
) -> float:
    """The share of ``arrival_ids`` whose arrival has exactly one trace, and that trace is complete.

    An arrival without spans counts as incomplete; an empty set of arrivals gives 0.0 (nothing proven).
    """
    wanted = [str(a) for a in arrival_ids]
    if not wanted:
        return 0.0
    collected = list(spans)
    by_trace: dict[int, list[SpanRecord]] = defaultdict(list)
    for span in collected:
        by_trace[span.trace_id].append(span)
    traces_of = arrival_traces(collected)
    required = tuple(hops)
    complete = sum(
        1
        for arrival in wanted
        if len(traces_of.get(arrival, ())) == 1
        and not missing_hops(by_trace[next(iter(traces_of[arrival]))], required)
    )
    return complete / len(wanted)
