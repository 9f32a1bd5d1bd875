"""Projection generations on a temporary SQLite file: one serves at a time, retired ones are dropped."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from wegweiser.common.db import create_engine
from wegweiser.common.migrations import upgrade_database
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.projection.tables import NAMES, table_name


@pytest.fixture
async def generations(tmp_path: Path) -> AsyncIterator[Generations]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'statistics.db'}")
    await upgrade_database(engine, MIGRATIONS)
    yield Generations(engine, async_sessionmaker(engine, expire_on_commit=False))
    await engine.dispose()


async def tables_of(generations: Generations) -> set[str]:
    async with generations.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_a_new_generation_builds_in_tables_of_its_own(generations: Generations) -> None:
    first = await generations.create(live_offsets={"t:0": 5})
    second = await generations.create(live_offsets={})
    assert (first.id, second.id) == (1, 2) and first.state == "building"
    assert first.live_offsets == {"t:0": 5}
    assert {table_name(2, n) for n in NAMES} <= await tables_of(generations)
    building = await generations.building()
    assert building is not None and building.id == 1  # the oldest one building
    assert await generations.active() is None
    assert await generations.applied_count(1) == 0


async def test_switching_serves_one_generation_and_retires_the_previous(generations: Generations) -> None:
    for _ in range(2):
        await generations.create(live_offsets={})
    await generations.switch(1)
    await generations.switch(2)
    states = {g.id: g.state for g in await generations.all()}
    assert states == {1: "retired", 2: "active"}
    active = await generations.active()
    assert active is not None and active.id == 2 and active.switched_at is not None


async def test_only_generations_retired_a_while_ago_lose_their_tables(generations: Generations) -> None:
    for _ in range(3):
        await generations.create(live_offsets={})
    await generations.switch(1)
    await generations.switch(2)  # 1 retires now
    assert await generations.drop_retired(older_than=dt.timedelta(hours=1)) == []
    assert await generations.drop_retired(older_than=dt.timedelta(0)) == [1]
    remaining = await tables_of(generations)
    assert not any(name.startswith("stat_g1_") for name in remaining)
    assert table_name(2, "published") in remaining and table_name(3, "published") in remaining
    dropped = await generations.get(1)
    assert dropped is not None and dropped.state == "dropped"


async def test_tables_of_an_older_release_get_the_columns_added_since(generations: Generations) -> None:
    for _ in range(2):
        await generations.create(live_offsets={})
    async with generations.engine.begin() as conn:
        for g in (1, 2):  # as created before published cells had a reason
            await conn.execute(text(f"ALTER TABLE {table_name(g, 'published')} DROP COLUMN reason"))
    await generations.update(1, state="dropped")  # its tables are gone as far as the service knows
    assert await generations.add_missing_columns() == [f"{table_name(2, 'published')}.reason"]
    assert await generations.add_missing_columns() == []  # once only
    async with generations.engine.connect() as conn:
        columns = await conn.run_sync(lambda sync: inspect(sync).get_columns(table_name(2, "published")))
    reason = next(c for c in columns if c["name"] == "reason")
    assert reason["nullable"]
