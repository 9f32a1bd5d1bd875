"""Intake's Kafka wiring: one consumer group, on casework's case events, for erasure only.

Intake produces the arrivals; the one thing it must hear back is that casework erased a case, so that
the arrival's persons go at the same time instead of at the end of intake's own retention period.
"""

from __future__ import annotations

from typing import cast

from wegweiser.common import events, topics
from wegweiser.common.dispatch import EventHandler
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.intake.handlers import erase_arrival_of_case
from wegweiser.intake.settings import IntakeSettings


def event_handlers() -> dict[type[events.Event], EventHandler]:
    """The one registry; the dispatcher hands handlers the ``IntakeUnitOfWork`` that ``app.py`` gives
    the runtime, though ``EventHandler`` can only promise the ``UnitOfWork`` base."""
    return {events.CaseErased: cast(EventHandler, erase_arrival_of_case)}


def consumer_specs(settings: IntakeSettings) -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            group=settings.consumer_group("intake-erasures"),
            topics=[topics.CASES],
            config=settings.engine,
            handlers=event_handlers(),
        )
    ]
