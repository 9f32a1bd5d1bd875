"""OpenTelemetry set-up for a service: traces (OTLP when configured) and metrics on /metrics."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

_configured = False


def configure_telemetry(service: str) -> None:
    """Install tracer and meter providers once per process; the Prometheus reader feeds /metrics."""
    global _configured
    if _configured:
        return
    resource = Resource.create({"service.name": f"wegweiser-{service}"})
    trace.set_tracer_provider(TracerProvider(resource=resource))
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()]))
    _configured = True
