"""Statistics' composition root: a projection of pseudonymous facts behind an aggregate-only API."""

from __future__ import annotations

from fastapi import FastAPI

from wegweiser.common import events, topics
from wegweiser.common.http import health_router, install_problem_handlers, mount_metrics
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime
from wegweiser.statistics import api
from wegweiser.statistics.db import StatisticsTable
from wegweiser.statistics.projections import on_arrival_fact, on_consultation_recorded
from wegweiser.statistics.settings import StatisticsSettings


def build(settings: StatisticsSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="statistics",
        settings=settings,
        metadata=StatisticsTable.metadata,
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("statistics"),
                topics=[topics.INTAKE_FACTS, topics.CASES],
                handlers={
                    events.ConsultationRecorded: on_consultation_recorded,
                    events.ArrivalRegisteredFact: on_arrival_fact,
                },
            )
        ],
    )
    app = FastAPI(
        title="Wegweiser Statistics",
        version="1.0.0",
        description="Aggregate indicators with disclosure control.",
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(health_router(runtime.ready_checks()))
    app.include_router(api.router())
    mount_metrics(app)
    return app
