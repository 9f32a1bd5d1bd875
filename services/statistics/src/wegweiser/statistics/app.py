"""Statistics' composition root: a projection of pseudonymous facts behind an aggregate-only API."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from wegweiser.common import localtime
from wegweiser.common.engine import EngineConfig
from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime
from wegweiser.statistics import api, dashboard
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.projection.live import HANDLERS
from wegweiser.statistics.service import Statistics, source_topics
from wegweiser.statistics.settings import StatisticsSettings


def build(
    settings: StatisticsSettings,
    *,
    today: Callable[[], dt.date] = localtime.today,
    engine_config: EngineConfig | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(
        service="statistics",
        settings=settings,
        migrations=MIGRATIONS,
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("statistics"),
                topics=source_topics(settings),
                handlers=HANDLERS,
                config=engine_config or EngineConfig(),
            )
        ],
    )
    statistics = Statistics(settings=settings, runtime=runtime, today=today)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await statistics.prepare()  # before the live engine joins its group (see rebuild.py)
        async with runtime.lifespan(app):
            await statistics.start()
            try:
                yield
            finally:
                await statistics.stop()

    app = FastAPI(
        title="Wegweiser Statistics",
        version="1.0.0",
        description=(
            "Aggregate indicators of Integrationsmanagement with disclosure control: JSON, CSV, XLSX, a "
            "dashboard, and the compacted feed wegweiser.statistics.indicators.v1 (AsyncAPI: /asyncapi.json)."
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.statistics = statistics
    install_problem_handlers(app)
    install_health(app, runtime.ready_checks())
    app.include_router(api.router())
    app.include_router(api.asyncapi_router())
    app.include_router(dashboard.router())
    mount_observability(app)
    return app
