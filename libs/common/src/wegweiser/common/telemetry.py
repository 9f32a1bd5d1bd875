"""OpenTelemetry set-up for a service: traces (OTLP when configured) and metrics on /metrics."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


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
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()]))
    _configured = True
