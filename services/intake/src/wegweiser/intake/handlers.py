"""Intake's command handlers: plain functions taking a command and their unit of work."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from wegweiser.common import events
from wegweiser.common.db import UnitOfWork
from wegweiser.common.pseudonyms import pseudonym
from wegweiser.common.regions import catalogue
from wegweiser.intake.db import ArrivalRepository
from wegweiser.intake.domain.model import Arrival, Person, check_arrival


class IntakeUnitOfWork(UnitOfWork):
    @property
    def arrivals(self) -> ArrivalRepository:
        return ArrivalRepository(self.session)


@dataclass(frozen=True, slots=True)
class RegisterArrival:
    authority_id: str
    authority_reference: str
    ags: str
    allocation_date: dt.date
    persons: tuple[Person, ...]


async def register_arrival(
    cmd: RegisterArrival, *, uow: IntakeUnitOfWork, today: dt.date, pseudonym_key: str
) -> tuple[Arrival, bool]:
    """Store the arrival and queue its events; the same (authority, reference) returns the first result."""
    async with uow:
        existing = await uow.arrivals.by_reference(
            authority_id=cmd.authority_id, reference=cmd.authority_reference
        )
        if existing is not None:
            return existing, False
        arrival = Arrival(
            arrival_id=uuid.uuid4(),
            authority_id=cmd.authority_id,
            authority_reference=cmd.authority_reference,
            ags=cmd.ags,
            allocation_date=cmd.allocation_date,
            persons=cmd.persons,
        )
        check_arrival(arrival, today=today, is_allocation_target=catalogue().is_allocation_target(cmd.ags))
        uow.arrivals.add(arrival)
        uow.publish(registered_event(arrival))
        uow.publish(registered_fact(arrival, pseudonym_key=pseudonym_key))
        try:
            await uow.commit()
        except IntegrityError:
            pass  # the same reference committed concurrently: answer with that one
        else:
            return arrival, True
    async with uow:
        winner = await uow.arrivals.by_reference(
            authority_id=cmd.authority_id, reference=cmd.authority_reference
        )
        if winner is None:
            raise RuntimeError("arrival vanished after a unique-key conflict")
        return winner, False


def registered_event(arrival: Arrival) -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags=arrival.ags,
        arrival_id=arrival.arrival_id,
        authority_id=arrival.authority_id,
        authority_reference=arrival.authority_reference,
        allocation_date=arrival.allocation_date,
        persons=tuple(events.ArrivedPerson(**p.model_dump()) for p in arrival.persons),
    )


def registered_fact(arrival: Arrival, *, pseudonym_key: str) -> events.ArrivalRegisteredFact:
    """The pseudonymous twin for statistics: no names, no dates of birth, only bands and codes."""
    return events.ArrivalRegisteredFact(
        ags=arrival.ags,
        arrival_id=arrival.arrival_id,
        allocation_date=arrival.allocation_date,
        household_size=len(arrival.persons),
        persons=tuple(
            events.PersonFact(
                pseudonym=pseudonym(p.person_id, pseudonym_key),
                role=p.role,
                age_band=p.age_band(arrival.allocation_date),
                sex=p.sex,
                nationalities=p.nationalities,
                residence_status=p.residence_status,
            )
            for p in arrival.persons
        ),
    )
