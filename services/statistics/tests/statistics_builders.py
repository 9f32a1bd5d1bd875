"""Builders for statistics' tests: pseudonymous events, and a generation filled as the live path fills it.

On pytest's path with ``synthetic_history`` (root ``pyproject.toml``); not shipped with the service.
"""

from __future__ import annotations

import datetime as dt
import uuid

from wegweiser.common import events
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.projection.batch import Batch
from wegweiser.statistics.projection.replay import Sink
from wegweiser.statistics.projection.writer import flush


def arrival(ags: str, day: str, persons: int) -> events.ArrivalRegisteredFact:
    """A household of ``persons`` allocated to ``ags`` on ``day``."""
    return events.ArrivalRegisteredFact(
        ags=ags,
        arrival_id=uuid.uuid4(),
        allocation_date=dt.date.fromisoformat(day),
        household_size=persons,
        persons=tuple(
            events.PersonFact(pseudonym=uuid.uuid4().hex * 2, role="head", age_band="27-44", sex="unknown")
            for _ in range(persons)
        ),
    )


def consultation(ags: str, case_id: uuid.UUID, day: str, type_: str) -> events.ConsultationRecorded:
    return events.ConsultationRecorded(
        ags=ags,
        case_id=case_id,
        consultation_id=uuid.uuid4(),
        held_on=dt.date.fromisoformat(day),
        duration_minutes=30,
        type=type_,
        channel="telefon",
    )


async def project(workers: Workers, generation: int, *items: events.Event) -> None:
    """As the live path does: each event claimed in the generation's inbox (which the publisher
    watches for changes), then folded into the generation's tables in one transaction."""
    async with Sink(workers.runtime.db, generation) as sink, sink.transaction() as writer:
        assert await writer.claim([str(uuid.uuid4()) for _ in items])
        batch = Batch()
        for i, event in enumerate(items):
            batch.add(event, time_us=1_740_000_000_000_000 + i)
        await flush(batch, writer)
