"""Publication: compute, suppress and store a generation's cells; feed what changed to the topic.

Runs after a rebuild (before its switch) and then whenever the serving generation has taken in new events
(at most every ``publish_interval_s``), or when the day changes (stocks refer to today).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select
from sqlmodel import col

from wegweiser.common import events
from wegweiser.common.db import OutboxRecord, UnitOfWork, utcnow
from wegweiser.common.envelope import encode
from wegweiser.common.leadership import exclusive
from wegweiser.common.sql import dialect_insert
from wegweiser.statistics.db import FeedState
from wegweiser.statistics.geography import region_tree
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.ops.leadership import PUBLISH
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.projection import tables
from wegweiser.statistics.projection.loader import load_facts
from wegweiser.statistics.projection.replay import Sink
from wegweiser.statistics.publication.compute import Frame, all_families
from wegweiser.statistics.publication.disclosure import Publication, disclose
from wegweiser.statistics.publication.feed import feed_messages, message_fields, zero_message
from wegweiser.statistics.settings import StatisticsSettings

log = logging.getLogger(__name__)

FEED_CHUNK = 2000


class PublicationStats(BaseModel):
    """What one publication wrote; the operations API answers with it (``read.schemas.PublicationOut``)."""

    model_config = ConfigDict(frozen=True)

    generation: int
    cells: int
    suppressed: int
    unplaced: int
    seconds: float
    feed_messages: int


def frame_for(settings: StatisticsSettings, today: dt.date) -> Frame:
    return Frame(region_tree(settings.land), PeriodRange.until(today, first_year=settings.first_year), today)


class Publisher:
    def __init__(
        self,
        *,
        settings: StatisticsSettings,
        generations: Generations,
        unit_of_work: Callable[[], UnitOfWork],
        today: Callable[[], dt.date],
    ) -> None:
        self.settings = settings
        self.generations = generations
        self.unit_of_work = unit_of_work
        self.today = today
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._last: dict[int, tuple[Publication, Frame]] = {}
        self._stored: dict[int, dict[tuple[str, str], bytes]] = {}  # group digests of what is stored
        self._feed_state: dict[str, str] | None = None  # feed key → digest of its last message
        self._published_at: dict[int, dt.datetime | None] = {}  # as stored by this replica
        self._lock = asyncio.Lock()

    async def publish(self, generation: int, *, feed: bool, wait: bool = True) -> PublicationStats | None:
        """Recompute every indicator of ``generation`` and store what may be shown; None when another
        replica is publishing and ``wait`` is False."""
        async with self._lock, exclusive(self.generations.engine, PUBLISH, wait=wait) as mine:
            if not mine:
                return None
            started = time.monotonic()
            fingerprint = await self._fingerprint(generation)
            row = await self.generations.get(generation)
            if row is None or row.published_at != self._published_at.get(generation):
                # Another replica published since: what this one remembers of the table and the feed
                # may be out of date.
                self._stored.pop(generation, None)
                self._feed_state = None
            async with self.generations.engine.connect() as conn:
                facts = await load_facts(conn, generation)
            frame = frame_for(self.settings, self.today())
            threshold = self.settings.suppression_threshold
            pub = await asyncio.to_thread(
                lambda: disclose(all_families(facts, frame), frame, threshold=threshold)
            )
            await self._store(generation, pub)
            seconds = time.monotonic() - started
            published_at = utcnow()
            await self.generations.update(
                generation,
                published_at=published_at,
                publication_s=round(seconds, 3),
                cells=len(pub.cells),
                suppressed_cells=pub.suppressed,
                unplaced_events=pub.unplaced,
            )
            self._last = {generation: (pub, frame)}
            stored = await self.generations.get(generation)
            self._published_at = {generation: stored.published_at if stored else None}
            sent = await self._feed(generation, pub, frame) if feed else 0
            self._seen[generation] = fingerprint
            log.info(
                "statistics: generation %d published (%d cells, %d suppressed — of the counts %d too small, "
                "%d protecting another —, %.1f s, %d feed messages)",
                generation,
                len(pub.cells),
                pub.suppressed,
                pub.primary_counts,
                pub.secondary_counts,
                seconds,
                sent,
            )
            return PublicationStats(
                generation=generation,
                cells=len(pub.cells),
                suppressed=pub.suppressed,
                unplaced=pub.unplaced,
                seconds=seconds,
                feed_messages=sent,
            )

    async def feed_switched(self, generation: int) -> int:
        """After a switch: feed what the new generation publishes differently (no recomputation)."""
        async with self._lock, exclusive(self.generations.engine, PUBLISH, wait=True):
            last = self._last.get(generation)
            if last is None:
                return 0
            return await self._feed(generation, *last)

    async def publish_if_changed(self) -> PublicationStats | None:
        active = await self.generations.active()
        if active is None:
            return None
        if self._seen.get(active.id) == await self._fingerprint(active.id):
            return None
        return await self.publish(active.id, feed=True, wait=False)

    async def run(self) -> None:
        """Publish the serving generation when it changed; retire old generations' tables.

        The pause after a publication is at least ``publish_interval_s`` and at least twice as long as
        the publication took: a small projection is published within seconds, a large one (BW's full
        history: about half a minute) never takes more than a third of a core.
        """
        pause = self.settings.publish_interval_s
        while True:
            await asyncio.sleep(pause)
            try:
                result = await self.publish_if_changed()
                if result is not None:
                    pause = max(self.settings.publish_interval_s, 2 * result.seconds)
                await self.generations.drop_retired(
                    older_than=dt.timedelta(seconds=self.settings.retired_tables_kept_s)
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("statistics: publication failed; trying again later")

    async def _fingerprint(self, generation: int) -> tuple[Any, ...]:
        row = await self.generations.get(generation)
        applied = await self.generations.applied_count(generation)
        return (applied, row.events_applied if row else 0, self.today())

    async def _store(self, generation: int, pub: Publication) -> None:
        """Rewrite the (family, period) groups whose cells changed since the last publication here;
        everything the first time, on PostgreSQL into a fresh table swapped in at once."""
        groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for c in pub.cells:
            groups.setdefault((c.family, c.period), []).append(
                (c.family, c.period, c.region, c.series, c.value, c.suppressed, c.reason)
            )
        digests = {
            key: hashlib.blake2b(
                orjson.dumps(sorted(rows, key=lambda r: (r[2], r[3]))), digest_size=16
            ).digest()
            for key, rows in groups.items()
        }
        previous = self._stored.get(generation)
        table = tables.table_name(generation, "published")
        engine = self.generations.engine
        if previous is None and engine.dialect.name == "postgresql":
            await self._swap(generation, [row for rows in groups.values() for row in rows])
        else:
            stale = (
                set(groups) | set(previous or {})
                if previous is None
                else {k for k in set(groups) | set(previous) if previous.get(k) != digests.get(k)}
            )
            async with Sink(engine, generation) as sink, sink.transaction() as writer:
                if previous is None:
                    await writer.execute(f"DELETE FROM {table}")
                else:
                    for family, period in sorted(stale):
                        await writer.execute(
                            f"DELETE FROM {table} WHERE family = '{family}' AND period = '{period}'"
                        )
                rows = [row for key in sorted(stale) for row in groups.get(key, ())]
                for start in range(0, len(rows), 50_000):
                    await writer.upsert(tables.PUBLISHED, rows[start : start + 50_000])
        self._stored = {generation: digests}

    async def _swap(self, generation: int, rows: list[tuple[Any, ...]]) -> None:
        """Load into a table without indexes, index it in one go, and swap it for the old one."""
        table = tables.table_name(generation, "published")
        fresh = f"{table}_next"
        async with Sink(self.generations.engine, generation) as sink, sink.transaction() as writer:
            await writer.execute(f"DROP TABLE IF EXISTS {fresh}")
            await writer.execute(f"CREATE TABLE {fresh} (LIKE {table} INCLUDING DEFAULTS)")
            await writer.copy(fresh, [name for name, _ in tables.PUBLISHED.columns], rows)
            await writer.execute(f"ALTER TABLE {fresh} ADD PRIMARY KEY (family, period, region, series)")
            await writer.execute(f"DROP TABLE {table}")
            await writer.execute(f"ALTER TABLE {fresh} RENAME TO {table}")
            await writer.execute(f"ALTER INDEX {fresh}_pkey RENAME TO {table}_pkey")

    async def _feed(self, generation: int, pub: Publication, frame: Frame) -> int:
        """Send a message for every indicator, region and period whose published values changed."""
        now = utcnow()
        messages = feed_messages(
            pub,
            frame,
            threshold=self.settings.suppression_threshold,
            municipal_months=self.settings.feed_municipal_months,
        )
        if self._feed_state is None:
            async with self.generations.sessions() as s:
                result = await s.execute(select(col(FeedState.key), col(FeedState.digest)))
                self._feed_state = {k: d for k, d in result.all()}
        previous = self._feed_state
        changed = [k for k, (digest, _) in messages.items() if previous.get(k) != digest]
        zeroed = [k for k in previous if k not in messages and previous[k] != _ZERO]
        keys = changed + zeroed
        threshold = self.settings.suppression_threshold
        for start in range(0, len(keys), FEED_CHUNK):
            chunk = keys[start : start + FEED_CHUNK]
            outbox: list[dict[str, Any]] = []
            states: list[dict[str, Any]] = []
            for key in chunk:
                if key in messages:
                    digest, content = messages[key]
                    fields = message_fields(content, frame)
                else:
                    digest, fields = _ZERO, zero_message(key, frame)
                event = events.IndicatorPublished(
                    **fields, threshold=threshold, generation=generation, published_at=now
                )
                record = encode(event)
                outbox.append(
                    {
                        "event_id": record.event_id,
                        "topic": record.topic,
                        "key": record.key,
                        "value": record.value,
                        "headers": [[k, v.decode()] for k, v in record.headers],
                        "created_at": now,
                        "attempts": 0,
                    }
                )
                states.append({"key": key, "digest": digest, "published_at": now})
            async with self.unit_of_work() as uow:
                # The outbox table as ``uow.publish`` fills it, in bulk; the relay sends in id order.
                await uow.session.execute(insert(OutboxRecord), outbox)
                await _upsert_feed_state(uow.session, states)
                await uow.commit()
            previous.update({s["key"]: s["digest"] for s in states})
        return len(keys)


_ZERO = "0"


async def _upsert_feed_state(session: Any, states: list[dict[str, Any]]) -> None:
    if not states:
        return
    stmt = dialect_insert(session, FeedState).values(states)
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"digest": stmt.excluded.digest, "published_at": stmt.excluded.published_at},
    )
    await session.execute(stmt)
