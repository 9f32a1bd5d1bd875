import datetime as dt
import uuid

from wegweiser.common import events
from wegweiser.common.testing.fakes import FakeUnitOfWork
from wegweiser.intake.db import ArrivalRepository
from wegweiser.intake.domain.model import Arrival, Person
from wegweiser.intake.handlers import IntakeUnitOfWork, RegisterArrival, register_arrival


class FakeArrivals(ArrivalRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Arrival] = {}

    def add(self, arrival: Arrival) -> None:
        self.rows[arrival.arrival_id] = arrival

    async def get(self, arrival_id: uuid.UUID) -> Arrival | None:
        return self.rows.get(arrival_id)

    async def by_reference(self, *, authority_id: str, reference: str) -> Arrival | None:
        return next(
            (
                a
                for a in self.rows.values()
                if (a.authority_id, a.authority_reference) == (authority_id, reference)
            ),
            None,
        )


class FakeIntakeUnitOfWork(FakeUnitOfWork, IntakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self._arrivals = FakeArrivals()

    @property
    def arrivals(self) -> ArrivalRepository:
        return self._arrivals


def command(reference: str = "R-1") -> RegisterArrival:
    return RegisterArrival(
        authority_id="uab-08111",
        authority_reference=reference,
        ags="08111000",
        allocation_date=dt.date(2026, 11, 2),
        persons=(
            Person(
                role="head", family_name="Haddad", given_names="Rania", date_of_birth="1988-03", sex="female"
            ),
            Person(role="child", family_name="Haddad", given_names="Omar", date_of_birth="2016"),
        ),
    )


async def test_registration_queues_the_personal_event_and_its_pseudonymous_twin() -> None:
    uow = FakeIntakeUnitOfWork()
    arrival, created = await register_arrival(
        command(), uow=uow, today=dt.date(2026, 11, 26), pseudonym_key="k" * 32
    )
    assert created
    registered, fact = uow.published
    assert isinstance(registered, events.ArrivalRegistered) and registered.arrival_id == arrival.arrival_id
    assert isinstance(fact, events.ArrivalRegisteredFact)
    assert fact.household_size == 2
    assert [p.age_band for p in fact.persons] == ["27-44", "6-11"]
    dumped = fact.model_dump_json()
    assert "Haddad" not in dumped and "Rania" not in dumped and "1988" not in dumped
    assert fact.persons[0].pseudonym != str(arrival.persons[0].person_id)


async def test_the_same_reference_returns_the_first_arrival_and_publishes_nothing_more() -> None:
    uow = FakeIntakeUnitOfWork()
    first, _ = await register_arrival(command(), uow=uow, today=dt.date(2026, 11, 26), pseudonym_key="k" * 32)
    again, created = await register_arrival(
        command(), uow=uow, today=dt.date(2026, 11, 26), pseudonym_key="k" * 32
    )
    assert not created and again.arrival_id == first.arrival_id
    assert len(uow.published) == 2
