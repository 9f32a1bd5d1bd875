"""The storm's faults: SIGKILL of every service process, broker and PostgreSQL restarts, one at a time.

Each fault is followed by its recovery time: until the process answers again and each of its service's
consumer groups is caught up (its lag back at or below what it was before the fault, or ``CAUGHT_UP``
records); for intake's relay, until the outbox backlog is; for the broker and PostgreSQL, until every
service's outbox and every group is. The outboxes first: while the broker is away the relays cannot
send, so the events of those seconds wait in the outboxes, not in Kafka, and the groups' lag right after
the restart is what it was before it. Each group on its own: the sum of every group's steady lag
(commits come once a second) would exceed any one threshold once the day runs fast enough. The lag
leaves out the flooding municipality's partition of each topic: its backlog is held back by design (the
engine's fair turns) and drains after the flood, so it would measure the flood, not the recovery; it is
recorded beside each recovery instead.
The next fault comes a random moment after that, so that each recovery is measured on its own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from systemday.stack import Broker, Postgres, Processes, log
from wegweiser.common.topics import wait_for_partitions

CAUGHT_UP = 200  # records of lag in one group that count as caught up while the flood goes on
GIVE_UP_S = 180.0


def partition_for(key: str, partitions: int) -> int:
    """The partition of a record key (the Kafka clients' murmur2 partitioner)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class Lag:
    """The lag of the run's consumer groups per service, read from the broker; without the partitions
    that carry ``flooded`` (the flooding municipality's key), whose lag ``flooded_lag`` keeps apart."""

    bootstrap: str
    prefix: str
    flooded: str | None = None
    flooded_lag: int | None = None

    async def by_group(self) -> dict[str, int]:
        """Records behind per consumer group of the run (its prefix removed), retry and DLQ included;
        the flooded partitions' lag of all groups goes to ``flooded_lag``."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, request_timeout_ms=5000)
        await admin.start()
        await consumer.start()
        try:
            groups = [g for g, _ in await admin.list_consumer_groups() if g.startswith(f"{self.prefix}-")]
            committed: dict[str, dict[TopicPartition, int]] = {}
            for group in groups:
                offsets = await admin.list_consumer_group_offsets(group)
                committed[group] = {tp: o.offset for tp, o in offsets.items() if o.offset >= 0}
            parts = {tp for offsets in committed.values() for tp in offsets}
            ends = await consumer.end_offsets(list(parts)) if parts else {}
            topics = sorted({tp.topic for tp in parts})
            counts = await wait_for_partitions(admin, topics, timeout_s=5) if parts else {}
        finally:
            await consumer.stop()
            await admin.close()
        flooded = {
            TopicPartition(topic, partition_for(self.flooded, n))
            for topic, n in counts.items()
            if self.flooded
        }
        behind = {
            group: {tp: max(0, ends[tp] - at) for tp, at in offsets.items()}
            for group, offsets in committed.items()
        }
        self.flooded_lag = sum(n for lags in behind.values() for tp, n in lags.items() if tp in flooded)
        return {
            group.removeprefix(f"{self.prefix}-"): sum(n for tp, n in lags.items() if tp not in flooded)
            for group, lags in behind.items()
        }

    async def of(self, service: str | None) -> dict[str, int] | None:
        """Lag per group of one service (of every service for None); None while the broker does not answer."""
        try:
            groups = await self.by_group()
        except Exception:  # the broker restarting: not caught up
            self.flooded_lag = None
            return None
        return {g: n for g, n in groups.items() if service is None or g.split("-")[0] == service}


class Outboxes:
    """Each service's unpublished outbox records, through one engine per database for the whole plan:
    a recovery is polled every 0.5 s, and an engine of its own per look cost a new connection to each
    of four databases twice a second on the cores whose recovery is measured."""

    def __init__(self, databases: dict[str, str]) -> None:
        self._engines = {service: create_async_engine(url) for service, url in databases.items()}

    async def backlog(self, service: str) -> int | None:
        try:
            async with self._engines[service].connect() as conn:
                query = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                return int((await conn.execute(query)).scalar_one())
        except Exception:  # PostgreSQL restarting (a pooled connection is replaced): not caught up
            return None

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()


@dataclass
class Faults:
    """Runs the fault plan against the stack and records what each fault cost."""

    processes: Processes
    broker: Broker
    postgres: Postgres
    lag: Lag
    databases: dict[str, str]  # service -> its database, whose outbox its relay drains
    recoveries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.outboxes = Outboxes(self.databases)

    def plan(
        self, rng: random.Random, *, kills_each: int, broker_restarts: int, postgres_restarts: int
    ) -> list[str]:
        killable = [n for n, p in self.processes.processes.items() if not n.startswith("partner")]
        plan = killable * kills_each + ["broker"] * broker_restarts + ["postgres"] * postgres_restarts
        rng.shuffle(plan)
        return plan

    async def run(self, plan: list[str], rng: random.Random, stop: Callable[[], bool]) -> None:
        try:
            await self._run(plan, rng, stop)
        finally:
            await self.outboxes.close()

    async def _run(self, plan: list[str], rng: random.Random, stop: Callable[[], bool]) -> None:
        for n, target in enumerate(plan, 1):
            if stop():
                break
            await asyncio.sleep(rng.uniform(1.0, 5.0))
            log(f"fault {n}/{len(plan)}: {target}")
            seconds = await self.fault(target)
            await self.lag.of(None)  # read once more for the flooded partitions' lag at this moment
            flooded = self.lag.flooded_lag
            self.recoveries.append(
                {"target": target, "recovery_s": round(seconds, 1), "flooded_partitions_lag": flooded}
            )
            log(
                f"fault {n}/{len(plan)}: {target} recovered in {seconds:.1f} s "
                f"(the flooded partitions' lag, apart: {flooded})"
            )

    async def fault(self, target: str) -> float:
        service = None if target in ("broker", "postgres") else self.processes.processes[target].group_service
        before = await self._backlog(target, service)
        started = time.monotonic()
        if target == "broker":
            await asyncio.to_thread(self.broker.restart)
        elif target == "postgres":
            await asyncio.to_thread(self.postgres.restart)
        else:
            self.processes.kill(target)
            await asyncio.sleep(1.0)  # the orchestrator notices and starts it again
            self.processes.start(target)
        await self._recovered(target, service, before or {}, started)
        return time.monotonic() - started

    async def _backlog(self, target: str, service: str | None) -> dict[str, int] | None:
        """What must drain after the fault, per consumer group (the outbox for the relay); None: unknown."""
        if target == "intake-relay":
            outbox = await self.outboxes.backlog("intake")
            return None if outbox is None else {"outbox": outbox}
        if service == "intake":
            return {}
        if service is None:  # the broker or PostgreSQL: every outbox, read before the groups' lag
            backlog: dict[str, int] = {}
            for name in self.databases:
                outbox = await self.outboxes.backlog(name)
                if outbox is None:
                    return None
                backlog[f"outbox-{name}"] = outbox
            groups = await self.lag.of(None)
            return None if groups is None else backlog | groups
        return await self.lag.of(service)

    async def _recovered(
        self, target: str, service: str | None, before: dict[str, int], started: float
    ) -> None:
        """Until the processes answer and each group is back at its lag before the fault, or ``CAUGHT_UP``."""
        names = [target] if service is not None else list(self.processes.processes)
        shown = started
        while time.monotonic() - started < GIVE_UP_S:
            states = [
                await asyncio.to_thread(self.processes.unready, self.processes.processes[n]) for n in names
            ]
            backlog = None if any(states) else await self._backlog(target, service)
            behind = (
                None
                if backlog is None
                else {g: n for g, n in backlog.items() if n > max(before.get(g, 0), CAUGHT_UP)}
            )
            if behind == {}:
                return
            if time.monotonic() - shown >= 5:  # what it still waits for: readiness, or which groups
                shown = time.monotonic()
                silent = [f"{n} {why}" for n, why in zip(names, states, strict=True) if why]
                log(
                    f"{target} +{shown - started:.0f} s: "
                    + (f"not ready: {', '.join(silent)}; " if silent else "")
                    + f"behind: {'unknown' if behind is None else behind}"
                )
            await asyncio.sleep(0.5)
        log(f"{target}: not caught up after {GIVE_UP_S:.0f} s")
