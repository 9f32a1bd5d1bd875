"""Writes deltas into one generation: bulk upserts with arrays on PostgreSQL, executemany on SQLite.

Rows are sorted by key and tables written in one fixed order, so a rebuild's large transaction and a
live event's small one never wait on each other in a cycle.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from wegweiser.statistics.projection import tables
from wegweiser.statistics.projection.batch import Batch


class Writer(Protocol):
    generation: int

    async def claim(self, ids: Sequence[str]) -> set[str]:
        """Record event ids as applied to this generation; returns those not applied before."""
        ...

    async def upsert(self, spec: tables.Upsert, rows: list[tuple[Any, ...]]) -> None: ...

    async def execute(self, sql: str) -> None: ...

    async def copy(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Plain bulk load (no conflict handling) into a table of this generation."""
        ...


def _upsert_sql(spec: tables.Upsert, table: str, values: str) -> str:
    action = f"DO UPDATE SET {', '.join(spec.updates)}" if spec.updates else "DO NOTHING"
    return (
        f"INSERT INTO {table} AS t ({', '.join(spec.names)}) {values} "
        f"ON CONFLICT ({', '.join(spec.key)}) {action}"
    )


_STAGED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
"""Staging tables already created per connection (temporary tables live as long as the session)."""

STAGE_FROM = 2000
"""From this many rows a PostgreSQL upsert goes through COPY into a staging table (far cheaper per row)."""


class PgWriter:
    """On an asyncpg connection inside a transaction: COPY into a temporary staging table and one
    ``INSERT ... SELECT ... ON CONFLICT`` per table for large batches; arrays for small ones."""

    def __init__(self, connection: Any, generation: int) -> None:
        self._conn = connection
        self.generation = generation

    async def execute(self, sql: str) -> None:
        await self._conn.execute(sql)

    async def copy(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        await self._conn.copy_records_to_table(table, records=rows, columns=columns)

    async def claim(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        applied = tables.table_name(self.generation, "applied")
        # md5 turns any ce_id (a UUID in practice, but not by contract) into a compact uuid key.
        rows = await self._conn.fetch(
            f"WITH ins AS (INSERT INTO {applied} (event_id) SELECT md5(x)::uuid FROM unnest($1::text[]) x "
            f"ON CONFLICT DO NOTHING RETURNING event_id) "
            f"SELECT DISTINCT x FROM unnest($1::text[]) x JOIN ins ON md5(x)::uuid = ins.event_id",
            list(ids),
        )
        return {r[0] for r in rows}

    async def upsert(self, spec: tables.Upsert, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        rows.sort()  # keys come first and are unique in a batch: index pages are visited in order
        table = tables.table_name(self.generation, spec.table)
        if len(rows) < STAGE_FROM:
            arrays = ", ".join(f"${n}::{typ}[]" for n, (_, typ) in enumerate(spec.columns, start=1))
            sql = _upsert_sql(spec, table, f"SELECT * FROM unnest({arrays})")
            await self._conn.execute(sql, *(list(column) for column in zip(*rows, strict=True)))
            return
        stage = f"stat_stage_{spec.table}"
        staged = _STAGED.setdefault(self._conn, set())
        if stage not in staged:
            columns = ", ".join(f"{name} {typ}" for name, typ in spec.columns)
            await self._conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS"
            )
            staged.add(stage)
        await self._conn.copy_records_to_table(stage, records=rows, columns=list(spec.names))
        await self._conn.execute(f"{_upsert_sql(spec, table, f'SELECT * FROM {stage}')}; TRUNCATE {stage}")


class SqliteWriter:
    """On a SQLAlchemy connection to SQLite (the zero-setup default): executemany, one writer at a time."""

    def __init__(self, connection: AsyncConnection, generation: int) -> None:
        self._conn = connection
        self.generation = generation

    async def execute(self, sql: str) -> None:
        await self._conn.exec_driver_sql(sql)

    async def copy(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        await self._conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def claim(self, ids: Sequence[str]) -> set[str]:
        applied = tables.table_name(self.generation, "applied")
        fresh = list(dict.fromkeys(ids))
        known: set[str] = set()
        for start in range(0, len(fresh), 500):
            chunk = fresh[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            result = await self._conn.exec_driver_sql(
                f"SELECT event_id FROM {applied} WHERE event_id IN ({marks})", tuple(chunk)
            )
            known.update(r[0] for r in result)
        new = [i for i in fresh if i not in known]
        if new:
            await self._conn.exec_driver_sql(
                f"INSERT INTO {applied} (event_id) VALUES (?)", [(i,) for i in new]
            )
        return set(new)

    async def upsert(self, spec: tables.Upsert, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        table = tables.table_name(self.generation, spec.table)
        marks = ", ".join("?" for _ in spec.columns)
        rows.sort()
        await self._conn.exec_driver_sql(_upsert_sql(spec, table, f"VALUES ({marks})"), rows)


def _uuid(value: int | None) -> str | None:
    """An id kept as its integer, as 32 hex digits (what both databases read as a UUID)."""
    return None if value is None else f"{value:032x}"


def _entity_rows(spec: tables.Upsert, deltas: Mapping[int, object]) -> list[tuple[Any, ...]]:
    """One row per entity delta, key first, in ``spec``'s column order (the spec names what is written)."""
    columns = spec.columns[1:]
    values = attrgetter(*(name for name, _ in columns))
    uuids = [i for i, (_, kind) in enumerate(columns) if kind == tables.U]
    rows: list[tuple[Any, ...]] = []
    for key, delta in deltas.items():
        row = list(values(delta))
        for i in uuids:
            row[i] = _uuid(row[i])
        rows.append((_uuid(key), *row))
    return rows


async def flush(batch: Batch, writer: Writer) -> None:
    """Write a batch's deltas (tables in a fixed order)."""
    await writer.upsert(tables.ARRIVALS, _entity_rows(tables.ARRIVALS, batch.arrivals))
    await writer.upsert(tables.CASES, _entity_rows(tables.CASES, batch.cases))
    await writer.upsert(tables.MOVES, [(_uuid(c), day, ags, v) for (c, day, ags), v in batch.moves.items()])
    await writer.upsert(tables.CONSULTATIONS, [(*k, n) for k, n in batch.consultations.items()])
    await writer.upsert(tables.BREAKDOWNS, [(*k, n) for k, n in batch.breakdowns.items()])
    await writer.upsert(tables.PERSONS, [(*k, bits) for k, bits in batch.persons.items()])
    await writer.upsert(tables.GOALS, _entity_rows(tables.GOALS, batch.goals))
    await writer.upsert(tables.REFERRALS, _entity_rows(tables.REFERRALS, batch.referrals))
