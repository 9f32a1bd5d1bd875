"""Intake's composition root: ``build(settings)`` wires database, relay, quotas, imports, API and pages."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.periodic import every, running
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.common.web_security import SecurityHeaders
from wegweiser.intake import consumers, deps, imports, retention, web
from wegweiser.intake.api import arrivals, batches, corrections, duplicates, errors, subject_access, uploads
from wegweiser.intake.handlers import IntakeUnitOfWork
from wegweiser.intake.migrations import MIGRATIONS
from wegweiser.intake.quotas import Quotas
from wegweiser.intake.settings import IntakeSettings


def build(settings: IntakeSettings) -> FastAPI:
    runtime = ServiceRuntime(
        service="intake",
        settings=settings,
        migrations=MIGRATIONS,
        consumers=consumers.consumer_specs(settings),
        unit_of_work=IntakeUnitOfWork,
    )
    quotas = Quotas(
        authority_rate_per_s=settings.quota_authority_per_s,
        authority_burst=settings.quota_authority_burst,
        ags_rate_per_s=settings.quota_ags_per_s,
        ags_burst=settings.quota_ags_burst,
    )
    jobs = imports.ImportWorker(runtime=runtime, settings=settings, quotas=quotas)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            jobs.start()
            try:
                async with running(
                    every(settings.retention_interval_s, retention_round, name="intake retention purge"),
                    name="intake-retention",
                ):
                    yield
            finally:
                await jobs.stop()

    async def retention_round() -> dict[str, int]:
        return (await retention.run_purge(runtime.unit_of_work, settings)).counts()

    app = FastAPI(
        title="Wegweiser Intake",
        version="1.0.0",
        description=(
            "Hand-over of allocated households from reception authorities to municipalities. "
            "Errors are RFC 9457 problem+json, German first; send `Accept-Language: en` for English."
        ),
        lifespan=lifespan,
    )
    deps.install(app, runtime=runtime, settings=settings, quotas=quotas, imports=jobs)
    install_problem_handlers(app)
    errors.install_error_handlers(app)
    install_health(app, runtime.ready_checks())
    for routes in (arrivals, batches, corrections, duplicates, uploads, subject_access):
        app.include_router(routes.router)
    web.install(app)
    app.add_middleware(SecurityHeaders)
    mount_observability(app)
    return app


def from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory wegweiser.intake.app:from_environment`` (several workers)."""
    return build(IntakeSettings())
