"""A minimal OTLP/HTTP trace receiver: the services export their spans here, the day checks the flows.

Every process exports over OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``) as it would to a collector, with
the SDK's parent-based ratio sampler (``OTEL_TRACES_SAMPLER``): an arrival's trace is kept whole or not at
all, since every hop follows the sampled flag of the record's ``traceparent``. Only what
``trace_flows.traces_complete_ratio`` needs of a span is kept.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.trace import SpanKind

from wegweiser.common.trace_flows import CONSUMER_GROUP, EVENT_SUBJECT, EVENT_TYPE, SpanRecord

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
