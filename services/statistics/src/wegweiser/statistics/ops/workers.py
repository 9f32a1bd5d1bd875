"""What runs beside the HTTP API: the publisher, the rebuilds and the watch over unfinished rebuilds.

Built once in ``app.build``; the routes reach it through ``deps.WorkersDep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wegweiser.common import localtime
from wegweiser.common.runtime import ServiceRuntime
from wegweiser.statistics.consumers import live_group, source_topics
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.ops.rebuild import Rebuilder
from wegweiser.statistics.publication.publisher import Publisher
from wegweiser.statistics.settings import StatisticsSettings

log = logging.getLogger(__name__)


@dataclass
class Workers:
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
            live_group=live_group(self.settings),
            generations=self.generations,
            on_built=lambda g: self.publisher.publish(g, feed=False),
            on_switched=self.publisher.feed_switched,
            flush_events=self.settings.rebuild_flush_events,
            flush_interval_s=self.settings.rebuild_flush_interval_s,
            workers=self.settings.rebuild_workers,
            dedupe_window_ms=self.settings.dedupe_window_days * 24 * 3600 * 1000,
        )

    async def prepare(self) -> None:
        """Before the live engine joins its group: migrations, topics, and a first generation if none."""
        await self.runtime.migrate_and_create_topics()
        added = await self.generations.add_missing_columns()
        if added:
            log.info("statistics: columns added to existing generation tables: %s", ", ".join(added))
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
            await asyncio.sleep(self.settings.rebuild_check_interval_s)

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

    def live_dead_letters(self) -> int:
        """Malformed or failed events the live engine dead-lettered since this process started."""
        return sum(sum(engine.metrics.counts["dead_lettered"].values()) for engine in self.runtime.consumers)
