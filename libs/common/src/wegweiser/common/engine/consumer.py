"""`ConsumerEngine`: the Kafka side of the engine — its clients, the group's rebalances, its pairs.

The work is done by named parts, each on the engine's pairs (`pairs`): `reading` (the group's
reader and the catch-up reader), `running` (handler tasks and their spans), `sending` (retry,
park and dead-letter copies), `commits` (offsets) and `metrics`. The engine starts and stops
them, sets pairs up and closes them on rebalance, and `advance`s a pair when something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterable

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry import trace

from wegweiser.common.engine.commits import Committer
from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.items import Input
from wegweiser.common.engine.lateness import LoopLateness
from wegweiser.common.engine.metrics import EngineMetrics, partition_gauges
from wegweiser.common.engine.pairs import Pair, Topology
from wegweiser.common.engine.reading import CatchUpReader, GroupReader
from wegweiser.common.engine.record import Handler
from wegweiser.common.engine.retry_topics import ensure_topics
from wegweiser.common.engine.running import HandlerRunner
from wegweiser.common.engine.scheduler import PartitionWork
from wegweiser.common.engine.sending import CopyWriter

log = logging.getLogger(__name__)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._engine._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._engine._on_assigned(set(assigned))


class ConsumerEngine:
    """Consume `topics` as `group_id`, running `handler` per event with the isolation guarantees."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: list[str],
        handler: Handler,
        config: EngineConfig | None = None,
        kreis_of: Callable[[str], str] | None = None,
        client_id: str | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        group_instance_id: str | None = None,
    ) -> None:
        if not topics:
            raise ValueError("topics must not be empty")
        self.bootstrap_servers = bootstrap_servers
        self.group_id = group_id
        self.topics = list(topics)
        self.config = config or EngineConfig()
        self.client_id = client_id or f"wegweiser-engine-{group_id}"
        # Static membership: a member restarted under the same id gets its partitions back without a
        # rebalance, and stop() leaves them to it (no LeaveGroup) until the session times out.
        self.group_instance_id = group_instance_id
        self.metrics = EngineMetrics(
            group=group_id, kreis_of=kreis_of, gauges=lambda: partition_gauges(self.pairs.values())
        )
        self.topology = Topology(self.topics, group_id)
        self.pairs: dict[tuple[str, int], Pair] = {}
        self.routes: dict[TopicPartition, tuple[Pair, Input]] = {}
        self.unsetup: set[TopicPartition] = set()  # assigned, paused, pair not built yet
        self.progress = asyncio.Event()  # set whenever a handler or a copy finishes
        self.lateness = LoopLateness()  # how late the event loop runs: a backlog is held back while late
        self.reader = GroupReader(self)
        self.catch_up = CatchUpReader(self)
        self.runner = HandlerRunner(self, handler, tracer_provider)
        self.copies = CopyWriter(self)
        self.commits = Committer(self)
        self._generation = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._joined = False
        self._running = False
        self.stopping = False
        self.fatal: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> bool:
        """Running, member of its group, and no fatal error."""
        return self._running and self._joined and self.fatal is None and not self.stopping

    async def start(self) -> None:
        """Create the group's retry/DLQ topics if missing, join the group and start consuming."""
        cfg = self.config
        self.runner.start_tracing(cfg.tracing)
        await ensure_topics(
            bootstrap_servers=self.bootstrap_servers, topics=self.topics, group=self.group_id, config=cfg
        )
        producer = self.copies.build()
        consumer = self.reader.build()
        catch_up = self.catch_up.build()
        consumer.subscribe(self.topology.subscribed, listener=_Listener(self))
        await producer.start()
        try:
            await catch_up.start()
            await consumer.start()
        except BaseException:
            await catch_up.stop()
            await producer.stop()
            raise
        if cfg.gc_freeze:
            # Everything alive now (imports, the service's set-up, the Kafka clients) lives as long
            # as the process: keep it out of the collector's full collections, which otherwise
            # re-scan it every few hundred thousand allocations and stall every partition for
            # 40-80 ms each time (bench/README.md, noisy-neighbour).
            gc.collect()
            gc.freeze()
        if cfg.hold_late_ms is not None:
            self.lateness.start()
        self._running = True
        self._tasks = [
            asyncio.create_task(self.reader.loop(), name=f"engine-fetch-{self.group_id}"),
            asyncio.create_task(self.commits.loop(), name=f"engine-commit-{self.group_id}"),
            asyncio.create_task(self.copies.loop(), name=f"engine-send-{self.group_id}"),
            asyncio.create_task(self.catch_up.loop(), name=f"engine-catch-up-{self.group_id}"),
        ]

    async def stop(self) -> None:
        """Stop taking work, let running handlers finish (bounded), commit what is done, leave."""
        if not self._running:
            return
        self.stopping = True
        fetch, commit, send, behind = self._tasks
        self.catch_up.wake.set()
        await asyncio.gather(fetch, behind, return_exceptions=True)
        await self._close_pairs(list(self.pairs.values()))
        commit.cancel()
        send.cancel()
        await asyncio.gather(commit, send, return_exceptions=True)
        consumer, catch_up, producer = self.reader.consumer, self.catch_up.consumer, self.copies.producer
        assert consumer is not None and producer is not None and catch_up is not None
        await consumer.stop()
        await catch_up.stop()
        await producer.stop()
        await self.lateness.stop()
        self._running = False

    def _late(self) -> bool:
        """The event loop runs late enough that an AGS with a backlog is held back (`lateness`)."""
        hold = self.config.hold_late_ms
        return hold is not None and self.lateness.late_ms >= hold

    # ------------------------------------------------------------------ rebalance

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._generation += 1
        self._joined = True
        if assigned:
            assert self.reader.consumer is not None
            self.reader.consumer.pause(*assigned)  # nothing is read before its pair is set up
            self.unsetup |= assigned

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._generation += 1
        self.unsetup -= revoked
        pairs = {route[0] for tp in revoked if (route := self.routes.get(tp)) is not None}
        for tp in revoked:
            self.routes.pop(tp, None)
        if pairs:
            log.info("engine %s: revoked %d partitions, draining", self.group_id, len(pairs))
            await self._close_pairs(list(pairs))

    async def setup_pairs(self) -> None:
        """Build the state of newly assigned partitions; their retry/DLQ backlog is read first."""
        consumer = self.reader.consumer
        assert consumer is not None
        generation = self._generation
        tps, self.unsetup = self.unsetup, set()
        complete, incomplete = self.topology.pairs_of(tps)
        for key in incomplete:
            log.error(
                "engine %s: %s lacks its source, retry or DLQ partition; not consumed", self.group_id, key
            )
        if not complete:
            return
        side = [tp for members in complete.values() for inp, tp in members.items() if inp is not Input.SOURCE]
        everything = [tp for members in complete.values() for tp in members.values()]
        try:
            begin = await consumer.beginning_offsets(side)
            end = await consumer.end_offsets(side)
            committed = {tp: await consumer.committed(tp) for tp in everything}
        except KafkaError as exc:  # retried on the next turn of the fetch loop
            log.warning("engine %s: cannot set up partitions yet (%s)", self.group_id, exc)
            if generation == self._generation:
                self.unsetup |= tps
            return
        if generation != self._generation:
            return
        for (topic, partition), members in complete.items():
            starts: dict[Input, int | None] = {Input.SOURCE: committed[members[Input.SOURCE]]}
            for inp in (Input.RETRY, Input.DLQ):
                tp = members[inp]
                starts[inp] = max(committed[tp] or 0, begin[tp])
            ends = {Input.RETRY: end[members[Input.RETRY]], Input.DLQ: end[members[Input.DLQ]]}
            self._open_pair(topic, partition, members, starts, ends)

    def _open_pair(
        self,
        topic: str,
        partition: int,
        members: dict[Input, TopicPartition],
        starts: dict[Input, int | None],
        ends: dict[Input, int],
    ) -> None:
        """Start a pair in recovery: its retry and DLQ partitions are read up to `ends` first."""
        work = PartitionWork(
            config=self.config,
            group=self.group_id,
            topic=topic,
            partition=partition,
            positions=(starts[Input.SOURCE], starts[Input.RETRY], starts[Input.DLQ]),
            recovering=True,
            on_defer=functools.partial(self.metrics.add, "deferred"),
            late=self._late,
        )
        pair = Pair(work=work, tps=dict(members), targets=ends)
        pair.paused = {Input.SOURCE, Input.RETRY, Input.DLQ}
        self.pairs[(topic, partition)] = pair
        for inp, tp in members.items():
            self.routes[tp] = (pair, inp)
        self.reader.set_paused(pair, Input.RETRY, False)
        self.reader.set_paused(pair, Input.DLQ, False)
        self.advance(pair)

    async def _close_pairs(self, pairs: list[Pair]) -> None:
        """Finish (or, after `drain_timeout_s`, abandon) running work, then commit what is done."""
        for pair in pairs:
            pair.work.closing = True
            pair.dismiss_idle()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.drain_timeout_s
        while any(p.tasks or p.outstanding for p in pairs) and self.fatal is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), min(remaining, 0.1))
        abandoned = [t for p in pairs for t in p.tasks]
        for task in abandoned:
            task.cancel()
        if abandoned:
            log.warning("engine %s: abandoned %d running handlers", self.group_id, len(abandoned))
            await asyncio.gather(*abandoned, return_exceptions=True)
        await self.commits.commit(pairs)
        for pair in pairs:
            pair.closed = True
            key = (pair.work.topic, pair.work.partition)
            if self.pairs.get(key) is pair:
                del self.pairs[key]
            for tp in pair.tps.values():
                if self.routes.get(tp, (None,))[0] is pair:
                    del self.routes[tp]
        if self.catch_up.reads(pairs):
            self.catch_up.assign()

    # ------------------------------------------------------------------ progress

    def advance(self, pair: Pair) -> None:
        """Admit stashed records that now fit, finish recovery, never deadlock, start work."""
        if pair.closed:
            return
        work = pair.work
        reader = self.reader
        for inp in (Input.RETRY, Input.SOURCE):
            stash = pair.stash[inp]
            while stash and reader.admit(pair, inp, stash[0]):
                stash.popleft()
            if not stash and inp in pair.paused and not (inp is Input.SOURCE and work.recovering):
                reader.set_paused(pair, inp, False)
        if work.recovering and all(
            (work.trackers[inp].position or 0) >= target for inp, target in pair.targets.items()
        ):
            work.recovered()
            if not pair.stash[Input.SOURCE]:
                reader.set_paused(pair, Input.SOURCE, False)
            log.info("engine %s: %s[%d] recovered", self.group_id, work.topic, work.partition)
        if work.cursor is not None or pair.behind:
            self.catch_up.catch_up(pair)
        if not work.recovering and work.idle:
            # Nothing can finish to make room: take one waiting record over the bound.
            if pair.behind and work.cursor is not None:
                _, writes = work.admit_catchup(pair.behind.popleft(), force=True)
                self.copies.send(pair, writes)
            else:
                for inp in (Input.RETRY, Input.SOURCE):
                    stash = pair.stash[inp]
                    if stash:
                        reader.admit(pair, inp, stash.popleft(), force=True)
                        break
        self.runner.pump(pair)
