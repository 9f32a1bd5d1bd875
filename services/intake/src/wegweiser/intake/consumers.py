"""Intake's Kafka wiring: one consumer group, on casework's case events, for erasure only.

Intake produces the arrivals; the one thing it must hear back is that casework erased a case, so that
the arrival's persons go at the same time instead of at the end of intake's own retention period.
"""

from __future__ import annotations

from wegweiser.common import events, topics
from wegweiser.common.dispatch import EventHandler, as_event_handler
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.intake.handlers import erase_arrival_of_case
from wegweiser.intake.settings import IntakeSettings


def event_handlers() -> dict[type[events.Event], EventHandler]:
    """The one registry of event type → handler."""
    return {events.CaseErased: as_event_handler(erase_arrival_of_case)}


def consumer_specs(settings: IntakeSettings) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            group=settings.consumer_group("intake-erasures"),
            topics=[topics.CASES],
            config=settings.engine,
            handlers=event_handlers(),
        )
    ]
