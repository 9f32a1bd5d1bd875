"""Statistics' own tables beside the generation tables: which generation serves, and the feed's state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from wegweiser.common.db import utcnow


class StatisticsTable(SQLModel, registry=registry()):
    pass


class Generation(StatisticsTable, table=True):
    """One projection generation: ``building`` (a rebuild fills it), ``active`` (serves), ``retired``."""

    __tablename__ = "stat_generations"

    id: int = Field(primary_key=True)
    state: str = Field(max_length=20, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    switched_at: dt.datetime | None = None
    retired_at: dt.datetime | None = None
    # Where the rebuild must get to, and where the live consumer group stood when it began (see rebuild).
    target_offsets: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    start_offsets: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    live_offsets: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    events_total: int = 0
    events_read: int = 0
    events_applied: int = 0
    duplicates: int = 0
    malformed: int = 0
    rate_per_s: float = 0.0
    progress_at: dt.datetime | None = None
    caught_up_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    publication_s: float | None = None
    cells: int = 0
    suppressed_cells: int = 0
    unplaced_events: int = 0
    error: str | None = None


class FeedState(StatisticsTable, table=True):
    """What the indicator feed last carried per key, so only changes are sent."""

    __tablename__ = "stat_feed"

    key: str = Field(primary_key=True, max_length=200)
    digest: str = Field(max_length=64)
    published_at: dt.datetime = Field(default_factory=utcnow)
