"""The publisher on a temporary SQLite file: what it stores, and a feed that sends changes only."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from statistics_builders import arrival, project

from wegweiser.common import topics
from wegweiser.statistics.app import build
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.settings import StatisticsSettings

STUTTGART = "08111000"


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Workers]:
    settings = StatisticsSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'statistics.db'}", first_year=2025
    )
    app = build(settings, today=lambda: dt.date(2025, 6, 30))
    built: Workers = app.state.workers
    await built.runtime.migrate()
    yield built
    await built.runtime.db.dispose()


async def feed_rows(workers: Workers) -> list[tuple[str, bytes]]:
    async with workers.runtime.db.connect() as conn:
        result = await conn.execute(
            text("SELECT key, value FROM outbox WHERE topic = :t ORDER BY id"), {"t": topics.INDICATORS.name}
        )
        return [(key, value) for key, value in result]


async def feed(workers: Workers) -> dict[str, bytes]:
    """The latest message per key, as the compacted topic keeps it."""
    return dict(await feed_rows(workers))


async def test_a_publication_is_stored_counted_and_fed_once(workers: Workers) -> None:
    generation = (await workers.generations.create(live_offsets={})).id
    await workers.generations.switch(generation)
    await project(workers, generation, arrival(STUTTGART, "2025-03-10", 6))
    first = await workers.publisher.publish(generation, feed=True)
    assert first is not None and first.cells > 0 and first.feed_messages > 0
    row = await workers.generations.get(generation)
    assert row is not None and row.cells == first.cells and row.published_at is not None
    fed = await feed(workers)
    assert b'"values":{"total":6}' in fed["arrivals/08/2025"]
    # Nothing changed: nothing to recompute, nothing to send.
    assert await workers.publisher.publish_if_changed() is None
    again = await workers.publisher.publish(generation, feed=True)
    assert again is not None and again.feed_messages == 0
    # One more household: only the keys whose values changed go out again.
    sent_before = len(await feed_rows(workers))
    await project(workers, generation, arrival(STUTTGART, "2025-04-02", 2))
    changed = await workers.publisher.publish_if_changed()
    assert changed is not None and changed.feed_messages > 0
    sent = [key for key, _ in (await feed_rows(workers))[sent_before:]]
    assert len(sent) == len(set(sent)) == changed.feed_messages
    # April's 2 is hidden (and its quarter), and so is the year's 8 (8 minus March's 6 would give it
    # away; hiding the year protects the quarter's relation and the year's at once, where March would
    # need its quarter hidden too): every key that changed goes out once, municipalities by month aside.
    periods = ("2025", "2025-Q2", "2025-04")
    expected = {f"arrivals/{r}/{p}" for r in ("08", "081", "08111") for p in periods}
    expected |= {f"arrivals/{STUTTGART}/{p}" for p in periods[:2]}
    assert set(sent) == expected
    fed = await feed(workers)
    assert b'"values":{"total":"."}' in fed["arrivals/08/2025"]
    assert b'"values":{"total":6}' in fed["arrivals/08/2025-03"]
    assert b'"values":{"total":"."}' in fed["arrivals/08/2025-04"]
    # ... each with its reason: April's 2 is too small, the year's 8 protects it.
    assert b'"suppressed_reasons":{"total":"too_small"}' in fed["arrivals/08/2025-04"]
    assert b'"suppressed_reasons":{"total":"protects_other"}' in fed["arrivals/08/2025"]
    assert b'"suppressed_reasons":{}' in fed["arrivals/08/2025-03"]
    async with workers.runtime.db.connect() as conn:
        stored = await conn.execute(
            text(
                f"SELECT period, reason FROM stat_g{generation}_published "
                "WHERE family = 'arrivals' AND region = '08' AND period IN ('2025', '2025-03', '2025-04')"
            )
        )
        assert dict(stored.all()) == {"2025": "secondary", "2025-03": None, "2025-04": "primary"}


async def test_without_a_serving_generation_there_is_nothing_to_publish(workers: Workers) -> None:
    await workers.generations.create(live_offsets={})  # building, not serving
    assert await workers.publisher.publish_if_changed() is None
    assert await feed(workers) == {}
