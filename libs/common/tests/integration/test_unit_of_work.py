"""The unit of work per record: the inbox claimed in one statement, a key copy kept without a transaction."""

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from wegweiser.common.db import COMMON_METADATA, UnitOfWork, create_engine
from wegweiser.common.personal_data import KeyCopy, PersonKeyColumns

pytestmark = pytest.mark.integration


class KeysTable(SQLModel, registry=registry()):
    pass


class KeyRow(KeysTable, PersonKeyColumns, table=True):
    __tablename__ = "person_keys"


class KeysUnitOfWork(UnitOfWork):
    person_key_table = KeyRow


async def test_an_event_is_claimed_once_per_consumer(sessions: async_sessionmaker[AsyncSession]) -> None:
    event_id = str(uuid.uuid4())
    async with UnitOfWork(sessions) as uow:
        assert await uow.claim_event(consumer="casework-arrivals", event_id=event_id)
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert not await uow.claim_event(consumer="casework-arrivals", event_id=event_id)  # a redelivery
        assert await uow.claim_event(consumer="statistics", event_id=event_id)  # another group's own
    async with UnitOfWork(sessions) as uow:  # the last one was not committed: not claimed
        assert await uow.claim_event(consumer="statistics", event_id=event_id)


@pytest.mark.parametrize("first_commits", [True, False])
async def test_a_concurrent_delivery_waits_for_the_first_and_takes_its_outcome(
    database_url: str, first_commits: bool
) -> None:
    """Two replicas with the same record (a rebalance), on PostgreSQL (SQLite has one writer at a time):
    the second's claim waits for the first's transaction, then finds the record done, or claims it if
    the first rolled back."""
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(COMMON_METADATA.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    event_id = str(uuid.uuid4())
    async with UnitOfWork(sessions) as first, UnitOfWork(sessions) as second:
        assert await first.claim_event(consumer="g", event_id=event_id)
        waiting = asyncio.ensure_future(second.claim_event(consumer="g", event_id=event_id))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await (first.commit() if first_commits else first.rollback())
        assert await asyncio.wait_for(waiting, 10) is not first_commits
    await engine.dispose()


async def test_a_key_copy_kept_alone_is_committed_by_itself_and_in_a_transaction_with_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await (await session.connection()).run_sync(KeyRow.metadata.create_all)
        await session.commit()
    key = bytes(32)
    async with KeysUnitOfWork(sessions) as uow:  # as the key-copy groups: no commit needed
        await uow.person_keys.keep_issued([KeyCopy("k-alone", "intake", "arrivals/a/1", key)])
    async with KeysUnitOfWork(sessions) as uow:  # after another statement: part of the transaction
        assert await uow.claim_event(consumer="g", event_id="e")
        await uow.person_keys.keep_issued([KeyCopy("k-within", "intake", "arrivals/a/2", key)])
        await uow.rollback()
    async with sessions() as session:
        kept = (await session.scalars(select(KeyRow.kid))).all()  # type: ignore[call-overload]
    assert kept == ["k-alone"]
