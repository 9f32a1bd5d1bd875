"""Intake's retention purge on PostgreSQL: persons, index and flags go; reference, AGS and dates stay."""

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import create_engine, utcnow
from wegweiser.common.migrations import upgrade_database
from wegweiser.common.retention import RetentionPeriod
from wegweiser.intake.db import (
    ArrivalRow,
    DuplicateFlagRow,
    IdempotencyRow,
    ImportRow,
    PersonIndexRow,
)
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.domain.model import PersonData
from wegweiser.intake.handlers import IntakeUnitOfWork, NewArrival, RegisterArrivals, register_arrivals
from wegweiser.intake.migrations import MIGRATIONS
from wegweiser.intake.retention import due_arrivals, purge

pytestmark = pytest.mark.integration

TODAY = dt.date(2026, 11, 26)
PERIOD = RetentionPeriod(months=24)
UoW = Callable[[], IntakeUnitOfWork]
RANIA = PersonData(
    role="head", family_name="Haddad", given_names="Rania", date_of_birth="1988-03-14", nationalities=("SY",)
)


@pytest.fixture
async def unit_of_work(database_url: str) -> AsyncIterator[UoW]:
    engine = create_engine(database_url)
    await upgrade_database(engine, MIGRATIONS)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield lambda: IntakeUnitOfWork(sessions)
    await engine.dispose()


async def register(uow: UoW, authority: str, reference: str, allocated: dt.date) -> uuid.UUID:
    item = NewArrival(
        authority_reference=reference, ags="08111000", allocation_date=allocated, persons=(RANIA,)
    )
    (done,) = await register_arrivals(
        RegisterArrivals(authority, (item,)), uow=uow(), today=TODAY, pseudonym_key="k" * 32
    )
    assert done.arrival is not None, done.error
    return done.arrival.arrival_id


async def count(uow: UoW, table: type, *where: ColumnElement[bool]) -> int:
    async with uow() as u:
        return int(
            (await u.session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def test_purge_erases_persons_of_arrivals_allocated_before_the_period(unit_of_work: UoW) -> None:
    old = await register(unit_of_work, "uab-08111", "UAB-2024-0001", dt.date(2024, 11, 25))
    # the same person again from another authority: a duplicate flag between the two
    old_duplicate = await register(unit_of_work, "uab-08115", "UAB-2024-0777", dt.date(2024, 6, 1))
    recent = await register(unit_of_work, "uab-08111", "UAB-2024-0002", dt.date(2024, 11, 26))
    assert await count(unit_of_work, DuplicateFlagRow) >= 1
    async with unit_of_work() as u:
        u.arrivals.remember(
            authority_id="uab-08111", key="k1", request_hash="h", status_code=201, body=b"Haddad"
        )
        await u.commit()
        await u.session.execute(
            update(IdempotencyRow).values(created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        )
        await u.commit()
    async with unit_of_work() as u:
        for at, name in (
            (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "haddad-2024.csv"),
            (utcnow(), "today.csv"),
        ):
            job = ImportJob(
                import_id=uuid.uuid4(),
                authority_id="uab-08111",
                uploaded_by="uab",
                filename=name,
                media_type="text/csv",
                status="completed",
                rows_total=1,
                households_total=1,
                created_at=at,
                updated_at=at,
            )
            u.imports.add(job, payload=None)
        await u.commit()
    assert set(await due_arrivals(unit_of_work, period=PERIOD, today=TODAY)) == {old, old_duplicate}

    report = await purge(
        unit_of_work, period=PERIOD, today=TODAY, idempotency_before=dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    )

    assert set(report.erased) == {old, old_duplicate}
    assert report.records["persons"] == 2
    assert report.records["idempotency_answers"] == 1
    assert report.records["imports"] == 1
    async with unit_of_work() as u:
        rows = {
            r.arrival_id: (r.status, r.persons, r.authority_reference, r.ags, r.allocation_date)
            for r in (await u.session.execute(select(ArrivalRow))).scalars()
        }
    assert rows[old] == ("erased", "[]", "UAB-2024-0001", "08111000", dt.date(2024, 11, 25))
    assert rows[old_duplicate][:2] == ("erased", "[]")
    assert rows[recent][0] == "registered" and "Haddad" in rows[recent][1]
    for erased in (old, old_duplicate):
        assert await count(unit_of_work, PersonIndexRow, col(PersonIndexRow.arrival_id) == erased) == 0
    assert await count(unit_of_work, PersonIndexRow, col(PersonIndexRow.arrival_id) == recent) == 1
    assert (
        await count(
            unit_of_work,
            DuplicateFlagRow,
            col(DuplicateFlagRow.arrival_id).in_([old, old_duplicate])
            | col(DuplicateFlagRow.candidate_arrival_id).in_([old, old_duplicate]),
        )
        == 0
    )
    assert await count(unit_of_work, IdempotencyRow) == 0
    assert await count(unit_of_work, ImportRow) == 1  # the recent upload stays

    again = await purge(unit_of_work, period=PERIOD, today=TODAY)
    assert again.counts() == {"arrivals": 0, "imports": 0}
    # the authority resends the erased arrival: recognised by its reference, not registered again
    assert await register(unit_of_work, "uab-08111", "UAB-2024-0001", dt.date(2024, 11, 25)) == old
    assert await count(unit_of_work, ArrivalRow) == 3
