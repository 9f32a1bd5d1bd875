"""The parts of the statistics service that run beside the HTTP API, wired once in ``app.build``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wegweiser.common import localtime, topics
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.statistics import views
from wegweiser.statistics.generations import Generation, Generations
from wegweiser.statistics.geography import RegionTree, region_tree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.publisher import Publisher
from wegweiser.statistics.rebuild import Rebuilder
from wegweiser.statistics.settings import StatisticsSettings

log = logging.getLogger(__name__)

SOURCE_TOPICS = (topics.INTAKE_FACTS, topics.CASES, topics.REFERRAL_STATUS)


def source_topics(settings: StatisticsSettings) -> list[topics.TopicSpec]:
    """The pseudonymous topics (never the personal ones), or the override for benchmarks and tests."""
    if settings.source_topics:
        return [
            topics.TopicSpec(name, topics.LONG_RETENTION_MS, personal_data=False)
            for name in settings.source_topics
        ]
    return list(SOURCE_TOPICS)


@dataclass
class Statistics:
    settings: StatisticsSettings
    runtime: ServiceRuntime
    today: Callable[[], dt.date] = localtime.today
    generations: Generations = field(init=False)
    publisher: Publisher = field(init=False)
    rebuilder: Rebuilder = field(init=False)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.generations = Generations(self.runtime.db, self.runtime.sessions)
        self.publisher = Publisher(
            settings=self.settings,
            generations=self.generations,
            unit_of_work=self.runtime.unit_of_work,
            today=self.today,
        )
        self.rebuilder = Rebuilder(
            bootstrap=self.settings.kafka_bootstrap_servers,
            topics=[t.name for t in source_topics(self.settings)],
            live_group=self.live_group,
            generations=self.generations,
            on_built=lambda g: self.publisher.publish(g, feed=False),
            on_switched=self.publisher.feed_switched,
            flush_events=self.settings.rebuild_flush_events,
            workers=self.settings.rebuild_workers,
            dedupe_window_ms=self.settings.dedupe_window_days * 24 * 3600 * 1000,
        )

    @property
    def live_group(self) -> str:
        return self.settings.consumer_group("statistics")

    @property
    def tree(self) -> RegionTree:
        return region_tree(self.settings.land)

    def periods(self) -> PeriodRange:
        return PeriodRange.until(self.today(), first_year=self.settings.first_year)

    async def prepare(self) -> None:
        """Before the live engine joins its group: migrations, topics, and a first generation if none."""
        await self.runtime.migrate()
        if self.settings.create_topics:
            await topics.ensure_topics(
                self.settings.kafka_bootstrap_servers,
                replication_factor=self.settings.topic_replication_factor,
            )
        await self.rebuilder.prepare()

    async def start(self) -> None:
        """After the runtime started: keep publishing, and see that unfinished rebuilds finish."""
        self._tasks.append(asyncio.create_task(self.publisher.run(), name="statistics-publisher"))
        self._tasks.append(asyncio.create_task(self._supervise(), name="statistics-rebuilds"))

    async def _supervise(self) -> None:
        """A building generation gets a local task; it replays only while it holds that generation's
        lock, so another replica can take over a rebuild whose replica went away."""
        while True:
            try:
                building = await self.generations.building()
                if building is not None:
                    self.rebuilder.start(building.id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("statistics: cannot check for unfinished rebuilds")
            await asyncio.sleep(10.0)

    async def stop(self) -> None:
        await self.rebuilder.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def rebuild(self) -> int:
        """Start a rebuild (or return the one running)."""
        building = await self.generations.building()
        generation = building.id if building is not None else await self.rebuilder.register()
        self.rebuilder.start(generation)
        return generation

    async def table(self, q: views.Query, active: Generation) -> views.TableView:
        """The table of ``q`` as published from the serving generation (suppression applied)."""
        async with self.runtime.db.connect() as conn:
            return await views.table(
                conn,
                q,
                tree=self.tree,
                generation=active.id,
                published_at=active.published_at,
                threshold=self.settings.suppression_threshold,
            )

    def live_dead_letters(self) -> int:
        """Malformed or failed events the live engine dead-lettered since this process started."""
        return sum(sum(engine.metrics.counts["dead_lettered"].values()) for engine in self.runtime.consumers)
