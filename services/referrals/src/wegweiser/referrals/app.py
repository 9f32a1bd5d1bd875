"""Referrals' composition root: ``build(settings, **overrides)`` wires database, relay, consumers,
background loops (timers, webhook worker, retention) and the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from wegweiser.common import events, topics
from wegweiser.common.broker import broker_sender
from wegweiser.common.engine import EngineConfig
from wegweiser.common.events.referrals import partner_feedback_topic, partner_referrals_topic
from wegweiser.common.http import install_health, install_problem_handlers, mount_observability
from wegweiser.common.outbox import OutboxRelay, Send
from wegweiser.common.runtime import ConsumerSpec, ServiceRuntime
from wegweiser.referrals import api
from wegweiser.referrals.asyncapi import document
from wegweiser.referrals.background import Background
from wegweiser.referrals.clock import Clock
from wegweiser.referrals.consumers import FeedbackConsumers, on_case_erased, on_case_opened
from wegweiser.referrals.db import PartnerRow
from wegweiser.referrals.delivery.worker import WebhookWorker, WorkerConfig
from wegweiser.referrals.domain.catalogue import default_programmes
from wegweiser.referrals.handlers import (
    TOMBSTONE_HEADER,
    Policy,
    ReferralsUnitOfWork,
    Seed,
    on_consent_withdrawn,
    receive_request,
    seed_catalogue,
)
from wegweiser.referrals.holiday_calendar import HolidayCalendar
from wegweiser.referrals.migrations import MIGRATIONS
from wegweiser.referrals.seed import example_partners
from wegweiser.referrals.settings import ReferralsSettings


def tombstone_aware(send: Send, broker: Any) -> Send:
    """The relay's send, except that a record marked as tombstone goes out with a null value."""

    async def wrapped(topic: str, key: str, value: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        if headers.get(TOMBSTONE_HEADER):
            future = await broker.publish(None, topic, key=key.encode(), no_confirm=True)
            assert isinstance(future, asyncio.Future)
            return future
        return await send(topic, key, value, headers)

    return wrapped


def build(
    settings: ReferralsSettings,
    *,
    clock: Clock | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    clock = clock or Clock()
    policy = Policy(
        clock=clock,
        is_holiday=HolidayCalendar(settings.holiday_subdivision).is_holiday,
        remind_after_working_days=settings.remind_after_working_days,
        expire_after_working_days=settings.expire_after_working_days,
    )
    delivery_wake = asyncio.Event()
    # Every handler holds a database connection: keep what runs at once near the pool's size (10 + 20)
    # instead of the engine's default of 256 per partition, or a backlog times out waiting for the pool.
    engine_config = EngineConfig(max_in_flight_per_partition=8, max_in_flight_per_ags=4)
    runtime = ServiceRuntime(
        service="referrals",
        settings=settings,
        migrations=MIGRATIONS,
        unit_of_work=partial(ReferralsUnitOfWork, delivery_signal=delivery_wake),
        consumers=[
            ConsumerSpec(
                group=settings.consumer_group("referrals"),
                topics=[topics.REFERRAL_REQUESTS, topics.CASES],
                handlers={
                    events.ReferralRequested: partial(receive_request, policy=policy),
                    events.CaseOpened: on_case_opened,
                    events.ConsentWithdrawn: partial(on_consent_withdrawn, policy=policy),
                    events.CaseErased: on_case_erased,
                },
                config=engine_config,
            )
        ],
    )
    runtime.relay = OutboxRelay(
        engine=runtime.db,
        sessions=runtime.sessions,
        send=tombstone_aware(broker_sender(runtime.broker), runtime.broker),
        wake=runtime.outbox_wake,
    )

    async def ensure_partner_topics(partner_ids: Sequence[str]) -> None:
        """Each Kafka partner's two topics, created (or checked) before the partner is published."""
        if not settings.create_topics or not partner_ids:
            return
        specs = tuple(s for p in partner_ids for s in (partner_referrals_topic(p), partner_feedback_topic(p)))
        await topics.ensure_topics(
            settings.kafka_bootstrap_servers, specs, replication_factor=settings.topic_replication_factor
        )

    async def kafka_partners() -> list[str]:
        async with runtime.sessions() as session:
            query = select(col(PartnerRow.partner_id)).where(
                col(PartnerRow.delivery) == "kafka", col(PartnerRow.removed).is_(False)
            )
            return list((await session.execute(query)).scalars())

    worker = WebhookWorker(
        wake=delivery_wake,
        sessions=runtime.sessions,
        clock=clock,
        transport=webhook_transport,
        config=WorkerConfig(
            timeout_s=settings.webhook_timeout_s,
            concurrency_per_partner=settings.webhook_concurrency_per_partner,
            max_attempts=settings.webhook_max_attempts,
            backoff_initial_s=settings.webhook_backoff_initial_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            poll_interval_s=settings.webhook_poll_interval_s,
            breaker_failure_threshold=settings.breaker_failure_threshold,
            breaker_open_s=settings.breaker_open_s,
            breaker_open_max_s=settings.breaker_open_max_s,
        ),
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
    feedback = FeedbackConsumers(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group=settings.consumer_group("referrals-feedback"),
        unit_of_work=runtime.unit_of_work,
        policy=policy,
        kafka_partners=kafka_partners,
        config=engine_config,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.lifespan(app):
            await seed_catalogue(
                Seed(default_programmes(), example_partners() if settings.seed_catalogue else []),
                uow=runtime.unit_of_work(),
                clock=clock,
                ensure_topics=ensure_partner_topics,
            )
            await ensure_partner_topics(await kafka_partners())
            await feedback.refresh()
            tasks = [
                asyncio.create_task(background.run(), name="referrals-background"),
                asyncio.create_task(feedback.run(), name="referrals-feedback"),
            ]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def catalogue_changed() -> None:
        """After an admin change: re-read the partner set (feedback topics) and wake the webhook worker."""
        feedback.changed.set()
        worker.wake.set()

    app = FastAPI(
        title="Wegweiser Referrals",
        version="1.0.0",
        description="Referrals to partner agencies: catalogue, routing, lifecycle, delivery, feedback.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.policy = policy
    app.state.worker = worker
    app.state.background = background
    app.state.feedback = feedback
    app.state.ensure_partner_topics = ensure_partner_topics
    app.state.catalogue_changed = catalogue_changed
    install_problem_handlers(app)

    async def feedback_ready() -> bool:
        return feedback.ready

    checks = {**runtime.ready_checks(), "feedback_consumer": feedback_ready}
    install_health(app, checks)
    app.include_router(api.router())

    @app.get("/asyncapi.json", tags=["docs"], include_in_schema=False)
    async def asyncapi() -> dict[str, Any]:
        """The AsyncAPI 3 document of the partner topics (also committed under docs/)."""
        return document()

    mount_observability(app)
    return app
