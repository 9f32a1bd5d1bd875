"""Referrals' composition root."""

from __future__ import annotations

from fastapi import FastAPI

from wegweiser.common import events, topics
from wegweiser.common.http import health_router, install_problem_handlers, mount_metrics
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime
from wegweiser.referrals.consumers import on_case_opened
from wegweiser.referrals.db import ReferralsTable
from wegweiser.referrals.settings import ReferralsSettings


def build(settings: ReferralsSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="referrals",
        settings=settings,
        metadata=ReferralsTable.metadata,
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("referrals"),
                topics=[topics.CASES],
                handlers={events.CaseOpened: on_case_opened},
            )
        ],
    )
    app = FastAPI(
        title="Wegweiser Referrals",
        version="1.0.0",
        description="Referrals to partner agencies and their lifecycle.",
        lifespan=runtime.lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(health_router(runtime.ready_checks()))
    mount_metrics(app)
    return app
