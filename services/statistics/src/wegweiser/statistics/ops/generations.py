"""Projection generations: create one with its tables, record progress, switch atomically, retire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import utcnow
from wegweiser.statistics.db import Generation
from wegweiser.statistics.projection.tables import NAMES, generation_metadata, table_name


class Generations:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.sessions = sessions

    async def active(self) -> Generation | None:
        async with self.sessions() as s:
            return (
                (await s.execute(select(Generation).where(col(Generation.state) == "active")))
                .scalars()
                .first()
            )

    async def building(self) -> Generation | None:
        async with self.sessions() as s:
            return (
                (
                    await s.execute(
                        select(Generation)
                        .where(col(Generation.state) == "building")
                        .order_by(col(Generation.id))
                    )
                )
                .scalars()
                .first()
            )

    async def get(self, generation: int) -> Generation | None:
        async with self.sessions() as s:
            return await s.get(Generation, generation)

    async def all(self) -> list[Generation]:
        async with self.sessions() as s:
            return list((await s.execute(select(Generation).order_by(col(Generation.id).desc()))).scalars())

    async def create(self, *, live_offsets: dict[str, int]) -> Generation:
        """A new building generation with empty tables; the live consumer mirrors into it from now on."""
        async with self.sessions() as s:
            latest = (await s.execute(select(func.max(Generation.id)))).scalar() or 0
            s.add(Generation(id=latest + 1, state="building", live_offsets=live_offsets))
            await s.commit()
        async with self.engine.begin() as conn:
            await conn.run_sync(generation_metadata(latest + 1).create_all)
        created = await self.get(latest + 1)
        assert created is not None
        return created

    async def add_missing_columns(self) -> list[str]:
        """Give the tables of generations that still exist the nullable columns added to the DDL since
        they were created (e.g. ``published.reason``), so a new release reads and writes them at once
        instead of waiting for a rebuild. Returns ``table.column`` of every column added."""
        added = []
        # Replicas starting at once: PostgreSQL adds a column once; SQLite has one process only.
        guard = " IF NOT EXISTS" if self.engine.dialect.name == "postgresql" else ""
        kept = [g.id for g in await self.all() if g.state != "dropped"]
        async with self.engine.begin() as conn:
            present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
            for generation in kept:
                for table in generation_metadata(generation).sorted_tables:
                    if table.name not in present:
                        continue
                    columns = await conn.run_sync(_column_names, table.name)
                    for column in table.columns:
                        if column.name in columns:
                            continue
                        if not column.nullable:
                            raise RuntimeError(f"{table.name}.{column.name} cannot be added to existing rows")
                        kind = column.type.compile(dialect=conn.dialect)
                        await conn.execute(
                            text(f"ALTER TABLE {table.name} ADD COLUMN{guard} {column.name} {kind}")
                        )
                        added.append(f"{table.name}.{column.name}")
        return added

    async def update(self, generation: int, **values: Any) -> None:
        async with self.sessions() as s:
            await s.execute(update(Generation).where(col(Generation.id) == generation).values(**values))
            await s.commit()

    async def switch(self, generation: int) -> None:
        """Make ``generation`` the one that serves, in one transaction; the previous one retires."""
        now = utcnow()
        async with self.sessions() as s:
            await s.execute(
                update(Generation)
                .where(col(Generation.state) == "active")
                .values(state="retired", retired_at=now)
            )
            await s.execute(
                update(Generation)
                .where(col(Generation.id) == generation)
                .values(state="active", switched_at=now)
            )
            await s.commit()

    async def drop_retired(self, *, older_than: dt.timedelta) -> list[int]:
        """Drop the tables of generations retired a while ago (readers of the old one have finished)."""
        cutoff = utcnow() - older_than
        dropped = []
        for g in await self.all():
            if (
                g.state in ("retired", "failed")
                and g.retired_at is not None
                and _aware(g.retired_at) < cutoff
            ):
                async with self.engine.begin() as conn:
                    for name in NAMES:
                        await conn.execute(text(f"DROP TABLE IF EXISTS {table_name(g.id, name)}"))
                await self.update(g.id, state="dropped")
                dropped.append(g.id)
        return dropped

    async def applied_count(self, generation: int) -> int:
        async with self.engine.connect() as conn:
            result = await conn.execute(text(f"SELECT COUNT(*) FROM {table_name(generation, 'applied')}"))
            return int(result.scalar_one())


def _column_names(sync: Any, table: str) -> set[str]:
    return {c["name"] for c in inspect(sync).get_columns(table)}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
