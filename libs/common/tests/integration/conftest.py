"""The bare common tables (outbox, inbox) on PostgreSQL and on SQLite, for the unit of work's tests."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wegweiser.common.db import COMMON_METADATA, create_engine
from wegweiser.common.testing import infra


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The bare common tables on a fresh PostgreSQL database (COPY) and on SQLite (multi-row INSERT)."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "postgresql":
            url = await stack.enter_async_context(
                infra.fresh_database(request.getfixturevalue("postgres_url"))
            )
        else:
            url = f"sqlite+aiosqlite:///{tmp_path}/outbox.db"
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(COMMON_METADATA.create_all)
        yield async_sessionmaker(engine, expire_on_commit=False)
        await engine.dispose()
