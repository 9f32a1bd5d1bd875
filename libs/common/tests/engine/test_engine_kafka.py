"""The engine against the real broker: order, isolation, durability, rebalance, operator round trip.

Assertions are about order and progress only; waits poll for progress with a generous safety
timeout and never assert on elapsed time.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from wegweiser.common.engine import ConsumerEngine, EngineConfig, MalformedRecord, Record
from wegweiser.common.engine.dlq_command import discard_entries, list_entries, replay_entries, show_entry
from wegweiser.common.engine.retry_topics import (
    dlq_topic,
    ensure_topics,
    partition_counts,
    retention_ms,
    retry_topic,
)

pytestmark = pytest.mark.integration

AGS = ["08111000", "08212000", "08221000", "08311000", "08416041", "08425020"]
FAST = {
    "backoff_initial_s": 0.02,
    "backoff_max_s": 0.1,
    "commit_interval_s": 0.2,
    "session_timeout_ms": 6_000,
    "heartbeat_interval_ms": 500,
    "drain_timeout_s": 10.0,
}
DAY = 24 * 3600 * 1000


def engine(bootstrap: str, group: str, topic: str, handler: Any, **config: Any) -> ConsumerEngine:
    return ConsumerEngine(
        bootstrap_servers=bootstrap,
        group_id=group,
        topics=[topic],
        handler=handler,
        config=EngineConfig(**{**FAST, **config}),
        kreis_of=lambda ags: ags[:5],
    )


async def test_start_creates_retry_and_dlq_topics_shaped_like_the_source(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic
) -> None:
    topic = await make_topic(partitions=3, retention_ms=30 * DAY)
    await ensure_topics(
        bootstrap_servers=kafka_bootstrap, topics=[topic], group="casework", config=EngineConfig()
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        retry, dlq = retry_topic(topic, "casework"), dlq_topic(topic, "casework")
        assert await partition_counts(admin, [retry, dlq]) == {retry: 3, dlq: 3}
        assert await retention_ms(admin, [retry, dlq]) == {retry: 7 * DAY, dlq: 30 * DAY}
    finally:
        await admin.close()


async def test_dlq_of_a_compacted_source_keeps_the_configured_retention(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic
) -> None:
    """A compacted topic keeps its latest records forever: the broker's 7-day default must not cap the DLQ."""
    topic = await make_topic(partitions=1, compacted=True)
    config = EngineConfig(dlq_retention_ms=90 * DAY)
    await ensure_topics(bootstrap_servers=kafka_bootstrap, topics=[topic], group="casework", config=config)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        dlq = dlq_topic(topic, "casework")
        assert await retention_ms(admin, [topic, dlq]) == {topic: -1, dlq: 90 * DAY}
    finally:
        await admin.close()


@pytest.mark.parametrize("seed", [1, 2])
async def test_order_per_aggregate_holds_under_concurrency_random_delays_and_failures(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit, seed: int
) -> None:
    topic = await make_topic(partitions=2)
    events = kit.make_events(1500, subjects=80, ags=AGS, seed=seed)
    await kit.produce(kafka_bootstrap, topic, events)
    inbox = kit.Inbox()
    rng = random.Random(seed)
    failures = 0

    async def handle(record: Record) -> None:
        nonlocal failures
        await asyncio.sleep(rng.random() * 0.003)
        if kit.fails(record.ce_id, record.attempt, rate=0.15, seed=seed):
            failures += 1
            raise RuntimeError("flaky dependency")
        inbox.apply(record)

    e = engine(kafka_bootstrap, f"order-{uuid.uuid4().hex[:8]}", topic, handle, max_attempts=30)
    await e.start()
    try:
        await kit.wait_until(lambda: len(inbox.seen) == len(events), what="every event applied")
    finally:
        await e.stop()
    assert failures > 100  # the retry path was exercised
    assert inbox.order_violations(events) == []
    assert inbox.seen == {ev.ce_id for ev in events}


async def test_parked_aggregate_waits_while_others_flow_across_a_restart_until_the_operator_acts(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit
) -> None:
    topic = await make_topic(partitions=1)
    group = f"park-{uuid.uuid4().hex[:8]}"
    x, y = "08111000", "08212000"
    a = [kit.SampleEvent(str(uuid.uuid4()), "case-A", x) for _ in range(4)]
    b = [kit.SampleEvent(str(uuid.uuid4()), "case-B", x) for _ in range(2)]
    ys = kit.make_events(200, subjects=40, ags=[y], seed=7)
    broken = {a[0].ce_id}
    malformed = {b[0].ce_id}
    inbox = kit.Inbox()

    async def handle(record: Record) -> None:
        if record.ce_id in malformed:
            raise MalformedRecord("unknown ce_type")
        if record.ce_id in broken:
            raise RuntimeError("constraint violated")
        inbox.apply(record)

    await kit.produce(kafka_bootstrap, topic, [a[0], b[0], a[1], b[1], *ys[:100], a[2]])
    first = engine(kafka_bootstrap, group, topic, handle, max_attempts=3)
    await first.start()
    try:
        # X's aggregates are parked; Y's later events are all processed.
        await kit.wait_until(lambda: all(ev.ce_id in inbox.seen for ev in ys[:100]), what="Y processed")

        async def dead_ids() -> set[str | None]:
            return {
                e.ce_id
                for e in await list_entries(bootstrap_servers=kafka_bootstrap, group=group)
                if e.kind == "dead"
            }

        for _ in range(200):
            if await dead_ids() == {a[0].ce_id, b[0].ce_id}:
                break
            await asyncio.sleep(0.05)
        assert await dead_ids() == {a[0].ce_id, b[0].ce_id}
        assert "case-A" not in inbox.applied and "case-B" not in inbox.applied
    finally:
        await first.stop()

    # A restart keeps them parked: new events of A wait, Y continues.
    await kit.produce(kafka_bootstrap, topic, [a[3], *ys[100:]])
    second = engine(kafka_bootstrap, group, topic, handle, max_attempts=3)
    await second.start()
    try:
        await kit.wait_until(lambda: all(ev.ce_id in inbox.seen for ev in ys), what="more Y processed")
        entries = await list_entries(bootstrap_servers=kafka_bootstrap, group=group, ags=x)
        assert "case-A" not in inbox.applied and "case-B" not in inbox.applied
        by_id = {e.ce_id: e for e in entries}
        dead_a, dead_b = by_id[a[0].ce_id], by_id[b[0].ce_id]
        assert (dead_a.kind, dead_a.meta.attempt, dead_a.meta.error_type) == ("dead", 3, "RuntimeError")
        assert (dead_b.kind, dead_b.meta.attempt, dead_b.meta.error_type) == ("dead", 1, "MalformedRecord")
        assert (dead_a.meta.src_topic, dead_a.meta.src_partition, dead_a.meta.src_offset) == (topic, 0, 0)
        assert dead_a.meta.group == group and dead_a.header("ce_source") == "/test"
        assert {by_id[ev.ce_id].kind for ev in (a[1], a[2], a[3], b[1])} == {"parked"}
        assert await list_entries(bootstrap_servers=kafka_bootstrap, group=group, ags=y) == []
        only_dead = await list_entries(bootstrap_servers=kafka_bootstrap, group=group, include_parked=False)
        assert {e.ce_id for e in only_dead} == {a[0].ce_id, b[0].ce_id}
        assert await list_entries(bootstrap_servers=kafka_bootstrap, group=group, older_than_s=3600) == []
        assert await list_entries(bootstrap_servers=kafka_bootstrap, group=group, ce_type="other.v1") == []
        shown = await show_entry(bootstrap_servers=kafka_bootstrap, entry_id=dead_a.id)
        assert shown is not None and shown.ce_id == a[0].ce_id

        # The operator fixes A and replays it, and discards B's malformed event.
        broken.clear()
        replayed = await replay_entries(bootstrap_servers=kafka_bootstrap, entry_ids=[dead_a.id])
        discarded = await discard_entries(bootstrap_servers=kafka_bootstrap, entry_ids=[dead_b.id])
        assert replayed[0].startswith("replayed ") and "retry" in replayed[0]
        assert discarded[0].startswith("discarded ")
        again = await replay_entries(bootstrap_servers=kafka_bootstrap, entry_ids=[dead_a.id])
        # Not replayed twice: either the replay is still on its way, or the running engine has applied
        # it and released the entry already (which of the two depends on how fast it was).
        assert "already replayed" in again[0] or "already released" in again[0], again
        await kit.wait_until(
            lambda: len(inbox.applied["case-A"]) == 4 and len(inbox.applied["case-B"]) == 1,
            what="A and B un-parked",
        )
        assert inbox.applied["case-A"] == [ev.ce_id for ev in a]  # the original ce_id, in order
        assert inbox.applied["case-B"] == [b[1].ce_id]
        for _ in range(200):  # the engine marks the parked entries it applied
            if not await list_entries(bootstrap_servers=kafka_bootstrap, group=group):
                break
            await asyncio.sleep(0.05)
        assert await list_entries(bootstrap_servers=kafka_bootstrap, group=group) == []
    finally:
        await second.stop()


async def test_a_flooding_ags_is_deferred_and_caught_up_while_others_keep_flowing(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit
) -> None:
    topic = await make_topic(partitions=1)
    flood = kit.make_events(1500, subjects=40, ags=["08111000"], seed=21)
    quiet = kit.make_events(150, subjects=30, ags=["08212000", "08311000"], seed=22)
    # The flood first, then the quiet municipalities' events interleaved with more of it.
    interleaved = [ev for pair in zip(flood[600:750], quiet, strict=True) for ev in pair]
    events = [*flood[:600], *interleaved, *flood[750:]]
    await kit.produce(kafka_bootstrap, topic, events)
    inbox = kit.Inbox()
    quiet_ids = {ev.ce_id for ev in quiet}

    async def handle(record: Record) -> None:
        await asyncio.sleep(0.002)
        inbox.apply(record)

    e = engine(
        kafka_bootstrap,
        f"flood-{uuid.uuid4().hex[:8]}",
        topic,
        handle,
        max_buffered_per_ags=25,
        max_buffered_per_partition=200,
        max_in_flight_per_ags=4,
    )
    await e.start()
    try:
        await kit.wait_until(lambda: quiet_ids <= inbox.seen, what="the quiet AGS processed")
        assert len(inbox.seen) < len(events)  # ... while the flood is still being worked off
        await kit.wait_until(lambda: len(inbox.seen) == len(events), what="every event applied")
    finally:
        await e.stop()
    assert sum(e.metrics.counts["deferred"].values()) > 0
    assert inbox.order_violations(events) == []


async def test_two_instances_with_rebalances_mid_stream_lose_nothing_and_keep_order(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit
) -> None:
    topic = await make_topic(partitions=4)
    group = f"rebalance-{uuid.uuid4().hex[:8]}"
    events = kit.make_events(1200, subjects=60, ags=AGS, seed=5)
    await kit.produce(kafka_bootstrap, topic, events)
    inbox = kit.Inbox()
    applied_by: dict[str, int] = {"first": 0, "second": 0}

    def handler(name: str) -> Any:
        async def handle(record: Record) -> None:
            await asyncio.sleep(0.01)
            if kit.fails(record.ce_id, record.attempt, rate=0.1, seed=5):
                raise RuntimeError("flaky")
            if inbox.apply(record):
                applied_by[name] += 1

        return handle

    first = engine(kafka_bootstrap, group, topic, handler("first"), max_in_flight_per_ags=1, max_attempts=30)
    second = engine(
        kafka_bootstrap, group, topic, handler("second"), max_in_flight_per_ags=1, max_attempts=30
    )
    await first.start()
    try:
        await kit.wait_until(lambda: len(inbox.seen) >= 300, what="first progress")
        await second.start()  # rebalance while the first is busy
        await kit.wait_until(lambda: second.ready, what="second joined")
        assert len(inbox.seen) < len(events)
        await kit.wait_until(lambda: applied_by["second"] >= 100, what="second progress")
        assert len(inbox.seen) < len(events)
        await first.stop()  # and again: the second takes everything over
        await kit.wait_until(lambda: len(inbox.seen) == len(events), what="every event applied")
    finally:
        await first.stop()
        await second.stop()
    assert inbox.order_violations(events) == []
    assert applied_by["first"] > 0 and applied_by["second"] > 0


def _applied(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("SELECT ce_id, subject FROM applied ORDER BY seq").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


async def engine_process(
    bootstrap: str, group: str, topic: str, db: Path, *instance_id: str
) -> asyncio.subprocess.Process:
    """``engine_proc.py`` as a process of its own, to be SIGKILLed (optionally a static member)."""
    script = str(Path(__file__).with_name("engine_proc.py"))
    return await asyncio.create_subprocess_exec(
        sys.executable,
        script,
        bootstrap,
        group,
        topic,
        str(db),
        *instance_id,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_sigkill_mid_stream_then_restart_applies_every_event_exactly_once_in_order(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit, tmp_path: Path
) -> None:
    topic = await make_topic(partitions=3)
    group = f"kill-{uuid.uuid4().hex[:8]}"
    events = kit.make_events(3000, subjects=150, ags=AGS, seed=11)
    await kit.produce(kafka_bootstrap, topic, events)
    db = tmp_path / "service.db"

    async def spawn() -> asyncio.subprocess.Process:
        return await engine_process(kafka_bootstrap, group, topic, db)

    for threshold in (800, 1800):
        proc = await spawn()
        try:
            await kit.wait_until(lambda t=threshold: len(_applied(db)) >= t, what=f"{threshold} applied")
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        assert len(_applied(db)) < len(events)  # killed mid-stream
    proc = await spawn()
    try:
        await kit.wait_until(lambda: len(_applied(db)) >= len(events), limit_s=120, what="all applied")
    finally:
        proc.terminate()
        await proc.wait()
    rows = _applied(db)
    assert len(rows) == len(events) and {r[0] for r in rows} == {ev.ce_id for ev in events}
    inbox = kit.Inbox()
    for ce_id, subject in rows:
        inbox.applied[subject].append(ce_id)
    assert inbox.order_violations(events) == []


async def test_a_static_member_killed_and_restarted_takes_its_partitions_back_at_once(  # type: ignore[no-untyped-def]
    kafka_bootstrap: str, make_topic, kit, tmp_path: Path
) -> None:
    """``WEGWEISER_INSTANCE_ID``: the restarted replica rejoins under its old name and gets its partitions
    back without a rebalance. As a dynamic member it would first wait for the killed one's session (60 s)
    to run out, which the limit below does not allow."""
    topic = await make_topic(partitions=3)
    group = f"static-{uuid.uuid4().hex[:8]}"
    before, after = (
        kit.make_events(300, subjects=30, ags=AGS, seed=12),
        kit.make_events(300, subjects=30, ags=AGS, seed=13),
    )
    db = tmp_path / "service.db"

    async def spawn() -> asyncio.subprocess.Process:
        return await engine_process(kafka_bootstrap, group, topic, db, "replica-1")

    await kit.produce(kafka_bootstrap, topic, before)
    proc = await spawn()
    try:
        await kit.wait_until(lambda: len(_applied(db)) >= len(before), what="the first events applied")
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    await kit.produce(kafka_bootstrap, topic, after)
    proc = await spawn()
    try:
        await kit.wait_until(
            lambda: len(_applied(db)) >= len(before) + len(after), limit_s=30, what="the later events applied"
        )
    finally:
        proc.terminate()
        await proc.wait()
    assert {r[0] for r in _applied(db)} == {ev.ce_id for ev in before + after}


def test_dlq_cli_lists_through_the_broker(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from wegweiser.common.engine.dlq_command import add_dlq_commands

    parser = argparse.ArgumentParser(prog="wegweiser")
    add_dlq_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["dlq", "list", "--group", f"nobody-{uuid.uuid4().hex[:6]}", "--bootstrap-servers", kafka_bootstrap]
    )
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip().endswith("0 entries")
    args = parser.parse_args(["dlq", "replay", "--bootstrap-servers", kafka_bootstrap])
    assert args.func(args) == 1  # nothing selected
