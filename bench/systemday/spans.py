"""A minimal OTLP/HTTP trace receiver: the services export their spans here, the day checks the flows.

Every process exports over OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``) as it would to a collector, with
the SDK's parent-based ratio sampler (``OTEL_TRACES_SAMPLER``): an arrival's trace is kept whole or not at
all, since every hop follows the sampled flag of the record's ``traceparent``. Only what
``trace_flows.traces_complete_ratio`` needs of a span is kept.
"""

from __future__ import annotations

import gzip
import threading
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.trace import SpanKind

from wegweiser.common import topics
from wegweiser.common.events import CaseOpened
from wegweiser.common.trace_flows import (
    ARRIVAL_HOPS,
    CONSUMER_GROUP,
    EVENT_SUBJECT,
    EVENT_TYPE,
    Hop,
    SpanRecord,
)

KEPT = (EVENT_TYPE, EVENT_SUBJECT, CONSUMER_GROUP)
# OTLP numbers kinds from 1 (INTERNAL); the API's SpanKind from 0.
KINDS = {
    1: SpanKind.INTERNAL,
    2: SpanKind.SERVER,
    3: SpanKind.CLIENT,
    4: SpanKind.PRODUCER,
    5: SpanKind.CONSUMER,
}


def records(body: bytes) -> list[SpanRecord]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    out = []
    for resource in request.resource_spans:
        for scope in resource.scope_spans:
            for span in scope.spans:
                attributes = {a.key: a.value.string_value for a in span.attributes if a.key in KEPT}
                out.append(
                    SpanRecord(
                        trace_id=int.from_bytes(span.trace_id, "big"),
                        span_id=int.from_bytes(span.span_id, "big"),
                        parent_id=int.from_bytes(span.parent_span_id, "big") if span.parent_span_id else None,
                        name=span.name,
                        kind=KINDS.get(span.kind, SpanKind.INTERNAL),
                        attributes=attributes,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                    )
                )
    return out


class SpanSink:
    """Collects the spans of every process on ``127.0.0.1:<port>/v1/traces``."""

    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                found = records(body)
                with sink._lock:
                    sink.spans.extend(found)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self) -> list[SpanRecord]:
        with self._lock:
            spans, self.spans = self.spans, []
        return spans

    def close(self) -> None:
        self.server.shutdown()


# Where an arrival's time goes until its case is visible, from the spans' clocks (all on this machine).
STEPS = {
    "outbox_to_relay_ms": (ARRIVAL_HOPS[0], "end", ARRIVAL_HOPS[1], "start"),
    "kafka_to_casework_ms": (ARRIVAL_HOPS[1], "end", ARRIVAL_HOPS[2], "start"),
    "casework_handling_ms": (ARRIVAL_HOPS[2], "start", ARRIVAL_HOPS[2], "end"),
    "casework_outbox_ms": (ARRIVAL_HOPS[2], "end", ARRIVAL_HOPS[3], "start"),
}


KEY_STORED = Hop(SpanKind.CONSUMER, f"{topics.INTAKE_PERSON_KEYS.name} process", "casework-person-keys")


def steps(
    spans: list[SpanRecord],
    phase_of: Callable[[str], str | None],
    percentile: Callable[[list[float], float], float | None],
) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per phase and step, p50/p99 in ms over the sampled arrivals whose trace has all four hops."""
    by_trace: dict[int, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for trace in by_trace.values():
        subject = next(
            (str(s.attributes.get(EVENT_SUBJECT)) for s in trace if ARRIVAL_HOPS[1].matches(s)), None
        )
        phase = phase_of(subject) if subject else None
        if phase is None:
            continue
        first = {}
        for hop in ARRIVAL_HOPS[:4]:
            matching = [s for s in trace if hop.matches(s)]
            if hop.kind == SpanKind.PRODUCER and hop.name == f"{topics.CASES.name} publish":
                matching = [s for s in matching if s.attributes.get(EVENT_TYPE) == CaseOpened.ce_type()]
            if not matching:
                break
            first[hop] = min(matching, key=lambda s: s.start_ns)
        else:
            keys = [s for s in trace if KEY_STORED.matches(s)]
            if keys:  # the arrival's persons' keys come on their own topic, through another consumer
                began = first[ARRIVAL_HOPS[2]].start_ns
                key_steps = {
                    "keys_stored_after_handling_began_ms": max(s.end_ns for s in keys) - began,
                    "keys_seen_after_handling_began_ms": max(s.start_ns for s in keys) - began,
                    "key_storing_ms": max(s.end_ns - s.start_ns for s in keys),
                }
                for step, ns in key_steps.items():
                    found[phase][step].append(max(0, ns) / 1e6)
            for step, (a, a_at, b, b_at) in STEPS.items():
                since = first[a].end_ns if a_at == "end" else first[a].start_ns
                until = first[b].end_ns if b_at == "end" else first[b].start_ns
                found[phase][step].append(max(0, until - since) / 1e6)
    return {
        phase: {
            step: {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
            for step, v in by_step.items()
        }
        for phase, by_step in found.items()
    }
