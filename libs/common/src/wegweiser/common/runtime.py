"""The moving parts every service runs beside its HTTP API: database, outbox relay, consumers.

Each service's ``app.py`` builds one ``ServiceRuntime`` and hands its ``lifespan`` to FastAPI, so
start-up order, shutdown and readiness are the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from wegweiser.common import topics
from wegweiser.common.auth import JwksValidator
from wegweiser.common.broker import RelayProducer, create_broker
from wegweiser.common.db import DATABASE_POOL_SIZE, UnitOfWork, create_engine
from wegweiser.common.dispatch import EventDispatcher, EventHandler
from wegweiser.common.engine import ConsumerEngine, EngineConfig
from wegweiser.common.events import Event
from wegweiser.common.http import ReadyCheck, broker_reachable
from wegweiser.common.migrations import Migrations, upgrade_database
from wegweiser.common.outbox import OutboxRelay
from wegweiser.common.regions import kreis_of
from wegweiser.common.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """One consumer group: which topics it reads and which typed handler takes which event."""

    group: str
    topics: Sequence[topics.TopicSpec]
    handlers: Mapping[type[Event], EventHandler]
    config: EngineConfig = field(default_factory=EngineConfig)
    inbox: bool = True  # False: the handlers are idempotent by themselves (EventDispatcher)


class ServiceRuntime:
    def __init__(
        self,
        *,
        service: str,
        settings: ServiceSettings,
        migrations: Migrations,
        consumers: Sequence[ConsumerSpec] = (),
        unit_of_work: Callable[..., UnitOfWork] = UnitOfWork,
    ) -> None:
        self.service = service
        self.settings = settings
        self.migrations = migrations
        self._migrated = False
        self.db = create_engine(settings.database_url)
        self.sessions = async_sessionmaker(self.db, expire_on_commit=False)
        self.outbox_wake = asyncio.Event()
        self._unit_of_work = unit_of_work
        self.consumer_specs = list(consumers)
        self.consumers: list[ConsumerEngine] = []
        self.broker = create_broker(settings.kafka_bootstrap_servers, client_id=f"wegweiser-{service}")
        self.producer = RelayProducer(
            settings.kafka_bootstrap_servers, client_id=f"wegweiser-{service}-relay"
        )
        self.relay = OutboxRelay(
            engine=self.db,
            sessions=self.sessions,
            send=self.producer.send,
            wake=self.outbox_wake,
            renew=self.producer.renew,
        )
        self._relay_task: asyncio.Task[None] | None = None
        # Shared by all consumer groups of this service; below the pool size so HTTP requests keep room.
        self.consumer_database_slots = asyncio.Semaphore(DATABASE_POOL_SIZE * 2 // 3)
        self.auth = JwksValidator(
            jwks_url=settings.auth_jwks_url, issuer=settings.auth_issuer, audience=settings.auth_audience
        )

    def unit_of_work(self) -> Any:
        wrapping = getattr(self.settings, "key_wrapping_key", None)  # the services with personal data
        if wrapping is None:
            return self._unit_of_work(self.sessions, self.outbox_wake)
        return self._unit_of_work(self.sessions, self.outbox_wake, key_wrapping_key=wrapping)

    async def migrate(self) -> None:
        """The schema to head before anything reads or writes (once per process)."""
        if not self._migrated:
            await upgrade_database(self.db, self.migrations)
            self._migrated = True

    async def migrate_and_create_topics(self) -> None:
        """Schema at head and, where the settings ask for it, the topics there."""
        await self.migrate()
        if self.settings.create_topics:
            await topics.ensure_topics(
                self.settings.kafka_bootstrap_servers,
                replication_factor=self.settings.topic_replication_factor,
            )

    async def _prepare(self) -> None:
        """Schema, topics, producer connected: what both the service and the relay need."""
        await self.migrate_and_create_topics()
        await self.broker.start()

    async def start(self) -> None:
        await self._prepare()
        if self.settings.outbox_relay:
            await self.producer.start()
            self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.service}-outbox-relay")
        for spec in self.consumer_specs:
            engine = self._consumer(spec)
            await engine.start()
            self.consumers.append(engine)
        freeze_start_up_objects()

    def _consumer(self, spec: ConsumerSpec) -> ConsumerEngine:
        """The group's engine; its handlers share the service's unit of work and database slots."""
        dispatcher = EventDispatcher(
            group=spec.group,
            handlers=spec.handlers,
            unit_of_work=self.unit_of_work,
            database_slots=self.consumer_database_slots,
            inbox=spec.inbox,
        )
        return ConsumerEngine(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=spec.group,
            topics=[t.name for t in spec.topics],
            handler=dispatcher,
            config=spec.config,
            kreis_of=kreis_of,
            group_instance_id=self.settings.instance_id,
        )

    async def stop(self) -> None:
        for engine in self.consumers:
            with contextlib.suppress(Exception):
                await engine.stop()
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            # Whatever committed but is still unsent goes out now rather than after the next start.
            with contextlib.suppress(Exception):
                await self.relay.publish_pending()
            await self.producer.stop()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.db.dispose()

    async def run_relay(self, *, poll_interval_s: float = 0.1, batch_size: int = 2_000) -> None:
        """Only the outbox relay, in a process of its own, until cancelled (then one last batch).

        Leadership is the same advisory lock as in-process, so a relay process and services that still
        run their own relay never publish side by side. Without the in-process wake-up it polls.
        """
        await self._prepare()
        await self.producer.start()
        self.relay.poll_interval_s = poll_interval_s
        self.relay.batch_size = batch_size  # a process of its own: bigger batches, fewer round trips
        freeze_start_up_objects()
        try:
            await self.relay.run()
        finally:
            with contextlib.suppress(Exception):
                await self.relay.publish_pending()
            await self.producer.stop()
            with contextlib.suppress(Exception):
                await self.broker.stop()
            await self.db.dispose()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        app.state.auth = self.auth
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def ready_checks(self) -> dict[str, ReadyCheck]:
        async def database() -> bool:
            async with self.db.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True

        async def outbox_relay() -> bool:
            if not self.settings.outbox_relay:
                return True  # runs as a process of its own
            return self._relay_task is not None and not self._relay_task.done()

        async def consumers() -> bool:
            return all(engine.ready for engine in self.consumers)

        async def broker() -> bool:
            return await broker_reachable(self.settings.kafka_bootstrap_servers)

        return {"database": database, "outbox_relay": outbox_relay, "consumers": consumers, "broker": broker}


def freeze_start_up_objects() -> None:
    """What start-up loaded (modules, models, the region catalogue) lives as long as the process.

    Frozen, it is out of the collector's sight, so full collections under load do not scan it again
    and again (they stalled batches and the event loop for tens of ms; see bench/README.md).
    """
    gc.collect()
    gc.freeze()
