"""Casework's composition root: ``build(settings)`` wires database, relay, consumers, API and web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI

from wegweiser.casework import api, handlers, retention
from wegweiser.casework.catalogue import CATALOGUE_HANDLERS
from wegweiser.casework.handlers import on
from wegweiser.casework.migrations import MIGRATIONS
from wegweiser.casework.seed import seed_development_data
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.web import routes as web
from wegweiser.common import events, localtime, topics
from wegweiser.common.engine import EngineConfig
from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.periodic import every, running
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime

# Every handler holds a database connection: keep what runs at once (12 partitions × 2) below the pool
# (10 + 20 overflow), so a replay of a long topic cannot starve the web UI or time out.
ENGINE = EngineConfig(max_in_flight_per_partition=2, max_in_flight_per_ags=2)


async def _relocated(event: Any, envelope: Any, uow: Any) -> None:
    await handlers.transfer_case_for_relocation(event, envelope, uow, today=localtime.today())


def build(settings: CaseworkSettings) -> FastAPI:
    status_handlers = dict.fromkeys(handlers.REFERRAL_STATUS_EVENTS, on(handlers.apply_referral_status))
    runtime = ServiceRuntime(
        service="casework",
        settings=settings,
        migrations=MIGRATIONS,
        unit_of_work=handlers.CaseworkUnitOfWork,
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("casework"),
                topics=[topics.ARRIVALS],
                config=ENGINE,
                handlers={
                    events.ArrivalRegistered: partial(
                        handlers.open_case_for_arrival, pseudonym_key=settings.pseudonym_key
                    ),
                    events.ArrivalCorrected: on(handlers.correct_case_for_arrival),
                    events.ArrivalRelocated: on(_relocated),
                    events.ArrivalWithdrawn: on(handlers.close_case_for_withdrawal),
                },
            ),
            ConsumerSpec(
                group=settings.consumer_group("casework-referral-status"),
                topics=[topics.REFERRAL_STATUS],
                config=ENGINE,
                handlers=status_handlers,
            ),
            *(
                [
                    ConsumerSpec(
                        group=settings.consumer_group("casework-catalogue"),
                        topics=[topics.REFERRAL_CATALOGUE],
                        config=EngineConfig(max_in_flight_per_partition=1, max_in_flight_per_ags=1),
                        handlers=CATALOGUE_HANDLERS,
                    )
                ]
                if CATALOGUE_HANDLERS
                else []
            ),
        ],
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            if settings.seed_enabled:
                async with runtime.unit_of_work() as uow:
                    if await seed_development_data(uow.org):
                        await uow.commit()
            async with running(
                every(settings.retention_interval_s, retention_round, name="casework retention purge"),
                name="casework-retention",
            ):
                yield

    async def retention_round() -> dict[str, int]:
        return (await retention.run_purge(runtime.unit_of_work, settings)).counts()

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
    app.include_router(api.router())
    web.install(app, settings)
    mount_observability(app)
    return app
