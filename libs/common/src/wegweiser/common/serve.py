"""Run a service's HTTP app under uvicorn with logs and telemetry configured (``python -m wegweiser.X``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from wegweiser.common.logs import configure_logging
from wegweiser.common.settings import ServiceSettings
from wegweiser.common.telemetry import configure_telemetry

S = TypeVar("S", bound=ServiceSettings)


def serve(service: str, settings_class: type[S], build: Callable[[S], FastAPI]) -> None:
    settings = settings_class()
    configure_logging(service, settings.log_level)
    configure_telemetry(service, otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    uvicorn.run(
        build(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
