"""Run a service's HTTP app under uvicorn with logs and telemetry configured (``python -m wegweiser.X``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from wegweiser.common.logs import configure_logging
from wegweiser.common.settings import ServiceSettings
from wegweiser.common.telemetry import configure_telemetry

S = TypeVar("S", bound=ServiceSettings)


def yield_cpu(nice: int) -> None:
    """Run this process at niceness ``nice`` (``cpu_nice``), never below the niceness it was started with."""
    if nice > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, nice)


def _started(name: str, settings_class: type[S]) -> S:
    """A service process's settings, with its CPU priority, logs and telemetry set up (``name`` in them)."""
    settings = settings_class()
    yield_cpu(settings.cpu_nice)
    configure_logging(name, settings.log_level)
    configure_telemetry(name, otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    return settings


def serve(service: str, settings_class: type[S], build: Callable[[S], FastAPI]) -> None:
    settings = _started(service, settings_class)
    uvicorn.run(
        build(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


def relay(service: str, settings_class: type[S], build: Callable[[S], FastAPI]) -> None:
    """Run only the service's outbox relay (``python -m wegweiser.X relay``); SIGTERM or SIGINT stops it.

    For deployments that set ``<SERVICE>_OUTBOX_RELAY=false`` on the HTTP processes: the relay then never
    shares an event loop with request handling, and can be given less CPU than they (``nice``).
    """
    settings = _started(f"{service}-relay", settings_class)
    runtime = build(settings).state.runtime

    async def main() -> None:
        task = asyncio.create_task(runtime.run_relay())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
