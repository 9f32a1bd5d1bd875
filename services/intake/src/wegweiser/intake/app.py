"""Intake's composition root: ``build(settings)`` wires database, outbox relay and HTTP API."""

from __future__ import annotations

from fastapi import FastAPI

from wegweiser.common.http import health_router, install_problem_handlers, mount_metrics
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.intake import api
from wegweiser.intake.db import IntakeTable
from wegweiser.intake.handlers import IntakeUnitOfWork
from wegweiser.intake.settings import IntakeSettings


def build(settings: IntakeSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="intake", settings=settings, metadata=IntakeTable.metadata, unit_of_work=IntakeUnitOfWork
    )
    app = FastAPI(
        title="Wegweiser Intake",
        version="1.0.0",
        description="Hand-over of allocated households from reception authorities to municipalities.",
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(health_router(runtime.ready_checks()))
    app.include_router(api.router())
    mount_metrics(app)
    return app
