"""Statistics' composition root: a projection of pseudonymous facts behind an aggregate-only API."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wegweiser.common import localtime
from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.common.web_security import SecurityHeaders
from wegweiser.statistics.consumers import live_consumer
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.read import api, dashboard
from wegweiser.statistics.read.errors import install_query_problems
from wegweiser.statistics.read.published import Published
from wegweiser.statistics.settings import StatisticsSettings


def build(settings: StatisticsSettings, *, today: Callable[[], dt.date] = localtime.today) -> FastAPI:
    runtime = ServiceRuntime(
        service="statistics", settings=settings, migrations=MIGRATIONS, consumers=[live_consumer(settings)]
    )
    workers = Workers(settings=settings, runtime=runtime, today=today)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await workers.prepare()  # before the live engine joins its group (see ops/rebuild.py)
        async with runtime.lifespan(app):
            await workers.start()
            try:
                yield
            finally:
                await workers.stop()

    app = FastAPI(
        title="Wegweiser Statistics",
        version="1.0.0",
        description=(
            "Aggregate indicators of Integrationsmanagement with disclosure control: JSON, CSV, XLSX, a "
            "dashboard, and the compacted feed wegweiser.statistics.indicators.v1 (AsyncAPI: /asyncapi.json)."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.workers = workers
    app.state.published = Published(
        settings=settings, engine=runtime.db, generations=workers.generations, today=today
    )
    install_problem_handlers(app)
    install_query_problems(app)
    install_health(app, runtime.ready_checks())
    app.include_router(api.router)
    app.include_router(api.documentation)
    app.include_router(dashboard.router)
    # The dashboard's styles and script as files, so its pages run under a CSP without inline code.
    static = Path(dashboard.__file__).parent / "static"
    app.mount("/static/statistics", StaticFiles(directory=static), name="statistics-static")
    app.add_middleware(SecurityHeaders)
    mount_observability(app)
    return app
