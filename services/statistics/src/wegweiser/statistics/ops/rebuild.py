"""Rebuild: recompute everything from the full history of the pseudonymous topics, then switch.

1. Read the live consumer group's committed offsets (a group without any is placed at the topics' end
   first, so the live engine never churns through history event by event).
2. Register generation N+1 as *building*: from now on the live handler mirrors every event into it.
3. Read the end offsets: the replay's target. Every later event reaches N+1 through the mirror.
4. Replay from the beginning into N+1 (see ``projection.replay`` for exactly-once across both paths),
   publish N+1, switch in one transaction; N keeps serving until that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from wegweiser.common.db import utcnow
from wegweiser.common.leadership import exclusive
from wegweiser.statistics.consumers import committed_offsets, end_offsets, pending_live_ids, place_group
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.ops.leadership import PREPARE, rebuild_key
from wegweiser.statistics.projection.replay import (
    Progress,
    ReplayPlan,
    offsets_from_json,
    offsets_to_json,
    replay,
)

log = logging.getLogger(__name__)


@dataclass
class Rebuilder:
    """Runs rebuilds in this process; their progress is in memory and in the generation's row."""

    bootstrap: str
    topics: list[str]
    live_group: str
    generations: Generations
    on_built: Callable[[int], Awaitable[object]]  # publish the new generation before the switch
    on_switched: Callable[[int], Awaitable[object]]  # feed the difference after it
    flush_events: int = 500_000
    flush_interval_s: float = 30.0
    workers: int = 1
    dedupe_window_ms: int = 30 * 24 * 3600 * 1000
    progress: dict[int, Progress] = field(default_factory=dict)
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    async def prepare(self) -> None:
        """Before the live engine starts: make sure the live group's position and the generations fit.

        A group without committed offsets (the very first start, or offsets expired while the service
        was down, or reset by an operator) would deliver the whole history again, on top of what a
        replay already applied. So it is placed at the topics' end, and a rebuild covers the rest.
        """
        async with exclusive(self.generations.engine, PREPARE, wait=True):
            if await committed_offsets(self.bootstrap, self.live_group):
                return
            end = await end_offsets(self.bootstrap, self.topics)
            await place_group(self.bootstrap, self.live_group, end)
            generations = [g for g in await self.generations.all() if g.state != "dropped"]
            for g in generations:
                if g.state == "building":  # its replay target no longer meets the live group's position
                    await self.generations.update(g.id, state="failed", retired_at=utcnow())
            if generations:
                log.warning("statistics: live group %s had no committed offsets; rebuilding", self.live_group)
            await self.register()

    async def register(self) -> int:
        """Register a building generation (order matters: see the module docstring)."""
        live = await committed_offsets(self.bootstrap, self.live_group)
        generation = await self.generations.create(live_offsets=offsets_to_json(live))
        target = await end_offsets(self.bootstrap, self.topics)
        await self.generations.update(generation.id, target_offsets=offsets_to_json(target))
        log.info("statistics: generation %d registered for rebuild", generation.id)
        return generation.id

    def start(self, generation: int) -> None:
        if generation not in self.tasks or self.tasks[generation].done():
            self.tasks[generation] = asyncio.create_task(
                self._run(generation), name=f"statistics-rebuild-{generation}"
            )

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, generation: int) -> None:
        """Replay ``generation`` here, or wait while another replica does and take over if it stops."""
        delay = 1.0
        while True:
            try:
                async with exclusive(self.generations.engine, rebuild_key(generation), wait=False) as mine:
                    if mine:
                        await self.run(generation)
                row = await self.generations.get(generation)
                if row is None or row.state != "building":
                    return
                await asyncio.sleep(5.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("statistics: rebuild of generation %d failed; resuming", generation)
                await self.generations.update(generation, error=repr(exc)[:2000])
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def run(self, generation: int) -> None:
        """Replay (resuming where a previous attempt stopped), publish, switch."""
        row = await self.generations.get(generation)
        if row is None or row.state != "building":
            return
        target = offsets_from_json(row.target_offsets)
        live = offsets_from_json(row.live_offsets)
        # A partition the live group had not committed: it may deliver all of it, so all of it is risky.
        live = {tp: live.get(tp, 0) for tp in target}
        plan = ReplayPlan(
            topics=self.topics,
            target=target,
            live_offsets=live,
            risky_ids=await pending_live_ids(self.bootstrap, self.live_group, self.topics),
            dedupe_window_ms=self.dedupe_window_ms,
        )
        progress = self.progress[generation] = Progress()
        last_saved = 0.0

        async def save(p: Progress) -> None:
            nonlocal last_saved
            now = asyncio.get_running_loop().time()
            if now - last_saved >= 1.0 or p.seen >= p.total:
                last_saved = now
                await self._save(generation, p)

        await replay(
            bootstrap_servers=self.bootstrap,
            engine=self.generations.engine,
            generation=generation,
            plan=plan,
            flush_events=self.flush_events,
            flush_interval_s=self.flush_interval_s,
            progress=progress,
            on_progress=save,
            workers=self.workers,
        )
        await self._save(generation, progress)
        await self.generations.update(generation, caught_up_at=utcnow(), error=None)
        await self.on_built(generation)
        await self.generations.switch(generation)
        log.info("statistics: generation %d serves now", generation)
        await self.on_switched(generation)

    async def _save(self, generation: int, p: Progress) -> None:
        await self.generations.update(
            generation,
            events_total=p.total,
            events_read=p.seen,
            events_applied=p.applied,
            duplicates=p.duplicates,
            malformed=p.malformed,
            rate_per_s=p.rate,
            progress_at=utcnow(),
        )
