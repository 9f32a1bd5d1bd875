"""Event handlers that fold pseudonymous facts into the projection; idempotent by fact id and inbox."""

from __future__ import annotations

from wegweiser.common import events
from wegweiser.common.db import UnitOfWork
from wegweiser.common.envelope import Envelope
from wegweiser.statistics.db import ArrivalFact, ConsultationFact


async def on_consultation_recorded(
    event: events.ConsultationRecorded, envelope: Envelope, uow: UnitOfWork
) -> None:
    if await uow.session.get(ConsultationFact, event.consultation_id) is None:
        uow.session.add(
            ConsultationFact(
                consultation_id=event.consultation_id,
                case_id=event.case_id,
                ags=event.ags,
                held_on=event.held_on,
                type=event.type,
                channel=event.channel,
                interpreter_used=event.interpreter_used,
            )
        )


async def on_arrival_fact(event: events.ArrivalRegisteredFact, envelope: Envelope, uow: UnitOfWork) -> None:
    if await uow.session.get(ArrivalFact, event.arrival_id) is None:
        uow.session.add(
            ArrivalFact(
                arrival_id=event.arrival_id,
                ags=event.ags,
                allocation_date=event.allocation_date,
                household_size=event.household_size,
            )
        )
