"""Casework's composition root: ``build(settings)`` wires database, relay, consumers and HTTP API."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from wegweiser.casework import api
from wegweiser.casework.db import CaseworkTable
from wegweiser.casework.handlers import CaseworkUnitOfWork, open_case_for_arrival
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import events, topics
from wegweiser.common.http import health_router, install_problem_handlers, mount_metrics
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime


def build(settings: CaseworkSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="casework",
        settings=settings,
        metadata=CaseworkTable.metadata,
        unit_of_work=CaseworkUnitOfWork,
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("casework"),
                topics=[topics.ARRIVALS],
                handlers={
                    events.ArrivalRegistered: partial(
                        open_case_for_arrival, pseudonym_key=settings.pseudonym_key
                    )
                },
            )
        ],
    )
    app = FastAPI(
        title="Wegweiser Casework",
        version="1.0.0",
        description="The counsellors' workplace: cases, consultations, plans, consent.",
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(health_router(runtime.ready_checks()))
    app.include_router(api.router())
    mount_metrics(app)
    return app
