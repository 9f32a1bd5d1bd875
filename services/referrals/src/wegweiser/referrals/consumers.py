"""Referrals' Kafka wiring: the one registry of event type → handler, the consumer groups, the relay's
send, and the partners' own topics.

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
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from wegweiser.common import events, topics
from wegweiser.common.broker import RelayProducer
from wegweiser.common.db import UnitOfWork
from wegweiser.common.dispatch import EventDispatcher, EventHandler, as_event_handler
from wegweiser.common.engine import ConsumerEngine, EngineConfig, Record
from wegweiser.common.envelope import Envelope
from wegweiser.common.events import Event
from wegweiser.common.events.referrals import partner_feedback_topic, partner_referrals_topic
from wegweiser.common.key_copies import key_copy_consumer, key_copy_handlers
from wegweiser.common.outbox import Send
from wegweiser.common.regions import kreis_of
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.referrals.db import KnownCase
from wegweiser.referrals.handlers import (
    TOMBSTONE_HEADER,
    Policy,
    ReferralsUnitOfWork,
    on_case_erased,
    on_consent_withdrawn,
    on_partner_feedback,
    receive_request,
)
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.wake import woken_or_timeout

log = logging.getLogger(__name__)


async def on_case_opened(event: events.CaseOpened, envelope: Envelope, uow: UnitOfWork) -> None:
    """Remember the case (its provider and AGS) for views; routing never waits for it."""
    if await uow.session.get(KnownCase, event.case_id) is None:
        uow.session.add(
            KnownCase(
                case_id=event.case_id, ags=event.ags, provider_id=event.provider_id, opened_on=event.opened_on
            )
        )


REQUESTS_AND_CASES: tuple[type[Event], ...] = (
    events.ReferralRequested,
    events.CaseOpened,
    events.ConsentWithdrawn,
    events.CaseErased,
)
"""What the service's main group handles from ``referrals.requests.v1`` and ``casework.cases.v1``."""


def event_handlers(policy: Policy) -> dict[type[Event], EventHandler]:
    """The one registry of event type → handler for every consumer of this service.

    ``PartnerFeedback``'s handler still needs ``partner_id``: the feedback consumer binds the owner of
    the topic each record came from.
    """
    return {
        events.ReferralRequested: partial(receive_request, policy=policy),
        events.CaseOpened: on_case_opened,
        events.ConsentWithdrawn: partial(on_consent_withdrawn, policy=policy),
        events.CaseErased: as_event_handler(on_case_erased),
        events.PartnerFeedback: partial(on_partner_feedback, policy=policy),
        **key_copy_handlers("casework"),
    }


def consumer_specs(settings: ReferralsSettings, policy: Policy) -> list[ConsumerSpec]:
    """The main consumer group (referral requests and the case events it needs), and the copies of
    casework's person keys that open a request's sealed person (``wegweiser.common.personal_data``)."""
    handlers = event_handlers(policy)
    config = settings.engine_config()
    return [
        ConsumerSpec(
            group=settings.consumer_group("referrals"),
            topics=[topics.REFERRAL_REQUESTS, topics.CASES],
            handlers={event_type: handlers[event_type] for event_type in REQUESTS_AND_CASES},
            config=config,
        ),
        key_copy_consumer(settings.consumer_group("referrals-person-keys"), "casework", config),
    ]


def consumer_groups(settings: ReferralsSettings) -> list[str]:
    """The consumer groups referrals runs: whose dead-letter topics its admin desk lists and retries."""
    return [
        settings.consumer_group("referrals"),
        settings.consumer_group("referrals-feedback"),
        settings.consumer_group("referrals-person-keys"),
    ]


def send_with_tombstones(producer: RelayProducer) -> Send:
    """The relay's send, except that a record marked as tombstone goes out with a null value."""

    async def wrapped(topic: str, key: str, value: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        if headers.get(TOMBSTONE_HEADER):
            return await producer.send(topic, key, None, {})
        return await producer.send(topic, key, value, headers)

    return wrapped


class PartnerTopics:
    """Each Kafka partner's two topics, created (or checked) before the partner is published."""

    def __init__(self, settings: ReferralsSettings) -> None:
        self._settings = settings

    async def ensure(self, partner_ids: Sequence[str]) -> None:
        if not self._settings.create_topics or not partner_ids:
            return
        specs = tuple(s for p in partner_ids for s in (partner_referrals_topic(p), partner_feedback_topic(p)))
        await topics.ensure_topics(
            self._settings.kafka_bootstrap_servers,
            specs,
            replication_factor=self._settings.topic_replication_factor,
        )


async def kafka_partner_ids(unit_of_work: Callable[[], ReferralsUnitOfWork]) -> list[str]:
    async with unit_of_work() as uow:
        return await uow.catalogue.kafka_partner_ids()


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
        # Still needs the partner: bound per record from the topic it came from.
        self._handler: Callable[..., Awaitable[None]] = event_handlers(policy)[events.PartnerFeedback]

    async def __call__(self, record: Record) -> None:
        partner_id = partner_of_feedback_topic(record.source_topic)
        if partner_id is None:
            raise RuntimeError(f"not a feedback topic: {record.source_topic}")
        dispatcher = EventDispatcher(
            group=self.group,
            handlers={events.PartnerFeedback: partial(self._handler, partner_id=partner_id)},
            unit_of_work=self._unit_of_work,
        )
        await dispatcher(record)


class FeedbackConsumer:
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
        instance_id: str | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._instance_id = instance_id
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
                group_instance_id=self._member_name(wanted),
            )
            await engine.start()
            self.engine = engine
        self.partners = wanted
        self.refreshed += 1
        log.info("feedback consumer reads %d partner topics", len(wanted))

    def _member_name(self, partners: frozenset[str]) -> str | None:
        """Static membership per set of topics: restarted with the same partners, the replica rejoins
        under its old name; with other partners under a new one, as a changed subscription must."""
        if self._instance_id is None:
            return None
        digest = hashlib.sha256(",".join(sorted(partners)).encode()).hexdigest()[:12]
        return f"{self._instance_id}-{digest}"

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.refresh()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("feedback consumer refresh failed; retrying")
                await woken_or_timeout(self.changed, self._interval)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.engine is not None:
            with contextlib.suppress(Exception):
                await self.engine.stop()
            self.engine = None
        self.partners = frozenset()
