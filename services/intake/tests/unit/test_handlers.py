"""Handlers with fakes that subclass the real ports: state, events and their twins, never a database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence

import pytest

from wegweiser.common import events
from wegweiser.common.auth import Forbidden, Principal
from wegweiser.common.testing.fakes import FakeUnitOfWork
from wegweiser.intake.db import ArrivalRepository, StoredAnswer
from wegweiser.intake.domain.duplicates import DuplicateFlag, PersonKey
from wegweiser.intake.domain.model import Arrival, ArrivalConflict, ArrivalRejected, PersonData
from wegweiser.intake.handlers import (
    ArrivalNotFound,
    CorrectArrival,
    DecideDuplicate,
    IdempotentAnswer,
    IntakeUnitOfWork,
    NewArrival,
    PersonCorrection,
    RegisterArrivals,
    Registration,
    RelocateArrival,
    WithdrawArrival,
    correct_arrival,
    decide_duplicate,
    register_arrivals,
    relocate_arrival,
    withdraw_arrival,
)

TODAY = dt.date(2026, 11, 26)
KEY = "k" * 32


class FakeArrivals(ArrivalRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Arrival] = {}
        self.index: dict[uuid.UUID, PersonKey] = {}
        self.flag_rows: dict[uuid.UUID, DuplicateFlag] = {}
        self.answers: dict[tuple[str, str], StoredAnswer] = {}

    async def insert_new(self, arrivals: Sequence[Arrival]) -> set[uuid.UUID]:
        taken = {(a.authority_id, a.authority_reference) for a in self.rows.values()}
        stored = set()
        for a in arrivals:
            if (a.authority_id, a.authority_reference) not in taken:
                self.rows[a.arrival_id] = a
                stored.add(a.arrival_id)
        return stored

    async def get(self, arrival_id: uuid.UUID, *, for_update: bool = False) -> Arrival | None:
        return self.rows.get(arrival_id)

    async def by_references(self, *, authority_id: str, references: Iterable[str]) -> dict[str, Arrival]:
        refs = set(references)
        return {
            a.authority_reference: a
            for a in self.rows.values()
            if a.authority_id == authority_id and a.authority_reference in refs
        }

    async def update(self, arrival: Arrival) -> None:
        self.rows[arrival.arrival_id] = arrival

    async def authority_of(self, arrival_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        return {i: self.rows[i].authority_id for i in arrival_ids if i in self.rows}

    async def known_persons(self, keys: Iterable[tuple[str, int]]) -> list[PersonKey]:
        wanted = set(keys)
        return [k for k in self.index.values() if (k.match_key, k.birth_year) in wanted]

    async def index_persons(self, keys: Sequence[PersonKey]) -> None:
        self.index.update({k.person_id: k for k in keys})

    async def unindex_arrival(self, arrival_id: uuid.UUID) -> None:
        self.index = {i: k for i, k in self.index.items() if k.arrival_id != arrival_id}

    async def add_flags(self, flags: Sequence[DuplicateFlag]) -> set[uuid.UUID]:
        self.flag_rows.update({f.flag_id: f for f in flags})
        return {f.flag_id for f in flags}

    async def flag(self, flag_id: uuid.UUID, *, for_update: bool = False) -> DuplicateFlag | None:
        return self.flag_rows.get(flag_id)

    async def save_flag(self, flag: DuplicateFlag) -> None:
        self.flag_rows[flag.flag_id] = flag

    async def retire_flags_of(self, arrival_id: uuid.UUID) -> None:
        for f in list(self.flag_rows.values()):
            if f.status == "open" and arrival_id in (f.arrival_id, f.candidate_arrival_id):
                self.flag_rows[f.flag_id] = f.model_copy(update={"status": "obsolete"})

    def remember(
        self, *, authority_id: str, key: str, request_hash: str, status_code: int, body: bytes
    ) -> None:
        self.answers[(authority_id, key)] = StoredAnswer(request_hash, status_code, body)


class FakeIntakeUnitOfWork(FakeUnitOfWork, IntakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self._arrivals = FakeArrivals()

    @property
    def arrivals(self) -> FakeArrivals:
        return self._arrivals


def person(role: str = "head", **overrides: object) -> PersonData:
    return PersonData.model_validate(
        {
            "role": role,
            "family_name": "Haddad",
            "given_names": "Rania",
            "date_of_birth": "1988-03",
            "sex": "female",
            "nationalities": ["SY"],
            **overrides,
        }
    )


def item(reference: str = "R-1", ags: str = "08111000", *persons: PersonData) -> NewArrival:
    return NewArrival(
        authority_reference=reference,
        ags=ags,
        allocation_date=dt.date(2026, 11, 2),
        persons=persons or (person(), person("child", given_names="Omar", date_of_birth="2016", sex="male")),
    )


AUTHORITY = Principal(
    subject="sb",
    roles=frozenset({"reception_authority"}),
    authority_id="uab-08111",
    ags=frozenset({"08111000"}),
)


async def register(
    uow: FakeIntakeUnitOfWork, *items: NewArrival, authority: str = "uab-08111"
) -> list[Registration]:
    return await register_arrivals(
        RegisterArrivals(authority_id=authority, arrivals=items), uow=uow, today=TODAY, pseudonym_key=KEY
    )


async def test_registration_queues_the_personal_event_and_its_pseudonymous_twin() -> None:
    uow = FakeIntakeUnitOfWork()
    (result,) = await register(uow, item())
    assert result.outcome == "created" and result.arrival is not None
    registered, fact = uow.published
    assert (
        isinstance(registered, events.ArrivalRegistered)
        and registered.arrival_id == result.arrival.arrival_id
    )
    assert registered.persons[0].family_name_latin == "Haddad"
    assert isinstance(fact, events.ArrivalRegisteredFact)
    assert fact.household_size == 2 and [p.age_band for p in fact.persons] == ["27-44", "6-11"]
    dumped = fact.model_dump_json()
    assert "Haddad" not in dumped and "Rania" not in dumped and "1988" not in dumped
    assert fact.persons[0].pseudonym != str(result.arrival.persons[0].person_id)


async def test_a_batch_answers_each_item_and_a_known_reference_returns_the_first_arrival() -> None:
    uow = FakeIntakeUnitOfWork()
    (first,) = await register(uow, item("R-1"))
    results = await register(uow, item("R-2"), item("R-1"), item("R-3", "99999999"), item("R-2"))
    assert [r.outcome for r in results] == ["created", "existing", "rejected", "existing"]
    assert results[1].arrival == first.arrival
    assert results[3].arrival == results[0].arrival
    assert results[2].error is not None and results[2].error.field == "ags"
    registered = [
        e for e in uow.published if isinstance(e, events.ArrivalRegistered | events.ArrivalRegisteredFact)
    ]
    assert len(registered) == 4 and uow.commits == 2


async def test_a_look_alike_is_flagged_for_review_not_merged() -> None:
    uow = FakeIntakeUnitOfWork()
    (first,) = await register(uow, item("R-1", "08111000", person()))
    (second,) = await register(
        uow, item("R-9", "08115003", person(family_name="HADAD", date_of_birth="1988")), authority="uab-08115"
    )
    assert first.arrival and second.arrival and len(second.flags) == 1
    flag = second.flags[0]
    assert (flag.arrival_id, flag.candidate_arrival_id) == (
        second.arrival.arrival_id,
        first.arrival.arrival_id,
    )
    assert (flag.authority_id, flag.candidate_authority_id) == ("uab-08115", "uab-08111")
    flagged = [e for e in uow.published if isinstance(e, events.DuplicateFlagged)]
    facts = [e for e in uow.published if isinstance(e, events.DuplicateFlaggedFact)]
    assert flagged[0].key() == "08115003" and flagged[0].flag_id == flag.flag_id and len(facts) == 1
    assert uow.arrivals.rows[second.arrival.arrival_id].status == "registered"


async def test_corrections_keep_known_persons_and_publish_only_real_changes() -> None:
    uow = FakeIntakeUnitOfWork()
    (result,) = await register(uow, item())
    assert result.arrival
    head, child = result.arrival.persons
    persons = (
        PersonCorrection(data=person(), person_id=head.person_id),
        PersonCorrection(data=person("partner", given_names="Sami", date_of_birth="1985")),
    )
    corrected, fields = await correct_arrival(
        CorrectArrival(arrival_id=result.arrival.arrival_id, principal=AUTHORITY, persons=persons),
        uow=uow,
        today=TODAY,
        pseudonym_key=KEY,
    )
    assert fields == ("persons",) and corrected.persons[0].person_id == head.person_id
    assert child.person_id not in {p.person_id for p in corrected.persons}
    event, fact = uow.published[-2:]
    assert isinstance(event, events.ArrivalCorrected) and event.corrected_fields == ("persons",)
    assert isinstance(fact, events.ArrivalCorrectedFact) and fact.household_size == 2
    published = len(uow.published)
    await correct_arrival(
        CorrectArrival(arrival_id=corrected.arrival_id, principal=AUTHORITY, facility=None),
        uow=uow,
        today=TODAY,
        pseudonym_key=KEY,
    )
    assert len(uow.published) == published
    with pytest.raises(ArrivalRejected) as foreign:
        await correct_arrival(
            CorrectArrival(
                arrival_id=corrected.arrival_id,
                principal=AUTHORITY,
                persons=(PersonCorrection(data=person(), person_id=uuid.uuid4()),),
            ),
            uow=uow,
            today=TODAY,
            pseudonym_key=KEY,
        )
    assert foreign.value.field == "persons.0.person_id"


async def test_relocation_is_keyed_by_the_old_municipality_and_needs_both_in_the_token() -> None:
    uow = FakeIntakeUnitOfWork()
    (result,) = await register(uow, item())
    assert result.arrival
    move = RelocateArrival(
        arrival_id=result.arrival.arrival_id, principal=AUTHORITY, new_ags="08115003", relocated_on=TODAY
    )
    with pytest.raises(Forbidden):
        await relocate_arrival(move, uow=uow, today=TODAY)
    both = AUTHORITY.model_copy(update={"ags": frozenset({"08111000", "08115003"})})
    relocated = await relocate_arrival(
        RelocateArrival(
            arrival_id=result.arrival.arrival_id, principal=both, new_ags="08115003", relocated_on=TODAY
        ),
        uow=uow,
        today=TODAY,
    )
    event, fact = uow.published[-2:]
    assert (
        isinstance(event, events.ArrivalRelocated)
        and event.key() == "08111000"
        and event.new_ags == "08115003"
    )
    assert isinstance(fact, events.ArrivalRelocatedFact) and fact.key() == "08111000"
    assert relocated.ags == "08115003"
    stranger = AUTHORITY.model_copy(update={"authority_id": "uab-08115"})
    with pytest.raises(ArrivalNotFound):
        await withdraw_arrival(
            WithdrawArrival(arrival_id=relocated.arrival_id, principal=stranger, withdrawn_on=TODAY),
            uow=uow,
            today=TODAY,
        )


async def test_merge_retires_the_later_arrival_and_records_the_reviewer() -> None:
    uow = FakeIntakeUnitOfWork()
    (first,) = await register(uow, item("R-1", "08111000", person()))
    (second,) = await register(uow, item("R-2", "08111000", person()))
    assert first.arrival and second.arrival
    flag = second.flags[0]
    answers: list[object] = []

    def render(decision: object) -> tuple[int, bytes]:
        answers.append(decision)
        return 200, b"{}"

    decision = await decide_duplicate(
        DecideDuplicate(flag_id=flag.flag_id, principal=AUTHORITY, decision="merged", note="gleich"),
        uow=uow,
        today=TODAY,
        answer=IdempotentAnswer(
            authority_id="uab-08111",
            key="k1",
            request_hash="h",
            render=render,
        ),
    )
    assert decision.flag.status == "merged" and decision.flag.decided_by == "sb" and decision.flag.decided_at
    assert decision.merged and decision.merged.merged_into == first.arrival.arrival_id
    withdrawn, fact = uow.published[-2:]
    assert isinstance(withdrawn, events.ArrivalWithdrawn) and withdrawn.reason == "merged"
    assert isinstance(fact, events.ArrivalWithdrawnFact) and fact.merged_into == first.arrival.arrival_id
    assert uow.arrivals.answers[("uab-08111", "k1")].status_code == 200 and answers == [decision]
    with pytest.raises(ArrivalConflict):
        await decide_duplicate(
            DecideDuplicate(flag_id=flag.flag_id, principal=AUTHORITY, decision="dismissed"),
            uow=uow,
            today=TODAY,
        )
    assert all(k.arrival_id != second.arrival.arrival_id for k in uow.arrivals.index.values())
