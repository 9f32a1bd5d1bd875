"""Referrals' Kafka entrypoints: typed handlers for the engine, and the partners' feedback consumer.

The feedback topics are one per partner and partners come and go at run time, so their consumer is
an engine of its own (group ``<prefix>-referrals-feedback``) whose topic list is the feedback topics of
the current Kafka partners; it is restarted when that set changes (a rare admin action). We chose an
explicit list over a regex subscription so that the engine creates and recovers each topic's retry and
dead-letter topics exactly as for every other consumer. The partner is taken from the topic the record
came from (its ACL is the authentication), never from the payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from wegweiser.common import events
from wegweiser.common.db import UnitOfWork
from wegweiser.common.dispatch import EventDispatcher
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.envelope import Envelope
from wegweiser.common.events.referrals import partner_feedback_topic
from wegweiser.common.regions import kreis_of
from wegweiser.referrals.db import KnownCase, ReferralRepository
from wegweiser.referrals.handlers import Policy, ReferralsUnitOfWork, on_partner_feedback

log = logging.getLogger(__name__)


async def on_case_opened(event: events.CaseOpened, envelope: Envelope, uow: UnitOfWork) -> None:
    """Remember the case (its provider and AGS) for views; routing never waits for it."""
    if await uow.session.get(KnownCase, event.case_id) is None:
        uow.session.add(
            KnownCase(
                case_id=event.case_id, ags=event.ags, provider_id=event.provider_id, opened_on=event.opened_on
            )
        )


async def on_case_erased(event: events.CaseErased, envelope: Envelope, uow: UnitOfWork) -> None:
    """Casework erased the case (retention period over, or on request): so do we, for all its referrals.

    Pending webhook payloads go with their rows; what a partner received is under its own retention.
    """
    await ReferralRepository(uow.session).erase_case(event.case_id)


def partner_of_feedback_topic(topic: str) -> str | None:
    """``wegweiser.partner.<id>.feedback.v1`` → ``<id>``."""
    prefix, suffix = "wegweiser.partner.", ".feedback.v1"
    if topic.startswith(prefix) and topic.endswith(suffix):
        return topic[len(prefix) : -len(suffix)] or None
    return None


class FeedbackDispatcher:
    """The engine's record handler for the feedback topics: binds the partner of the source topic."""

    def __init__(
        self, *, group: str, unit_of_work: Callable[[], ReferralsUnitOfWork], policy: Policy
    ) -> None:
        self.group = group
        self._unit_of_work = unit_of_work
        self._policy = policy

    async def __call__(self, record: Record) -> None:
        partner_id = partner_of_feedback_topic(record.source_topic)
        if partner_id is None:
            raise RuntimeError(f"not a feedback topic: {record.source_topic}")
        dispatcher = EventDispatcher(
            group=self.group,
            handlers={
                events.PartnerFeedback: partial(
                    on_partner_feedback, partner_id=partner_id, policy=self._policy
                )
            },
            unit_of_work=self._unit_of_work,
        )
        await dispatcher(record)


class FeedbackConsumers:
    """Keeps one engine reading the feedback topics of the current Kafka partners."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group: str,
        unit_of_work: Callable[[], ReferralsUnitOfWork],
        policy: Policy,
        kafka_partners: Callable[[], Awaitable[Sequence[str]]],
        config: EngineConfig | None = None,
        refresh_interval_s: float = 60.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self.group = group
        self._kafka_partners = kafka_partners
        self._dispatcher = FeedbackDispatcher(group=group, unit_of_work=unit_of_work, policy=policy)
        self._config = config or EngineConfig()
        self._interval = refresh_interval_s
        self.engine: ConsumerEngine | None = None
        self.partners: frozenset[str] = frozenset()
        self.changed = asyncio.Event()
        self.refreshed = 0

    @property
    def ready(self) -> bool:
        return self.engine is None or self.engine.ready

    async def refresh(self) -> None:
        """Restart the engine when the set of Kafka partners changed."""
        wanted = frozenset(await self._kafka_partners())
        healthy = self.engine is not None and self.engine.fatal is None
        if wanted == self.partners and (healthy or not wanted):
            return
        await self.stop()
        if wanted:
            engine = ConsumerEngine(
                bootstrap_servers=self._bootstrap,
                group_id=self.group,
                topics=sorted(partner_feedback_topic(p).name for p in wanted),
                handler=self._dispatcher,
                config=self._config,
                kreis_of=kreis_of,
            )
            await engine.start()
            self.engine = engine
        self.partners = wanted
        self.refreshed += 1
        log.info("feedback consumer reads %d partner topics", len(wanted))

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.refresh()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("feedback consumer refresh failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), self._interval)
                self.changed.clear()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.engine is not None:
            with contextlib.suppress(Exception):
                await self.engine.stop()
            self.engine = None
        self.partners = frozenset()
