"""Leadership by advisory lock on real PostgreSQL: one holder per key, a standby takes over on release."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from wegweiser.common.db import create_engine
from wegweiser.common.leadership import exclusive, lead, lock_key

pytestmark = pytest.mark.integration


async def test_one_holder_per_key_and_a_waiting_standby_takes_over(database_url: str) -> None:
    engine = create_engine(database_url)
    key = lock_key("test-leadership")
    try:
        async with exclusive(engine, key) as first:
            assert first
            async with exclusive(engine, key, wait=False) as second:
                assert not second  # held elsewhere: no waiting
            async with exclusive(engine, key + 1, wait=False) as other:
                assert other  # another key is another lock
            standby = asyncio.create_task(_hold(engine, key))
            await asyncio.sleep(0.3)
            assert not standby.done()  # waits while the leader holds it
        assert await asyncio.wait_for(standby, 5)
    finally:
        await engine.dispose()


async def _hold(engine: AsyncEngine, key: int) -> bool:
    async with exclusive(engine, key) as got:
        return got


DROP_SESSIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


async def test_leaders_and_standbys_take_the_lock_again_after_the_database_dropped_their_sessions(
    database_url: str,
) -> None:
    """As in a PostgreSQL restart: the leader's and the waiting standby's sessions are gone at once."""
    engine = create_engine(database_url)
    key = lock_key("test-lead")
    running: list[str] = []
    started = asyncio.Event()

    def worker(name: str):  # type: ignore[no-untyped-def]
        async def work() -> None:
            running.append(name)
            started.set()
            await asyncio.Event().wait()  # a loop that runs until cancelled

        return work

    leaders = [
        asyncio.create_task(lead(engine, key, worker(name), name=name, check_every_s=0.2)) for name in "ab"
    ]
    try:
        await asyncio.wait_for(started.wait(), 10)
        assert len(running) == 1  # one leader, one standby
        started.clear()
        async with engine.connect() as conn:
            assert len((await conn.execute(DROP_SESSIONS)).all()) >= 2  # holder and standby among them
        await asyncio.wait_for(started.wait(), 10)
        assert len(running) == 2  # someone leads again ...
        await asyncio.sleep(1.0)
        assert len(running) == 2  # ... and only one: the other waits again
        assert not any(task.done() for task in leaders)
    finally:
        for task in leaders:
            task.cancel()
        await asyncio.gather(*leaders, return_exceptions=True)
        await engine.dispose()


async def test_a_standby_keeps_no_snapshot_so_dead_rows_can_be_cleaned_up_while_it_waits(
    database_url: str,
) -> None:
    """A standby blocked in ``pg_advisory_lock`` held the database's oldest snapshot for as long as the
    leader led: vacuum removed no dead row of any table (casework's outbox and index scans grew slower
    through the whole system day)."""
    engine = create_engine(database_url)
    key = lock_key("test-lead-snapshot")
    started = asyncio.Event()

    async def work() -> None:
        started.set()
        await asyncio.Event().wait()

    leaders = [asyncio.create_task(lead(engine, key, work, name=name, check_every_s=0.2)) for name in "ab"]
    try:
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(1.0)  # the standby is waiting for the lock by now
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE churn (n int)"))
            await conn.execute(text("INSERT INTO churn SELECT generate_series(1, 100)"))
            await conn.execute(text("DELETE FROM churn"))
            await conn.commit()
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM churn"))
        async with engine.connect() as conn:
            dead = await conn.scalar(
                text("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'churn'")
            )
        assert dead == 0  # with a snapshot held back: 100 dead but not yet removable
    finally:
        for task in leaders:
            task.cancel()
        await asyncio.gather(*leaders, return_exceptions=True)
        await engine.dispose()


async def test_sqlite_has_a_single_process_that_always_leads(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/lead.db")
    try:
        async with exclusive(engine, 1) as first, exclusive(engine, 1, wait=False) as second:
            assert first and second
    finally:
        await engine.dispose()


def test_lock_keys_are_stable_signed_64_bit_numbers() -> None:
    assert lock_key("alembic_version_casework") == lock_key("alembic_version_casework")
    assert lock_key("a") != lock_key("b")
    assert -(2**63) <= lock_key("alembic_version_casework") < 2**63
