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

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from wegweiser.common.db import utcnow
from wegweiser.common.engine.retry_topics import dlq_topic, retry_topic
from wegweiser.common.kafka_security import client_options
from wegweiser.common.leadership import exclusive
from wegweiser.statistics.ops.generations import Generations
from wegweiser.statistics.ops.leadership import PREPARE, rebuild_key
from wegweiser.statistics.projection.replay import (
    Offsets,
    Progress,
    ReplayPlan,
    offsets_from_json,
    offsets_to_json,
    replay,
)

log = logging.getLogger(__name__)


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return sorted(
        TopicPartition(d["topic"], p["partition"])
        for d in described
        if not d.get("error_code")
        for p in d["partitions"]
    )


async def end_offsets(bootstrap: str, topics: list[str]) -> Offsets:
    partitions = await partitions_of(bootstrap, topics)
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): o for tp, o in ends.items()}


async def committed_offsets(bootstrap: str, group: str, *, attempts: int = 30) -> Offsets:
    """The group's committed offsets; waits while a fresh cluster is still creating its offsets topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        for attempt in range(1, attempts + 1):
            try:
                committed = await admin.list_consumer_group_offsets(group)
                break
            except GroupCoordinatorNotAvailableError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): om.offset for tp, om in committed.items() if om.offset >= 0}


async def place_group(bootstrap: str, group: str, offsets: Offsets) -> None:
    """Commit ``offsets`` for a group that has no members yet (before the live engine joins it)."""
    if not offsets:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(t, p) for t, p in offsets])
        await consumer.commit({TopicPartition(t, p): o for (t, p), o in offsets.items()})
    finally:
        await consumer.stop()


async def pending_live_ids(bootstrap: str, group: str, topics: list[str]) -> frozenset[str]:
    """Event ids on the live group's retry and dead-letter topics: the live path may still apply them."""
    names = [name for t in topics for name in (retry_topic(t, group), dlq_topic(t, group))]
    partitions = await partitions_of(bootstrap, names)
    if not partitions:
        return frozenset()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, **client_options(), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    ids: set[str] = set()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        open_tps = {tp for tp in partitions if ends[tp] > 0}
        while open_tps:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                for r in records:
                    for key, value in r.headers:
                        if key == "ce_id" and value is not None:
                            ids.add(bytes(value).decode("utf-8", "replace"))
            for tp in list(open_tps):
                if await consumer.position(tp) >= ends[tp]:
                    open_tps.discard(tp)
    finally:
        await consumer.stop()
    return frozenset(ids)


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
            flush_interval_s=30.0,
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
