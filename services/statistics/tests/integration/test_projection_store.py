"""The projection on real PostgreSQL: any order, any batching, repeated live delivery — the same tables."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from synthetic_history import History

from wegweiser.common.db import UnitOfWork, create_engine
from wegweiser.common.events import Event
from wegweiser.common.migrations import upgrade_database
from wegweiser.statistics.migrations import MIGRATIONS
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.projection.batch import Batch
from wegweiser.statistics.projection.decode import time_us
from wegweiser.statistics.projection.loader import load_facts
from wegweiser.statistics.projection.replay import Sink
from wegweiser.statistics.projection.tables import table_name
from wegweiser.statistics.projection.writer import flush
from wegweiser.statistics.publication.publisher import Publisher
from wegweiser.statistics.settings import StatisticsSettings

pytestmark = pytest.mark.integration


def history() -> list[tuple[str, int, Event]]:
    items = list(History(seed=7, scale=0.0008, consultations_per_month=0.7).events())
    return [(str(uuid.uuid4()), time_us(i.at), i.event()) for i in items]


async def apply(engine: AsyncEngine, generation: int, items: list[tuple[str, int, Event]], size: int) -> None:
    """Through the replay's writer, ``size`` events per transaction."""
    async with Sink(engine, generation) as sink:
        for start in range(0, len(items), size):
            batch = Batch()
            for _, at, event in items[start : start + size]:
                batch.add(event, time_us=at)
            async with sink.transaction() as writer:
                await flush(batch, writer)


async def apply_live(engine: AsyncEngine, generation: int, items: list[tuple[str, int, Event]]) -> None:
    """As the live path does: one event per transaction, claimed in the generation's inbox first."""
    async with Sink(engine, generation) as sink:
        for ce_id, at, event in items:
            async with sink.transaction() as writer:
                if await writer.claim([ce_id]):
                    batch = Batch()
                    batch.add(event, time_us=at)
                    await flush(batch, writer)


async def facts(engine: AsyncEngine, generation: int) -> dict[str, Any]:
    async with engine.connect() as conn:
        loaded = await load_facts(conn, generation)
    return {name: sorted(map(repr, value)) for name, value in vars(loaded).items()}


async def test_order_batching_and_redelivery_do_not_change_the_projection(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine, MIGRATIONS)
        generations = Generations(engine, async_sessionmaker(engine, expire_on_commit=False))
        ids = [(await generations.create(live_offsets={})).id for _ in range(3)]
        items = history()
        assert len(items) > 1500
        await apply(engine, ids[0], items, size=100_000)
        shuffled = items[:]
        random.Random(3).shuffle(shuffled)
        await apply(engine, ids[1], shuffled, size=97)
        await apply_live(engine, ids[2], items[: len(items) // 2])
        await apply_live(engine, ids[2], list(reversed(items)))  # the first half a second time
        reference = await facts(engine, ids[0])
        assert reference["consultations"] and reference["cases"] and reference["referrals"]
        assert await facts(engine, ids[1]) == reference
        assert await facts(engine, ids[2]) == reference
    finally:
        await engine.dispose()


async def test_published_tables_of_an_older_release_get_the_reason_column(database_url: str) -> None:
    """What the start-up does on PostgreSQL for generations created before cells had a reason; the
    publication's swap (a new table LIKE the old one, filled by COPY) then stores the reason."""
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine, MIGRATIONS)
        generations = Generations(engine, async_sessionmaker(engine, expire_on_commit=False))
        generation = (await generations.create(live_offsets={})).id
        published = table_name(generation, "published")
        async with engine.begin() as conn:
            await conn.execute(text(f"ALTER TABLE {published} DROP COLUMN reason"))
        assert await generations.add_missing_columns() == [f"{published}.reason"]
        assert await generations.add_missing_columns() == []
        publisher = Publisher(
            settings=StatisticsSettings(database_url=database_url),
            generations=generations,
            unit_of_work=lambda: UnitOfWork(generations.sessions),
            today=dt.date.today,
        )
        cell = ("arrivals", "2025", "08", "total")
        await publisher._swap(generation, [(*cell, None, True, "primary")])
        async with engine.connect() as conn:
            stored = await conn.execute(
                text(f"SELECT family, period, region, series, reason FROM {published}")
            )
            assert stored.all() == [(*cell, "primary")]
    finally:
        await engine.dispose()
