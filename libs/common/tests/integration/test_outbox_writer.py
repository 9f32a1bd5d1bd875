"""The one outbox writer: row by row or in bulk (COPY on PostgreSQL), the same records either way."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.db import OutboxRecord, UnitOfWork

pytestmark = pytest.mark.integration


class BulkUnitOfWork(UnitOfWork):
    bulk_outbox = True


def fact(n: int) -> events.ConsultationRecorded:
    return events.ConsultationRecorded(
        ags="08111000",
        case_id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        held_on="2026-11-02",
        duration_minutes=n + 1,
        type="folgeberatung",
        channel="telefon",
    )


async def _rows(sessions: async_sessionmaker) -> list[OutboxRecord]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxRecord).order_by(col(OutboxRecord.id)))).all())


@pytest.mark.parametrize("unit_of_work", [UnitOfWork, BulkUnitOfWork])
async def test_both_modes_write_the_same_records_in_order(
    sessions: async_sessionmaker[AsyncSession],
    unit_of_work: type[UnitOfWork],
) -> None:
    published = [fact(n) for n in range(5)]
    async with unit_of_work(sessions) as uow:
        ids = [uow.publish(e) for e in published]
        await uow.commit()
    rows = await _rows(sessions)
    assert [r.event_id for r in rows] == ids
    for row, event in zip(rows, published, strict=True):
        headers = dict(row.headers)
        assert (row.topic, row.key, row.value) == (
            event.topic.name,
            event.key(),
            event.model_dump_json().encode(),
        )
        assert headers["ce_id"] == row.event_id and headers["ce_type"] == event.ce_type()
        assert row.published_at is None and row.attempts == 0


async def test_bulk_events_share_the_moment_of_their_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with BulkUnitOfWork(sessions) as uow:
        for n in range(3):
            uow.publish(fact(n))
        await uow.commit()
    assert len({dict(r.headers)["ce_time"] for r in await _rows(sessions)}) == 1


async def test_rollback_and_abandon_write_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with BulkUnitOfWork(sessions) as uow:
        uow.publish(fact(1))
        await uow.rollback()
        kept = uow.publish(fact(2))
        await uow.commit()
    async with BulkUnitOfWork(sessions) as uow:  # never committed
        uow.publish(fact(3))
    async with UnitOfWork(sessions) as uow:
        uow.publish(fact(4))
    assert [r.event_id for r in await _rows(sessions)] == [kept]
