"""The live path: one event from the isolation engine into every generation that is serving or building.

The engine's dispatcher has decoded and validated the event and checked the consumer group's inbox;
this applies the event to each target generation once, through that generation's own inbox, in the
dispatcher's transaction. Mirroring into a building generation is what lets a rebuild switch over
without a gap.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.db import UnitOfWork
from wegweiser.common.envelope import Envelope
from wegweiser.statistics.db import Generation
from wegweiser.statistics.projection.batch import HANDLED, Batch
from wegweiser.statistics.projection.decode import time_us
from wegweiser.statistics.projection.writer import PgWriter, SqliteWriter, Writer, flush


class NoGeneration(RuntimeError):
    """Nothing to project into yet (start-up not finished): the engine retries the event later."""


async def target_generations(session: Any) -> list[int]:
    result = await session.execute(
        select(col(Generation.id))
        .where(col(Generation.state).in_(("active", "building")))
        .order_by(col(Generation.id))
    )
    return [int(i) for i in result.scalars()]


async def _writers(session: Any, generations: list[int]) -> list[Writer]:
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        raw = (await conn.get_raw_connection()).driver_connection
        # The session's transaction has begun (the generation query ran on it): these statements join it.
        assert raw.is_in_transaction()
        return [PgWriter(raw, g) for g in generations]
    return [SqliteWriter(conn, g) for g in generations]


async def project_event(event: events.Event, envelope: Envelope, uow: UnitOfWork) -> None:
    """Apply one event to the serving generation and to a generation being rebuilt."""
    batch = Batch()
    if not batch.add(event, time_us=time_us(envelope.time)):
        return
    generations = await target_generations(uow.session)
    if not generations:
        raise NoGeneration("no projection generation to write into yet")
    for writer in await _writers(uow.session, generations):
        if await writer.claim([envelope.id]):
            await flush(batch, writer)


HANDLERS = dict.fromkeys(HANDLED, project_event)
"""The handlers for the engine's ``ConsumerSpec``: every event type the projection folds in."""
