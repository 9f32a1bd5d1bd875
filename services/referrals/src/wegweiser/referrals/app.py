"""Referrals' composition root: ``build(settings, **overrides)`` wires database, relay, consumers,
background loops (timers, webhook worker, retention), the HTTP API and the partner inbox.
It composes; it decides nothing."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from functools import partial

import httpx
from fastapi import FastAPI

from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.common.web_security import SecurityHeaders
from wegweiser.referrals import api, web
from wegweiser.referrals.background import Background
from wegweiser.referrals.clock import Clock
from wegweiser.referrals.consumers import (
    FeedbackConsumer,
    PartnerTopics,
    consumer_specs,
    kafka_partner_ids,
    send_with_tombstones,
)
from wegweiser.referrals.delivery.addresses import AddressGuard
from wegweiser.referrals.delivery.worker import WebhookWorker, WorkerConfig
from wegweiser.referrals.deps import ReferralsContext, attach
from wegweiser.referrals.handlers import Policy, ReferralsUnitOfWork, Seed, seed_catalogue
from wegweiser.referrals.holiday_calendar import HolidayCalendar
from wegweiser.referrals.migrations import MIGRATIONS
from wegweiser.referrals.seed import default_programmes, example_partners
from wegweiser.referrals.settings import ReferralsSettings


def build(
    settings: ReferralsSettings,
    *,
    clock: Clock | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    context = build_context(settings, clock=clock or Clock(), webhook_transport=webhook_transport)
    app = FastAPI(
        title="Wegweiser Referrals",
        version="1.0.0",
        description="Referrals to partner agencies: catalogue, routing, lifecycle, delivery, feedback.",
        lifespan=partial(lifespan, context=context),
    )
    attach(app, context)
    install_problem_handlers(app)

    async def feedback_ready() -> bool:
        return context.feedback.ready

    install_health(app, {**context.runtime.ready_checks(), "feedback_consumer": feedback_ready})
    app.include_router(api.router)
    app.include_router(api.docs_router)
    web.install(app)
    app.add_middleware(SecurityHeaders)
    mount_observability(app)
    return app


def build_context(
    settings: ReferralsSettings, *, clock: Clock, webhook_transport: httpx.AsyncBaseTransport | None
) -> ReferralsContext:
    """Every long-lived part of the service, built from the settings."""
    policy = Policy(
        clock=clock,
        is_holiday=HolidayCalendar(settings.holiday_subdivision).is_holiday,
        remind_after_working_days=settings.remind_after_working_days,
        expire_after_working_days=settings.expire_after_working_days,
    )
    delivery_wake = asyncio.Event()
    runtime = ServiceRuntime(
        service="referrals",
        settings=settings,
        migrations=MIGRATIONS,
        unit_of_work=partial(ReferralsUnitOfWork, delivery_signal=delivery_wake),
        consumers=consumer_specs(settings, policy),
    )
    runtime.relay.send = send_with_tombstones(runtime.producer)
    addresses = AddressGuard(allowed=settings.webhook_allowed_hosts, own_hosts=settings.webhook_own_hosts)
    worker = WebhookWorker(
        wake=delivery_wake,
        sessions=runtime.sessions,
        clock=clock,
        transport=webhook_transport,
        addresses=addresses,
        config=WorkerConfig.of(settings),
    )
    background = Background(
        engine=runtime.db,
        sessions=runtime.sessions,
        unit_of_work=runtime.unit_of_work,
        policy=policy,
        worker=worker,
        timer_interval_s=settings.timer_interval_s,
        retention=dt.timedelta(days=settings.delivery_data_retention_days),
        retention_interval_s=settings.retention_interval_s,
        period=settings.retention,
        outbox_retention=dt.timedelta(days=settings.outbox_retention_days),
    )
    feedback = FeedbackConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group=settings.consumer_group("referrals-feedback"),
        unit_of_work=runtime.unit_of_work,
        policy=policy,
        kafka_partners=partial(kafka_partner_ids, runtime.unit_of_work),
        config=settings.engine_config(),
        refresh_interval_s=settings.feedback_refresh_interval_s,
        instance_id=settings.instance_id,
    )
    return ReferralsContext(
        settings=settings,
        runtime=runtime,
        unit_of_work=runtime.unit_of_work,
        policy=policy,
        worker=worker,
        background=background,
        feedback=feedback,
        partner_topics=PartnerTopics(settings),
        webhook_addresses=addresses,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI, *, context: ReferralsContext) -> AsyncIterator[None]:
    """Start the runtime, seed the catalogue, then run the background loops until shutdown."""
    async with context.runtime.lifespan(app):
        seed = Seed(default_programmes(), example_partners() if context.settings.seed_catalogue else [])
        await seed_catalogue(
            seed,
            uow=context.unit_of_work(),
            clock=context.policy.clock,
            ensure_topics=context.partner_topics.ensure,
        )
        await context.partner_topics.ensure(await kafka_partner_ids(context.unit_of_work))
        await context.feedback.refresh()
        tasks = [
            asyncio.create_task(context.background.run(), name="referrals-background"),
            asyncio.create_task(context.feedback.run(), name="referrals-feedback"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
