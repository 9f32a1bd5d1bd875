"""Casework's composition root: ``build(settings)`` wires database, relay, consumers, API and web UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from wegweiser.casework import api, consumers, handlers, retention, web
from wegweiser.casework.migrations import MIGRATIONS
from wegweiser.casework.seed import seed_at_start
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.periodic import every, running
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.common.web_security import SecurityHeaders

log = logging.getLogger(__name__)


def build(settings: CaseworkSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="casework",
        settings=settings,
        migrations=MIGRATIONS,
        unit_of_work=handlers.CaseworkUnitOfWork,
        consumers=consumers.consumer_specs(settings),
    )

    async def retention_round() -> dict[str, int]:
        return (await retention.run_purge(runtime.unit_of_work, settings)).counts()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.fault_fail_ags:
            log.warning(
                "CASEWORK_FAULT_FAIL_AGS is set: every arrival.registered of %s fails on purpose "
                "(tests and benchmarks only)",
                ", ".join(sorted(settings.fault_fail_ags)),
            )
        async with runtime.lifespan(app):
            if settings.seed_enabled:
                await seed_at_start(runtime.unit_of_work)
            async with running(
                every(settings.retention_interval_s, retention_round, name="casework retention purge"),
                name="casework-retention",
            ):
                yield

    app = FastAPI(
        title="Wegweiser Casework",
        version="1.0.0",
        description=(
            "The counsellors' workplace: cases, consultations, the Integrationsplan, consent, referrals, "
            "assignment, transfer and closure; audit log; administration of providers and the per-AGS rule."
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_health(app, runtime.ready_checks())
    app.include_router(api.router)
    web.install(app)
    app.add_middleware(SecurityHeaders)
    mount_observability(app)
    return app
