"""The storm's faults: SIGKILL of every service process, broker and PostgreSQL restarts, one at a time.

Each fault is followed by its recovery time: until the process answers again and its service's consumer
groups are caught up (their lag back at or below what it was before the fault, or ``CAUGHT_UP`` records);
for intake's relay, until the outbox backlog is; for the broker and PostgreSQL, until every group is. The
next fault comes a random moment after that, so that each recovery is measured on its own.
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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from systemday.stack import Broker, Postgres, Processes, log

CAUGHT_UP = 200  # records of lag that count as caught up while the flood goes on
GIVE_UP_S = 180.0


@dataclass
class Lag:
    """The lag of the run's consumer groups per service, read from the broker."""

    bootstrap: str
    prefix: str

    async def by_service(self) -> dict[str, int]:
        lag: dict[str, int] = {}
        for group, behind in (await self.by_group()).items():
            service = group.split("-")[0]
            lag[service] = lag.get(service, 0) + behind
        return lag

    async def by_group(self) -> dict[str, int]:
        """Records behind per consumer group of the run (its prefix removed), retry and DLQ included."""
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
        finally:
            await consumer.stop()
            await admin.close()
        return {
            group.removeprefix(f"{self.prefix}-"): sum(max(0, ends[tp] - at) for tp, at in offsets.items())
            for group, offsets in committed.items()
        }

    async def of(self, service: str | None) -> int:
        """One service's total lag (every service's for None); a broker that does not answer is behind."""
        try:
            lag = await self.by_service()
        except Exception:  # the broker restarting: not caught up
            return 10**9
        return sum(lag.values()) if service is None else lag.get(service, 0)


async def outbox_backlog(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            return int((await conn.execute(query)).scalar_one())
    except Exception:  # PostgreSQL restarting: not caught up
        return 10**9
    finally:
        await engine.dispose()


@dataclass
class Faults:
    """Runs the fault plan against the stack and records what each fault cost."""

    processes: Processes
    broker: Broker
    postgres: Postgres
    lag: Lag
    intake_database: str
    recoveries: list[dict[str, Any]] = field(default_factory=list)

    def plan(
        self, rng: random.Random, *, kills_each: int, broker_restarts: int, postgres_restarts: int
    ) -> list[str]:
        killable = [n for n, p in self.processes.processes.items() if not n.startswith("partner")]
        plan = killable * kills_each + ["broker"] * broker_restarts + ["postgres"] * postgres_restarts
        rng.shuffle(plan)
        return plan

    async def run(self, plan: list[str], rng: random.Random, stop: Callable[[], bool]) -> None:
        for n, target in enumerate(plan, 1):
            if stop():
                break
            await asyncio.sleep(rng.uniform(1.0, 5.0))
            log(f"fault {n}/{len(plan)}: {target}")
            seconds = await self.fault(target)
            self.recoveries.append({"target": target, "recovery_s": round(seconds, 1)})
            log(f"fault {n}/{len(plan)}: {target} recovered in {seconds:.1f} s")

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
        await self._recovered(target, service, max(before, CAUGHT_UP), started)
        return time.monotonic() - started

    async def _show_waiting(
        self, target: str, service: str | None, names: list[str], states: list[str | None], started: float
    ) -> None:
        silent = [f"{n} {why}" for n, why in zip(names, states, strict=True) if why]
        try:
            groups = await self.lag.by_group()
        except Exception:  # the broker restarting
            groups = {}
        behind = {g: n for g, n in groups.items() if n and (service is None or g.startswith(service))}
        log(
            f"{target} +{time.monotonic() - started:.0f} s: "
            + (f"not ready: {', '.join(silent)}; " if silent else "")
            + f"behind: {behind or 'nothing'}"
        )

    async def _backlog(self, target: str, service: str | None) -> int:
        if target == "intake-relay":
            return await outbox_backlog(self.intake_database)
        if service == "intake":
            return 0
        return await self.lag.of(service)

    async def _recovered(self, target: str, service: str | None, allowed: int, started: float) -> None:
        names = [target] if service is not None else list(self.processes.processes)
        shown = started
        while time.monotonic() - started < GIVE_UP_S:
            states = [
                await asyncio.to_thread(self.processes.unready, self.processes.processes[n]) for n in names
            ]
            if not any(states) and await self._backlog(target, service) <= allowed:
                return
            if time.monotonic() - shown >= 5:  # what it still waits for: readiness, or which groups
                shown = time.monotonic()
                await self._show_waiting(target, service, names, states, started)
            await asyncio.sleep(0.5)
        log(f"{target}: not caught up after {GIVE_UP_S:.0f} s")
