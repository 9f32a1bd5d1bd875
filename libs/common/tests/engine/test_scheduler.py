"""The pure scheduling core: order per aggregate, commit safety, fairness, bounds, overflow, park."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.copy_headers import Kind
from wegweiser.common.engine.items import Input, State
from wegweiser.common.engine.lateness import LoopLateness
from wegweiser.common.engine.record import Record
from wegweiser.common.engine.scheduler import PartitionWork


def _load_sim():  # type: ignore[no-untyped-def]
    """The simulator lives next to this file; load it without making tests a package."""
    name = "engine_sim"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("sim.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sim_module = _load_sim()
Sim, Event = sim_module.Sim, sim_module.Event


def source_record(offset: int, *, ags: str, subject: str | None, topic: str = "t") -> Record:
    headers: list[tuple[str, bytes]] = [("ce_id", f"id-{offset}".encode())]
    if subject is not None:
        headers.append(("ce_subject", subject.encode()))
    return Record(topic, 0, offset, ags, b"{}", tuple(headers), 0, 1, topic, 0, offset)


def work(
    *, clock: Callable[[], int] = lambda: 0, late: Callable[[], bool] = lambda: False, **config: int | float
) -> PartitionWork:
    return PartitionWork(
        config=EngineConfig(**config),
        group="g",
        topic="t",
        partition=0,
        positions=(0, 0, 0),
        clock=clock,
        late=late,
    )


# ---------------------------------------------------------------------- properties (hypothesis)

events_strategy = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", None]), st.sampled_from(["08111000", "08212000", "08311000"])
        ),
        min_size=n,
        max_size=n,
    )
)

configs = st.builds(
    lambda in_flight, per_ags, buffered, buffered_ags, attempts, per_deferred, backlog: EngineConfig(
        max_in_flight_per_partition=in_flight,
        max_in_flight_per_ags=min(per_ags, in_flight),
        max_in_flight_per_deferred_ags=per_deferred,
        max_buffered_per_partition=buffered,
        max_buffered_per_ags=min(buffered_ags, buffered),
        max_attempts=attempts,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        hold_backlog_per_ags=backlog,
    ),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(2, 12),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 4),
)


def build_sim(config: EngineConfig, pairs: list[tuple[str | None, str]]):  # type: ignore[no-untyped-def]
    events = [
        Event(seq=i, ce_id=f"id-{i}", subject=s and f"{s}-{ags}", ags=ags) for i, (s, ags) in enumerate(pairs)
    ]
    return Sim(config=config, events=events)


@settings(
    max_examples=int(os.environ.get("ENGINE_SIM_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(config=configs, pairs=events_strategy, data=st.data())
def test_random_interleavings_keep_order_lose_nothing_and_commit_safely(config, pairs, data) -> None:  # type: ignore[no-untyped-def]
    """Random fetches, completions, failures, acks, commits, crashes and operator actions."""
    note(f"{config!r} {pairs!r}")
    steps = []
    for _ in range(data.draw(st.integers(0, 120), label="steps")):
        action = data.draw(
            st.sampled_from(
                [
                    "fetch_s",
                    "fetch_r",
                    "fetch_d",
                    "catch_up",
                    "start",
                    "finish",
                    "ack",
                    "commit",
                    "tick",
                    "crash",
                    "operator",
                    "late",
                ]
            )
        )
        arg: object = None
        if action.startswith("fetch") or action == "catch_up":
            arg = data.draw(st.integers(1, 5))
        elif action == "finish":
            arg = (
                data.draw(st.integers(0, 7)),
                data.draw(st.sampled_from(["ok", "ok", "ok", "fail", "malformed"])),
            )
        elif action == "tick":
            arg = data.draw(st.integers(0, 60))
        elif action in ("crash", "operator"):
            arg = (data.draw(st.booleans()), data.draw(st.integers(0, 7)))
        elif action == "late":
            arg = data.draw(st.booleans())
        steps.append((action, arg))
    run_steps(config, pairs, steps)


def run_steps(
    config: EngineConfig, pairs: list[tuple[str | None, str]], steps: list[tuple[str, Any]]
) -> None:
    """Play `steps` on a simulator and check order, completeness and commit safety."""
    try:
        _run_steps(config, pairs, steps)
    except AssertionError:
        if path := os.environ.get("ENGINE_SIM_DUMP"):  # for debugging: the failing case, replayable
            Path(path).write_text(json.dumps({"config": config.model_dump(), "pairs": pairs, "steps": steps}))
        raise


def _run_steps(
    config: EngineConfig, pairs: list[tuple[str | None, str]], steps: list[tuple[str, Any]]
) -> None:
    sim = build_sim(config, pairs)
    fetch_inputs = {"fetch_s": Input.SOURCE, "fetch_r": Input.RETRY, "fetch_d": Input.DLQ}
    for action, arg in steps:
        if action in fetch_inputs:
            sim.fetch(fetch_inputs[action], arg)
        elif action == "catch_up":
            sim.catch_up(arg)
        elif action == "start":
            sim.start_one()
        elif action == "finish" and sim.running:
            index, outcome = arg
            sim.finish(index % len(sim.running), outcome)
        elif action == "ack":
            sim.ack()
        elif action == "commit":
            sim.commit()
            for inp, offset in sim.committed.items():
                low = sim.work.trackers[inp].low_water_mark()
                assert low is None or offset <= low, f"{inp.name} committed {offset} past unfinished {low}"
        elif action == "tick":
            sim.tick(arg)
        elif action == "crash" and arg[0]:
            sim.crash()
        elif action == "late":
            sim.late = arg
        elif action == "operator":
            dead = sim.open_dead()
            if dead:
                replay, pick = arg
                sim.operator(dead[pick % len(dead)], replay=replay)
        assert not sim.violations, (sim.violations, pairs, steps)
    sim.drain()
    assert not sim.violations, (sim.violations, pairs, steps)
    assert sim.unapplied() == []
    sim.commit()
    # Once all is done, every commit reaches the end of its log.
    for inp in Input:
        assert sim.committed[inp] == len(sim.logs[inp]), (
            inp,
            sim.committed,
            {i: len(v) for i, v in sim.logs.items()},
        )


@settings(max_examples=150, deadline=None)
@given(config=configs, pairs=events_strategy, data=st.data())
def test_dead_lettered_aggregate_stays_parked_across_crashes(config, pairs, data) -> None:  # type: ignore[no-untyped-def]
    """Nothing of an aggregate after its dead-lettered event is applied until an operator acts."""
    sim = build_sim(config, pairs)
    failing = pairs[0][0] and f"{pairs[0][0]}-{pairs[0][1]}"
    for _ in range(data.draw(st.integers(0, 80))):
        action = data.draw(st.sampled_from(["fetch", "run", "ack", "commit", "crash", "tick"]))
        if action == "fetch":
            for inp in (Input.DLQ, Input.RETRY, Input.SOURCE):
                sim.fetch(inp, 3)
        elif action == "run":
            sim.start_one()
            if sim.running:
                # The first event always fails; everything else succeeds.
                sim.finish(0, "fail" if sim.running[0].seq == 0 else "ok")
        elif action == "ack":
            sim.ack()
        elif action == "commit":
            sim.commit()
        elif action == "crash":
            sim.crash()
        else:
            sim.tick(100)
    # Exhaust event 0's attempts, without operator help.
    for _ in range(50):
        while sim.ack():
            pass
        for inp in (Input.DLQ, Input.RETRY, Input.SOURCE):
            while sim.fetch(inp, 100):
                pass
        sim.tick(10_000_000)
        while sim.start_one():
            pass
        while sim.running:
            sim.finish(0, "fail" if sim.running[0].seq == 0 else "ok")
        if data.draw(st.booleans()):
            sim.commit()
            sim.crash()
    lane = failing or f"key:{pairs[0][1]}"
    assert sim.applied.get(lane, []) == [], "events behind the dead-lettered one were applied"
    assert sim.open_dead(), "event 0 should be dead-lettered"
    assert not sim.violations
    # The operator replays: now everything is applied, in order.
    sim.drain()
    assert sim.unapplied() == []
    assert not sim.violations


FETCH = ("fetch_s", 1)  # the step the simulation drew most: one record from the source topic
START = ("start", None)


def fetches(count: int) -> list[tuple[str, Any]]:
    """``count`` single-record fetches from the source topic in a row."""
    return [FETCH] * count


def limits(*, in_flight: int, in_flight_per_ags: int, buffered: int, buffered_per_ags: int) -> EngineConfig:
    """The small bounds the regressions were found with: one attempt, fast backoff."""
    return EngineConfig(
        max_in_flight_per_partition=in_flight,
        max_in_flight_per_ags=in_flight_per_ags,
        max_buffered_per_partition=buffered,
        max_buffered_per_ags=buffered_per_ags,
        max_attempts=1,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
    )


# Cases the simulation once found (each was a real bug); kept as fixed regressions.
REGRESSIONS = [
    (
        limits(in_flight=2, in_flight_per_ags=2, buffered=2, buffered_per_ags=1),
        [("d", "08111000"), ("a", "08111000"), ("d", "08111000")],
        [
            *fetches(7),
            ("fetch_r", 3),
            FETCH,
            START,
            *fetches(3),
            START,
            *fetches(5),
            START,
            *fetches(7),
            ("finish", (0, "fail")),
            START,
            ("operator", (False, 0)),
            ("fetch_d", 3),
            START,
            *fetches(3),
            ("finish", (1, "ok")),
            ("commit", None),
            *fetches(5),
            ("crash", (True, 0)),
        ],
    ),
    (
        limits(in_flight=1, in_flight_per_ags=1, buffered=4, buffered_per_ags=3),
        [*[("a", "08111000")] * 3, ("a", "08212000"), ("a", "08212000"), *[("a", "08111000")] * 3],
        [
            *fetches(20),
            ("fetch_r", 1),
            ("fetch_r", 1),
            ("fetch_r", 3),
            START,
            ("finish", (0, "ok")),
            START,
            ("finish", (0, "fail")),
            FETCH,
            START,
            START,
            START,
            ("operator", (False, 0)),
            *fetches(3),
            ("fetch_d", 3),
            ("ack", None),
            *fetches(9),
            ("commit", None),
            *fetches(6),
            ("crash", (True, 0)),
        ],
    ),
    (
        limits(in_flight=1, in_flight_per_ags=1, buffered=2, buffered_per_ags=1),
        [("a", "08111000")],
        [*fetches(7), START, *fetches(3), ("finish", (0, "fail")), *fetches(25), ("operator", (False, 0))],
    ),
    (
        limits(in_flight=2, in_flight_per_ags=1, buffered=2, buffered_per_ags=1),
        [("a", "08111000"), ("a", "08111000"), ("a", "08212000")],
        [
            *fetches(7),
            START,
            FETCH,
            START,
            ("finish", (1, "fail")),
            *fetches(3),
            ("finish", (0, "fail")),
            *fetches(6),
            ("fetch_d", 1),
            ("operator", (False, 0)),
            *fetches(2),
            ("operator", (True, 0)),
            *fetches(6),
            ("fetch_d", 3),
            START,
            *fetches(9),
            ("finish", (0, "fail")),
            ("operator", (False, 0)),
        ],
    ),
    (
        limits(in_flight=1, in_flight_per_ags=1, buffered=2, buffered_per_ags=1),
        [
            *[("a", "08111000")] * 19,
            ("b", "08111000"),
            ("b", "08111000"),
            ("a", "08111000"),
            ("a", "08212000"),
            ("a", "08111000"),
        ],
        [*fetches(2), START, *fetches(21), ("finish", (0, "fail"))],
    ),
    (
        limits(in_flight=1, in_flight_per_ags=1, buffered=2, buffered_per_ags=1),
        [*[("a", "08111000")] * 6, ("a", "08212000")],
        [
            *fetches(12),
            ("fetch_r", 1),
            ("fetch_r", 1),
            START,
            START,
            FETCH,
            ("finish", (0, "ok")),
            *fetches(2),
            START,
            ("finish", (0, "fail")),
            START,
            *fetches(3),
            ("fetch_d", 1),
            START,
            ("finish", (0, "fail")),
            *fetches(4),
            ("operator", (False, 0)),
            START,
            ("operator", (True, 0)),
            *fetches(10),
            ("fetch_d", 3),
            FETCH,
            START,
            ("finish", (0, "fail")),
            *fetches(3),
            ("operator", (False, 0)),
        ],
    ),
]


@pytest.mark.parametrize(("config", "pairs", "steps"), REGRESSIONS)
def test_regressions_found_by_the_simulation(config, pairs, steps) -> None:  # type: ignore[no-untyped-def]
    run_steps(config, pairs, steps)


# ---------------------------------------------------------------------- fairness and bounds


def test_round_robin_across_ags_gives_a_quiet_ags_its_turn_despite_a_flood() -> None:
    w = work(max_in_flight_per_partition=4, max_in_flight_per_ags=4, max_buffered_per_ags=1000)
    offset = 0
    for i in range(100):  # flood first: 100 aggregates of Stuttgart
        w.admit_source(source_record(offset, ags="08111000", subject=f"s{i}"))
        offset += 1
    for i in range(3):  # then three small municipalities
        w.admit_source(source_record(offset, ags=f"0841600{i}", subject=f"q{i}"))
        offset += 1
    picked = [w.pick() for _ in range(4)]
    assert [p.ags for p in picked if p] == ["08111000", "08416000", "08416001", "08416002"]


def test_in_flight_per_ags_is_bounded_and_others_get_the_rest() -> None:
    w = work(max_in_flight_per_partition=10, max_in_flight_per_ags=2)
    for i in range(20):
        w.admit_source(source_record(i, ags="A", subject=f"a{i}"))
    for i in range(20, 25):
        w.admit_source(source_record(i, ags="B", subject=f"b{i}"))
    picked = []
    while (item := w.pick()) is not None:
        picked.append(item)
    assert Counter(p.ags for p in picked) == {"A": 2, "B": 2}
    w.succeeded(picked[0])
    assert w.pick() is not None  # a slot of its AGS became free


def test_one_lane_runs_one_event_at_a_time_in_order() -> None:
    w = work()
    for i in range(5):
        w.admit_source(source_record(i, ags="A", subject="case-1"))
    order = []
    while (item := w.pick()) is not None:
        assert w.pick() is None  # the lane is busy
        order.append(item.seq)
        w.succeeded(item)
    assert order == [0, 1, 2, 3, 4]


def test_flooding_ags_is_deferred_instead_of_pausing_the_partition() -> None:
    w = work(max_buffered_per_ags=5, max_buffered_per_partition=50)
    for i in range(20):
        taken, out = w.admit_source(source_record(i, ags="F", subject=f"f{i}"))
        assert taken and not out  # nothing is copied: the records stay in the log
    assert w.buffered["F"] == 5 and w.deferring == {"F": 5} and w.cursor == 5
    assert w.deferred_keys == {b"F": "F"}  # what the main reader skips by, before decoding
    # Another AGS is still admitted, and the commit never passes the first deferred record.
    taken, out = w.admit_source(source_record(20, ags="Q", subject="q"))
    assert taken and not out and w.buffered["Q"] == 1
    assert w.commit_offsets()[Input.SOURCE] == 0
    for item in list(w.items.values()):
        if item.ags == "F":
            w.pick()
            w.succeeded(item)
    assert w.commit_offsets()[Input.SOURCE] == 5


def test_a_deferred_ags_runs_fewer_at_once_until_its_deferral_ends() -> None:
    w = work(
        max_in_flight_per_partition=50,
        max_in_flight_per_ags=6,
        max_in_flight_per_deferred_ags=2,
        max_buffered_per_ags=10,
        max_buffered_per_partition=100,
    )
    for i in range(12):  # F overruns its buffer of 10: deferred from offset 10 on
        w.admit_source(source_record(i, ags="F", subject=f"f{i}"))
    for i in range(12, 20):
        w.admit_source(source_record(i, ags="Q", subject=f"q{i}"))
    assert w.deferring == {"F": 10}
    picked = []
    while (item := w.pick()) is not None:
        picked.append(item)
    assert Counter(p.ags for p in picked) == {"F": 2, "Q": 6}  # Q keeps its full share
    for item in [p for p in picked if p.ags == "F"]:
        w.succeeded(item)
    assert w.caught_up() is False  # the main reader is at 20, the cursor at 10
    assert [w.pick().ags for _ in range(2)] == ["F", "F"] and w.pick() is None  # type: ignore[union-attr]
    for seq in (10, 11):  # the catch-up reader brings F's two back; then it has caught up
        assert w.admit_catchup(source_record(seq, ags="F", subject=f"f{seq}"))[0] is True
    for seq in range(12, 20):
        w.admit_catchup(source_record(seq, ags="Q", subject=f"q{seq}"))
    assert w.caught_up() and not w.deferring
    assert [w.pick().ags for _ in range(4)] == ["F"] * 4  # type: ignore[union-attr]
    assert w.pick() is None  # 6 of F running: its normal cap


def test_a_deferred_ags_is_held_back_while_the_loop_runs_late_but_for_a_trickle() -> None:
    now, late = [0], [True]
    w = work(
        clock=lambda: now[0],
        late=lambda: late[0],
        max_in_flight_per_ags=6,
        max_in_flight_per_deferred_ags=3,
        max_buffered_per_ags=10,
        hold_trickle_s=1.0,
    )
    for i in range(12):  # F overruns its buffer: deferred
        w.admit_source(source_record(i, ags="F", subject=f"f{i}"))
    for i in range(12, 16):
        w.admit_source(source_record(i, ags="Q", subject=f"q{i}"))
    picked = []
    while (item := w.pick()) is not None:
        picked.append(item)
    assert Counter(p.ags for p in picked) == {"F": 1, "Q": 4}  # late: F's one trickle turn
    for item in picked:
        w.succeeded(item)
    now[0] = 999
    assert w.pick() is None and not w.idle  # F waits for its next turn, which time brings
    now[0] = 1000
    first = w.pick()
    assert first is not None and first.ags == "F" and w.pick() is None
    late[0] = False  # the loop is on time again: F runs at its deferred share
    assert [w.pick().ags for _ in range(2)] == ["F", "F"] and w.pick() is None  # type: ignore[union-attr]


def test_a_backlog_short_of_deferral_is_held_back_too_while_the_loop_runs_late() -> None:
    late = [True]
    w = work(late=lambda: late[0], max_in_flight_per_ags=6, max_buffered_per_ags=10, hold_backlog_per_ags=4)
    for i in range(5):  # B: a backlog of 5 (no deferral); Q: two events waiting
        w.admit_source(source_record(i, ags="B", subject=f"b{i}"))
    for i in range(5, 7):
        w.admit_source(source_record(i, ags="Q", subject=f"q{i}"))
    assert not w.deferring
    picked = []
    while (item := w.pick()) is not None:
        picked.append(item)
    assert Counter(p.ags for p in picked) == {"B": 1, "Q": 2}
    for item in picked:
        w.succeeded(item)
    late[0] = False
    assert Counter(w.pick().ags for _ in range(4)) == {"B": 4}  # type: ignore[union-attr]


def test_lateness_rises_at_once_and_falls_off_over_a_few_samples() -> None:
    lateness = LoopLateness()
    lateness.sample(80.0)
    assert lateness.late_ms == 80.0
    lateness.sample(0.0)
    assert 0 < lateness.late_ms < 80.0
    for _ in range(10):
        lateness.sample(-1.0)  # early wake-ups count as on time
    assert lateness.late_ms < 3.0


def test_catch_up_brings_deferred_records_back_in_order_and_then_hands_over() -> None:
    w = work(max_buffered_per_ags=2, max_buffered_per_partition=50)
    records = [source_record(i, ags="F" if i != 3 else "Q", subject="x" if i % 2 else "y") for i in range(6)]
    for r in records:
        w.admit_source(r)
    assert w.deferring == {"F": 2} and w.cursor == 2
    assert w.admit_catchup(records[2])[0] is False  # F still has no room
    for _ in range(2):
        item = w.pick()
        assert item is not None
        w.succeeded(item)
    assert w.admit_catchup(records[2])[0] is True
    assert w.admit_catchup(records[3])[0] is True  # Q's: the main reader had it
    assert w.admit_catchup(records[4])[0] is True
    assert w.admit_catchup(records[5])[0] is False  # F full again (2 and 4)
    order = []
    while (item := w.pick()) is not None:
        order.append(item.seq)
        w.succeeded(item)
    assert sorted(order) == [2, 3, 4] and order.index(2) < order.index(4)  # lane y in order
    assert w.admit_catchup(records[5])[0] is True
    assert w.caught_up() and w.cursor is None and not w.deferring and not w.deferred_keys
    # Back to normal: the next record of F is admitted by the main reader.
    assert w.admit_source(source_record(6, ags="F", subject="y"))[0] and 6 in w.items


def test_full_partition_pauses_only_when_every_ags_together_fills_it() -> None:
    w = work(max_buffered_per_ags=2, max_buffered_per_partition=4)
    results = [w.admit_source(source_record(i, ags=f"A{i}", subject=f"s{i}"))[0] for i in range(5)]
    assert results == [True, True, True, True, False]


def test_failure_parks_the_lane_and_later_events_follow_to_the_retry_topic() -> None:
    w = work(max_attempts=3)
    for i in range(3):
        w.admit_source(source_record(i, ags="A", subject="case-1"))
    w.admit_source(source_record(3, ags="A", subject="case-2"))
    first = w.pick()
    other = w.pick()
    assert first is not None and other is not None and other.lane == ("s", "case-2")
    writes = w.failed(first, error_type="E", message="m", malformed=False)
    assert [(x.meta.kind, x.meta.src_offset) for x in writes] == [
        (Kind.RETRY, 0),
        (Kind.FOLLOWER, 1),
        (Kind.FOLLOWER, 2),
    ]
    assert writes[0].meta.attempt == 2
    # A new event of the parked aggregate goes the same way at once.
    _, out = w.admit_source(source_record(4, ags="A", subject="case-1"))
    assert [(x.meta.kind, x.meta.src_offset) for x in out] == [(Kind.FOLLOWER, 4)]
    # The other lane is unaffected.
    w.succeeded(other)


def test_malformed_without_subject_does_not_park_its_key_lane() -> None:
    w = work()
    w.admit_source(source_record(0, ags="A", subject=None))
    w.admit_source(source_record(1, ags="A", subject=None))
    item = w.pick()
    assert item is not None
    writes = w.failed(item, error_type="E", message="m", malformed=True)
    assert [(x.meta.kind, x.meta.parks) for x in writes] == [(Kind.DEAD, False)]
    nxt = w.pick()
    assert nxt is not None and nxt.seq == 1


def test_malformed_with_subject_parks_its_aggregate() -> None:
    w = work()
    w.admit_source(source_record(0, ags="A", subject="case-1"))
    w.admit_source(source_record(1, ags="A", subject="case-1"))
    item = w.pick()
    assert item is not None
    writes = w.failed(item, error_type="ValidationError", message="m", malformed=True)
    assert [(x.meta.kind, x.meta.src_offset) for x in writes] == [(Kind.DEAD, 0), (Kind.PARKED, 1)]
    assert item.state is State.DEAD
    assert w.pick() is None
    assert w.parked["A"] == 2 and w.buffered["A"] == 0


def test_not_yet_is_tried_each_second_uncounted_until_its_budget_is_spent() -> None:
    """A record waiting for another topic's event (`NotYet`) is no fault: tried again after a second,
    not after a growing back-off, and never dead-lettered while the event is young."""
    now = [0]
    w = work(clock=lambda: now[0], max_attempts=2, not_yet_retry_s=1.0, not_yet_budget_s=60.0)
    config = w.config
    w.admit_source(source_record(0, ags="A", subject="case-1"))  # written at 0 ms
    for tries in range(5):
        item = w.pick()
        assert item is not None and item.seq == 0, tries
        writes = w.failed(item, error_type="PersonKeyNotYetKnown", message="m", malformed=False, not_yet=True)
        assert [(x.meta.kind, x.meta.attempt, x.meta.due_ms) for x in writes] == [
            (Kind.RETRY, 1, now[0] + 1000)
        ]
        assert w.pick() is None  # not before its second is over
        now[0] += 1000
    now[0] = 61_000  # the budget is spent: from here on it counts like any failure, then dead-letters
    item = w.pick()
    assert item is not None
    writes = w.failed(item, error_type="PersonKeyNotYetKnown", message="m", malformed=False, not_yet=True)
    assert [(x.meta.kind, x.meta.attempt) for x in writes] == [(Kind.RETRY, 2)]
    now[0] += config.backoff_ms(1)
    item = w.pick()
    assert item is not None
    writes = w.failed(item, error_type="PersonKeyNotYetKnown", message="m", malformed=False, not_yet=True)
    assert [x.meta.kind for x in writes] == [Kind.DEAD]
