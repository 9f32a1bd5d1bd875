"""Casework's handlers: plain functions taking a command or event and their unit of work."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from wegweiser.casework.db import CaseRepository
from wegweiser.casework.domain.model import Case, CasePerson, Consultation, default_provider
from wegweiser.common import events
from wegweiser.common.auth import Principal
from wegweiser.common.db import UnitOfWork
from wegweiser.common.envelope import Envelope
from wegweiser.common.pseudonyms import pseudonym
from wegweiser.common.regions import kreis_of


class CaseworkUnitOfWork(UnitOfWork):
    @property
    def cases(self) -> CaseRepository:
        return CaseRepository(self.session)


class CaseNotFound(LookupError):
    """Unknown, or belongs to another provider or AGS: both answer 404 so existence does not leak."""


def may_access(principal: Principal, case: Case) -> bool:
    """Scope is provider AND municipality, never municipality alone (ARCHITECTURE §6)."""
    if "admin" in principal.roles:
        return True
    return principal.provider_id == case.provider_id and case.ags in principal.ags


async def open_case_for_arrival(
    event: events.ArrivalRegistered, envelope: Envelope, uow: CaseworkUnitOfWork, *, pseudonym_key: str
) -> None:
    """One case per household, given to the provider responsible for the target municipality."""
    if await uow.cases.by_arrival(event.arrival_id) is not None:
        return
    provider = await uow.cases.provider_for(event.ags) or default_provider(kreis_of(event.ags))
    case = Case(
        case_id=uuid.uuid4(),
        ags=event.ags,
        provider_id=provider,
        arrival_id=event.arrival_id,
        opened_on=event.allocation_date,
        persons=tuple(
            CasePerson(
                person_id=p.person_id,
                role=p.role,
                family_name=p.family_name,
                given_names=p.given_names,
                date_of_birth=p.date_of_birth,
            )
            for p in event.persons
        ),
    )
    uow.cases.add(case)
    uow.publish(
        events.CaseOpened(
            ags=case.ags,
            case_id=case.case_id,
            provider_id=case.provider_id,
            arrival_id=case.arrival_id,
            allocation_date=event.allocation_date,
            opened_on=case.opened_on,
            household_size=len(case.persons),
            person_pseudonyms=tuple(pseudonym(p.person_id, pseudonym_key) for p in case.persons),
        )
    )


@dataclass(frozen=True, slots=True)
class RecordConsultation:
    case_id: uuid.UUID
    consultation: Consultation
    principal: Principal


async def record_consultation(
    cmd: RecordConsultation, *, uow: CaseworkUnitOfWork, today: dt.date
) -> Consultation:
    async with uow:
        case = await uow.cases.get(cmd.case_id)
        if case is None or not may_access(cmd.principal, case):
            raise CaseNotFound(str(cmd.case_id))
        case.check_can_record(cmd.consultation, today=today)
        uow.cases.add_consultation(case.case_id, cmd.consultation, recorded_by=cmd.principal.subject)
        c = cmd.consultation
        uow.publish(
            events.ConsultationRecorded(
                ags=case.ags,
                case_id=case.case_id,
                consultation_id=c.consultation_id,
                held_on=c.held_on,
                duration_minutes=c.duration_minutes,
                type=c.type,
                channel=c.channel,
                interpreter_used=c.interpreter_used,
                interpreter_language=c.interpreter_language,
                handlungsfelder=c.handlungsfelder,
                persons_present=c.persons_present,
            )
        )
        await uow.commit()
    return cmd.consultation
