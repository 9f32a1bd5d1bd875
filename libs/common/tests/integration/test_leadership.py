"""Leadership by advisory lock on real PostgreSQL: one holder per key, a standby takes over on release."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from wegweiser.common.db import create_engine
from wegweiser.common.leadership import exclusive, lock_key

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
