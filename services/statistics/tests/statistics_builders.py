"""Builders for statistics' tests: pseudonymous events, and a generation filled as the live path fills it.

On pytest's path with ``synthetic_history`` (root ``pyproject.toml``); not shipped with the service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from wegweiser.common import events
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.projection.batch import Batch
from wegweiser.statistics.projection.replay import Sink
from wegweiser.statistics.projection.writer import flush
from wegweiser.statistics.publication.compute import CaseFact


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


def consultation(
    ags: str, case_id: uuid.UUID, day: str, type_: str, **details: Any
) -> events.ConsultationRecorded:
    """A 30-minute telephone consultation on ``day``; ``details`` set any other field."""
    fields: dict[str, Any] = {"duration_minutes": 30, "channel": "telefon", **details}
    return events.ConsultationRecorded(
        ags=ags,
        case_id=case_id,
        consultation_id=uuid.uuid4(),
        held_on=dt.date.fromisoformat(day),
        type=type_,
        **fields,
    )


def case_fact(case_id: str, ags: str, opened_day: int, **kw: object) -> CaseFact:
    """A case opened on the day with ordinal ``opened_day``, nothing else known unless ``kw`` says."""
    fields: dict[str, object] = {
        "closed_day": None,
        "reason": None,
        "allocation_day": None,
        "first_consultation_day": None,
        "counsellor_id": None,
        "first_goal_day": None,
        **kw,
    }
    return CaseFact(case_id=case_id, ags=ags, opened_day=opened_day, **fields)  # type: ignore[arg-type]


async def project(workers: Workers, generation: int, *items: events.Event) -> None:
    """As the live path does: each event claimed in the generation's inbox (which the publisher
    watches for changes), then folded into the generation's tables in one transaction."""
    async with Sink(workers.runtime.db, generation) as sink, sink.transaction() as writer:
        assert await writer.claim([str(uuid.uuid4()) for _ in items])
        batch = Batch()
        for i, event in enumerate(items):
            batch.add(event, time_us=1_740_000_000_000_000 + i)
        await flush(batch, writer)
