import datetime as dt
import uuid

import pytest

from wegweiser.casework.db import CaseRepository
from wegweiser.casework.domain.model import Case, CaseRefused, Consultation
from wegweiser.casework.handlers import (
    CaseNotFound,
    CaseworkUnitOfWork,
    RecordConsultation,
    open_case_for_arrival,
    record_consultation,
)
from wegweiser.common import events
from wegweiser.common.auth import Principal
from wegweiser.common.envelope import Envelope
from wegweiser.common.testing.fakes import FakeUnitOfWork

TODAY = dt.date(2026, 11, 26)


class FakeCases(CaseRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Case] = {}
        self.recorded: list[tuple[uuid.UUID, Consultation]] = []
        self.rules: dict[str, str] = {}

    def add(self, case: Case) -> None:
        self.rows[case.case_id] = case

    async def get(self, case_id: uuid.UUID) -> Case | None:
        return self.rows.get(case_id)

    async def by_arrival(self, arrival_id: uuid.UUID) -> Case | None:
        return next((c for c in self.rows.values() if c.arrival_id == arrival_id), None)

    def add_consultation(self, case_id: uuid.UUID, consultation: Consultation, *, recorded_by: str) -> None:
        self.recorded.append((case_id, consultation))

    async def provider_for(self, ags: str) -> str | None:
        return self.rules.get(ags)


class FakeCaseworkUnitOfWork(FakeUnitOfWork, CaseworkUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self._cases = FakeCases()

    @property
    def cases(self) -> CaseRepository:
        return self._cases


def arrival(ags: str = "08111000") -> events.ArrivalRegistered:
    return events.ArrivalRegistered(
        ags=ags,
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="R-1",
        allocation_date=dt.date(2026, 11, 2),
        persons=(
            events.ArrivedPerson(person_id=uuid.uuid4(), role="head", family_name="H", given_names="R"),
        ),
    )


ENVELOPE = Envelope(
    id="e1", source="/wegweiser/intake", type="t", subject="s", time=dt.datetime.now(dt.UTC), headers={}
)
COUNSELLOR = Principal(
    subject="c1", roles=frozenset({"counsellor"}), provider_id="kreis-08111", ags=frozenset({"08111000"})
)


async def open_case(uow: FakeCaseworkUnitOfWork, event: events.ArrivalRegistered) -> None:
    async with uow:
        await open_case_for_arrival(event, ENVELOPE, uow, pseudonym_key="k" * 32)
        await uow.commit()


async def test_an_arrival_opens_one_case_for_the_responsible_provider() -> None:
    uow = FakeCaseworkUnitOfWork()
    uow._cases.rules["08115003"] = "caritas-bb"
    event = arrival()
    await open_case(uow, event)
    await open_case(uow, event)  # the same arrival again: still one case
    await open_case(uow, arrival("08115003"))
    providers = sorted(c.provider_id for c in uow._cases.rows.values())
    assert providers == ["caritas-bb", "kreis-08111"]
    opened = [e for e in uow.published if isinstance(e, events.CaseOpened)]
    assert len(opened) == 2
    assert "H" not in opened[0].model_dump_json().replace("household", "")


async def test_consultations_are_refused_for_foreign_or_closed_cases() -> None:
    uow = FakeCaseworkUnitOfWork()
    await open_case(uow, arrival())
    case = next(iter(uow._cases.rows.values()))
    consultation = Consultation(held_on=TODAY, duration_minutes=30, type="erstgespraech", channel="telefon")

    await record_consultation(
        RecordConsultation(case.case_id, consultation, COUNSELLOR), uow=uow, today=TODAY
    )
    assert isinstance(uow.published[-1], events.ConsultationRecorded)
    assert "note" not in uow.published[-1].model_dump()

    other_provider = COUNSELLOR.model_copy(update={"provider_id": "diakonie-s"})
    other_ags = COUNSELLOR.model_copy(update={"ags": frozenset({"08115003"})})
    for outsider in (other_provider, other_ags):
        with pytest.raises(CaseNotFound):
            await record_consultation(
                RecordConsultation(case.case_id, consultation, outsider), uow=uow, today=TODAY
            )

    uow._cases.rows[case.case_id] = case.model_copy(update={"status": "closed"})
    with pytest.raises(CaseRefused):
        await record_consultation(
            RecordConsultation(case.case_id, consultation, COUNSELLOR), uow=uow, today=TODAY
        )
