"""OpenTelemetry set-up for a service: traces (OTLP when configured) and metrics on /metrics."""

from __future__ import annotations

import os

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False
# Spans wait at most this long in memory before export (the SDK's default is 5 s): what a killed process
# takes with it. ``OTEL_BSP_SCHEDULE_DELAY`` still sets it.
EXPORT_DELAY_MS = 500


def configure_telemetry(service: str, *, otlp_endpoint: str | None = None) -> None:
    """Install tracer and meter providers once per process; the Prometheus reader feeds /metrics.

    Traces go to an OpenTelemetry Collector over OTLP/HTTP when ``otlp_endpoint`` is set.
    """
    global _configured
    if _configured:
        return
    resource = Resource.create({"service.name": f"wegweiser-{service}"})
    tracer_provider = TracerProvider(resource=resource)
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")
        delay = None if "OTEL_BSP_SCHEDULE_DELAY" in os.environ else EXPORT_DELAY_MS
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=delay))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()]))
    _configured = True
