"""Casework's Kafka wiring: which consumer group reads which topic, and the one registry of event → handler.

Four groups, one per source topic, so a backlog on one (a replay of the arrivals) never holds up the
others: intake's arrivals, referrals' status events, referrals' programme and partner catalogue, and
intake's person keys (the copies that open an arrival's sealed persons).

``CASEWORK_FAULT_FAIL_AGS`` (tests and the system-day benchmark only; production refuses to start with
it) makes every ``arrival.registered`` of the AGS it names fail, so that the isolation engine's retry,
dead-letter and ``wegweiser dlq`` replay can be shown on one municipality while the others carry on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from wegweiser.casework import handlers
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import events, localtime, topics
from wegweiser.common.dispatch import EventHandler, as_event_handler
from wegweiser.common.engine import EngineConfig
from wegweiser.common.envelope import Envelope
from wegweiser.common.key_copies import key_copy_consumer, key_copy_handlers
from wegweiser.common.runtime import ConsumerSpec

# The catalogue is tiny and compacted; one event at a time keeps "latest wins" simple to reason about.
CATALOGUE_ENGINE = EngineConfig(max_in_flight_per_partition=1, max_in_flight_per_ags=1)


class InjectedFault(RuntimeError):
    """A failure casework raises on purpose for an AGS named in ``CASEWORK_FAULT_FAIL_AGS``."""


def failing_for(ags: frozenset[str], handler: EventHandler) -> EventHandler:
    """``handler``, but raising ``InjectedFault`` for an event of one of ``ags``, before it does anything."""

    async def fail_or_handle(
        event: events.MunicipalEvent, envelope: Envelope, uow: CaseworkUnitOfWork
    ) -> None:
        if event.ags in ags:
            raise InjectedFault(
                f"CASEWORK_FAULT_FAIL_AGS names {event.ags}: {envelope.type} failed on purpose "
                "(fault injection for tests; unset it and replay with `wegweiser dlq`)"
            )
        await handler(event, envelope, uow)

    return as_event_handler(fail_or_handle)


async def _transfer_case_for_relocation(
    event: events.ArrivalRelocated, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    await handlers.transfer_case_for_relocation(event, envelope, uow, today=localtime.today())


def event_handlers(settings: CaseworkSettings) -> dict[type[events.Event], EventHandler]:
    """The one registry: every event type casework consumes and the handler that applies it."""
    registry: dict[type[events.Event], Callable[..., Awaitable[None]]] = {
        events.ArrivalRegistered: partial(
            handlers.open_case_for_arrival, pseudonym_key=settings.pseudonym_key
        ),
        events.ArrivalCorrected: handlers.correct_case_for_arrival,
        events.ArrivalRelocated: _transfer_case_for_relocation,
        events.ArrivalWithdrawn: handlers.close_case_for_withdrawal,
        **dict.fromkeys(handlers.REFERRAL_STATUS_EVENTS, handlers.apply_referral_status),
        events.ProgrammePublished: handlers.programme_published,
        events.PartnerPublished: handlers.partner_published,
        events.PartnerRemoved: handlers.partner_removed,
        **key_copy_handlers("intake"),
    }
    wired = {event_type: as_event_handler(handler) for event_type, handler in registry.items()}
    if settings.fault_fail_ags:
        arrivals = wired[events.ArrivalRegistered]
        wired[events.ArrivalRegistered] = failing_for(settings.fault_fail_ags, arrivals)
    return wired


def _handlers_for(
    registry: Mapping[type[events.Event], EventHandler], topic: topics.TopicSpec
) -> dict[type[events.Event], EventHandler]:
    """The registry's entries for the events that travel on ``topic``."""
    return {event_type: h for event_type, h in registry.items() if event_type.topic == topic}


def consumer_specs(settings: CaseworkSettings) -> list[ConsumerSpec]:
    registry = event_handlers(settings)
    return [
        ConsumerSpec(
            group=settings.consumer_group("casework"),
            topics=[topics.ARRIVALS],
            config=settings.engine,
            handlers=_handlers_for(registry, topics.ARRIVALS),
        ),
        ConsumerSpec(
            group=settings.consumer_group("casework-referral-status"),
            topics=[topics.REFERRAL_STATUS],
            config=settings.engine,
            handlers=_handlers_for(registry, topics.REFERRAL_STATUS),
        ),
        ConsumerSpec(
            group=settings.consumer_group("casework-catalogue"),
            topics=[topics.REFERRAL_CATALOGUE],
            config=CATALOGUE_ENGINE,
            handlers=_handlers_for(registry, topics.REFERRAL_CATALOGUE),
        ),
        # intake's data keys, to open the sealed persons of an arrival (wegweiser.common.personal_data)
        key_copy_consumer(settings.consumer_group("casework-person-keys"), "intake", settings.engine),
    ]


def consumer_groups(settings: CaseworkSettings) -> list[str]:
    """The consumer groups casework runs: whose dead-letter topics its admin desk lists and retries."""
    return [spec.group for spec in consumer_specs(settings)]
