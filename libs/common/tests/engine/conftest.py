"""Helpers for the engine's integration tests: fresh topics, test events, an in-memory inbox."""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from wegweiser.common.engine import Record

MakeTopic = Callable[..., Awaitable[str]]


@dataclass(frozen=True)
class SampleEvent:
    ce_id: str
    subject: str
    ags: str


def make_events(n: int, *, subjects: int, ags: list[str], seed: int) -> list[SampleEvent]:
    """`n` events over `subjects` aggregates; each aggregate belongs to one AGS."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.randrange(subjects)
        out.append(
            SampleEvent(str(uuid.UUID(int=rng.getrandbits(128))), f"agg-{seed}-{s}", ags[s % len(ags)])
        )
    return out


async def produce(
    bootstrap: str, topic: str, events: list[SampleEvent], *, ce_type: str = "test.event.v1"
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                key=ev.ags.encode(),
                value=b'{"n": 1}',
                headers=[
                    ("ce_id", ev.ce_id.encode()),
                    ("ce_type", ce_type.encode()),
                    ("ce_subject", ev.subject.encode()),
                    ("ce_source", b"/test"),
                ],
            )
            for ev in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def fails(ce_id: str, attempt: int, *, rate: float, seed: int) -> bool:
    """A deterministic coin: does this attempt of this event fail?"""
    digest = hashlib.sha256(f"{seed}:{ce_id}:{attempt}".encode()).digest()
    return digest[0] / 256 < rate


@dataclass
class Inbox:
    """The services' inbox in miniature: effects applied once, in the order they happened."""

    applied: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seen: set[str] = field(default_factory=set)
    calls: int = 0

    def apply(self, record: Record) -> bool:
        self.calls += 1
        assert record.ce_id is not None and record.subject is not None
        if record.ce_id in self.seen:
            return False
        self.seen.add(record.ce_id)
        self.applied[record.subject].append(record.ce_id)
        return True

    def order_violations(self, events: list[SampleEvent]) -> list[str]:
        """Aggregates whose applied events are not in produce order (a prefix of it)."""
        expected: dict[str, list[str]] = defaultdict(list)
        for ev in events:
            expected[ev.subject].append(ev.ce_id)
        return [s for s, ids in self.applied.items() if ids != expected[s][: len(ids)]]


async def wait_until(
    predicate: Callable[[], bool], *, limit_s: float = 90.0, what: str = "condition"
) -> None:
    """Poll until `predicate()`; the limit is only a safety net against a hang, not an assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def make_topic(kafka_bootstrap: str) -> AsyncIterator[MakeTopic]:
    """Create uniquely named topics; delete them and the engine's retry/DLQ topics afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def make(partitions: int = 1, retention_ms: int | None = None, compacted: bool = False) -> str:
        name = f"test.engine.{uuid.uuid4().hex[:10]}"
        configs = {"retention.ms": str(retention_ms)} if retention_ms else {}
        if compacted:
            configs["cleanup.policy"] = "compact"
        await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)])
        created.append(name)
        return name

    yield make
    names = await admin.list_topics()
    doomed = [n for n in names if any(n == c or n.startswith(c + ".") for c in created)]
    if doomed:
        await admin.delete_topics(doomed)
    await admin.close()


@pytest.fixture(scope="session")
def kit() -> object:
    """These helpers, for test modules (importlib import mode cannot import a conftest)."""
    import sys

    return sys.modules[__name__]
