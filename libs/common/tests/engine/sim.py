"""An in-memory model of the three logs around one `PartitionWork`, driven step by step.

It plays the engine's part (fetch, stash, run, write copies, commit) and the broker's (append,
acknowledge later), can crash (restart from the last commit, losing unacknowledged work) and can
play an operator (replay/discard dead entries). Tests drive it with random choices and check what
the handlers applied.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field, replace

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.copy_headers import Kind, Meta, Resolution, join, split
from wegweiser.common.engine.items import Input, Item, Write
from wegweiser.common.engine.record import Record
from wegweiser.common.engine.scheduler import PartitionWork

TOPIC = "t"
GROUP = "g"
NAMES = {Input.SOURCE: TOPIC, Input.RETRY: f"{TOPIC}.retry.{GROUP}", Input.DLQ: f"{TOPIC}.dlq.{GROUP}"}


@dataclass(frozen=True)
class Entry:
    key: str | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp_ms: int


@dataclass
class Event:
    seq: int
    ce_id: str
    subject: str | None
    ags: str


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@dataclass
class Sim:
    config: EngineConfig
    events: list[Event]
    clock: FakeClock = field(default_factory=FakeClock)
    late: bool = False  # the event loop runs late: a deferred AGS is held back (fairness)
    logs: dict[Input, list[Entry]] = field(default_factory=lambda: {i: [] for i in Input})
    committed: dict[Input, int] = field(default_factory=lambda: dict.fromkeys(Input, 0))
    applied: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    inbox: set[str] = field(default_factory=set)
    discarded: set[int] = field(default_factory=set)
    # Malformed events without an aggregate park nothing: replayed, they may come late by design.
    unordered: set[int] = field(default_factory=set)
    applied_unordered: set[int] = field(default_factory=set)
    handler_calls: int = 0
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for ev in self.events:
            headers = [("ce_id", ev.ce_id.encode()), ("ce_type", b"test.v1")]
            if ev.subject is not None:
                headers.append(("ce_subject", ev.subject.encode()))
            self.logs[Input.SOURCE].append(Entry(ev.ags, b"{}", tuple(headers), 1000 + ev.seq))
        self._start(recovering=False)

    # -------------------------------------------------------------- engine side

    def _start(self, *, recovering: bool) -> None:
        positions = (self.committed[Input.SOURCE], self.committed[Input.RETRY], self.committed[Input.DLQ])
        self.work = PartitionWork(
            config=self.config,
            group=GROUP,
            topic=TOPIC,
            partition=0,
            positions=positions,
            recovering=recovering,
            clock=self.clock,
            late=lambda: self.late,
        )
        self.cursor = dict(self.committed)
        self.stash: dict[Input, deque[int]] = {i: deque() for i in Input}
        self.targets = {Input.RETRY: len(self.logs[Input.RETRY]), Input.DLQ: len(self.logs[Input.DLQ])}
        self.running: list[Item] = []
        self.unacked: deque[tuple[Write, int, int | None]] = deque()  # (write, offset, marker_for)
        self._maybe_recovered()

    def crash(self) -> None:
        """SIGKILL: memory, running handlers and unacknowledged acks are gone; the logs stay."""
        self._start(recovering=True)

    def _record(self, inp: Input, offset: int) -> tuple[Record, Meta | None]:
        entry = self.logs[inp][offset]
        if inp is Input.SOURCE:
            return (
                Record(
                    TOPIC,
                    0,
                    offset,
                    entry.key,
                    entry.value,
                    entry.headers,
                    entry.timestamp_ms,
                    1,
                    TOPIC,
                    0,
                    offset,
                ),
                None,
            )
        meta, own = split(entry.headers)
        assert meta is not None
        record = Record(
            NAMES[inp],
            0,
            offset,
            entry.key,
            entry.value,
            own,
            entry.timestamp_ms,
            meta.attempt,
            meta.src_topic or TOPIC,
            meta.src_partition,
            meta.src_offset,
        )
        return record, meta

    def _admit(self, inp: Input, offset: int, force: bool = False) -> bool:
        record, meta = self._record(inp, offset)
        if inp is Input.SOURCE:
            taken, writes = self.work.admit_source(record, force=force)
        elif inp is Input.RETRY:
            assert meta is not None
            taken, writes = self.work.admit_retry(record, meta, force=force)
        else:
            assert meta is not None
            taken, writes = True, self.work.admit_dlq(record, meta)
        self._send(writes)
        return taken

    def fetch(self, inp: Input, n: int) -> bool:
        """Deliver up to n records of `inp` (like getmany); False if nothing was delivered."""
        if inp is Input.SOURCE and self.work.recovering:
            return False  # paused until recovery is complete
        if self.stash[inp]:
            return False  # paused
        log = self.logs[inp]
        delivered = False
        while n > 0 and self.cursor[inp] < len(log):
            offset = self.cursor[inp]
            self.cursor[inp] += 1
            n -= 1
            delivered = True
            key = log[offset].key
            if (  # the engine's fast path for a deferred AGS, taken like in `_take` (by raw key)
                inp is Input.SOURCE
                and not self.stash[inp]
                and key is not None
                and (ags := self.work.deferred_keys.get(key.encode())) is not None
                and self.work.skip_deferred(offset, ags)
            ):
                continue
            if self.stash[inp] or not self._admit(inp, offset):
                self.stash[inp].append(offset)
        self._advance()
        return delivered

    def _advance(self) -> None:
        for inp in (Input.RETRY, Input.SOURCE):
            stash = self.stash[inp]
            while stash and self._admit(inp, stash[0]):
                stash.popleft()
        self._maybe_recovered()
        self.work.caught_up()
        if not self.work.recovering and self.work.idle:
            cursor = self.work.cursor
            if cursor is not None and cursor < len(self.logs[Input.SOURCE]):
                self._send(self.work.admit_catchup(self._record(Input.SOURCE, cursor)[0], force=True)[1])
                return
            for inp in (Input.RETRY, Input.SOURCE):
                if self.stash[inp]:
                    self._admit(inp, self.stash[inp].popleft(), force=True)
                    break

    def catch_up(self, n: int) -> bool:
        """The catch-up reader: re-read up to n source records from the cursor (no read-ahead)."""
        delivered = False
        for _ in range(n):
            cursor = self.work.cursor
            if cursor is None or cursor >= len(self.logs[Input.SOURCE]):
                break
            taken, writes = self.work.admit_catchup(self._record(Input.SOURCE, cursor)[0])
            self._send(writes)
            if not taken:
                break
            delivered = True
        self._advance()
        return delivered

    def _maybe_recovered(self) -> None:
        work = self.work
        if work.recovering and all((work.trackers[i].position or 0) >= t for i, t in self.targets.items()):
            work.recovered()

    def start_one(self) -> bool:
        item = self.work.pick()
        if item is None:
            return False
        cfg = self.config
        lanes = [i.lane for i in self.running]
        if item.lane in lanes:
            self.violations.append(f"two running in lane {item.lane}")
        self.running.append(item)
        if self.work.turns.running > cfg.max_in_flight_per_partition:
            self.violations.append("partition in-flight bound exceeded")
        if self.work.turns.running_by_ags[item.ags] > cfg.max_in_flight_per_ags:
            self.violations.append("AGS in-flight bound exceeded")
        if item.ags in self.work.deferring and self.work.turns.running_by_ags[item.ags] > min(
            cfg.max_in_flight_per_ags, cfg.max_in_flight_per_deferred_ags
        ):
            self.violations.append("a deferred AGS started beyond its in-flight bound")
        return True

    def finish(self, index: int, outcome: str) -> None:
        """outcome: ok | fail | malformed."""
        item = self.running.pop(index)
        self.handler_calls += 1
        record = item.record
        if outcome == "ok":
            ce_id = record.ce_id
            assert ce_id is not None
            if ce_id not in self.inbox:
                self.inbox.add(ce_id)
                self._apply(record)
            markers = self.work.succeeded(item)
            for d in markers:
                self._marker(item, d)
        else:
            writes = self.work.failed(item, error_type="E", message="boom", malformed=outcome == "malformed")
            self._send(writes)
        self._advance()

    def _apply(self, record: Record) -> None:
        if record.source_offset in self.unordered:
            self.applied_unordered.add(record.source_offset)
            return
        lane = record.subject or f"key:{record.key}"
        seen = self.applied[lane]
        if seen and seen[-1] > record.source_offset:
            self.violations.append(f"{lane}: applied {record.source_offset} after {seen[-1]}")
        seen.append(record.source_offset)

    def _send(self, writes: list[Write]) -> None:
        for w in writes:
            if w.meta.kind is Kind.DEAD and not w.meta.parks:
                self.unordered.add(w.meta.src_offset)
            headers = tuple(join(w.record.headers, w.meta))
            log = self.logs[w.target]
            log.append(Entry(w.record.key, w.record.value, headers, self.clock.now))
            self.unacked.append((w, len(log) - 1, None))

    def _marker(self, item: Item, dlq_offset: int) -> None:
        meta = Meta(kind=Kind.RESOLUTION, resolves=dlq_offset, resolution=Resolution.RELEASED, group=GROUP)
        log = self.logs[Input.DLQ]
        log.append(Entry(item.record.key, None, tuple(join((), meta)), self.clock.now))
        self.unacked.append((Write(Input.DLQ, item.record, meta, None), len(log) - 1, dlq_offset))

    def ack(self) -> bool:
        if not self.unacked:
            return False
        write, offset, marker_for = self.unacked.popleft()
        if marker_for is not None:
            self.work.marker_written(marker_for, offset)
            return True
        for d in self.work.written(write, offset):
            assert write.item is not None
            self._marker(write.item, d)
        self._advance()
        return True

    def commit(self) -> None:
        for inp, offset in self.work.commit_offsets().items():
            if offset is not None:
                self.committed[inp] = offset

    def tick(self, ms: int) -> None:
        self.clock.now += ms

    # -------------------------------------------------------------- operator side

    def open_dead(self) -> list[int]:
        """DLQ offsets of dead entries with no resolution yet."""
        resolved = set()
        dead = []
        for offset, entry in enumerate(self.logs[Input.DLQ]):
            meta, _ = split(entry.headers)
            assert meta is not None
            if meta.kind is Kind.RESOLUTION:
                resolved.add(meta.resolves)
            elif meta.kind is Kind.DEAD:
                dead.append(offset)
        return [d for d in dead if d not in resolved]

    def operator(self, dlq_offset: int, *, replay: bool) -> None:
        entry = self.logs[Input.DLQ][dlq_offset]
        meta, own = split(entry.headers)
        assert meta is not None
        marker = Meta(
            kind=Kind.RESOLUTION,
            resolves=dlq_offset,
            resolution=Resolution.REPLAYED if replay else Resolution.DISCARDED,
            group=GROUP,
        )
        if replay:
            marker = replace(marker, retry_offset=len(self.logs[Input.RETRY]))
            copy = Meta(
                kind=Kind.REPLAY,
                attempt=1,
                src_topic=meta.src_topic,
                src_partition=meta.src_partition,
                src_offset=meta.src_offset,
                src_timestamp_ms=meta.src_timestamp_ms,
                group=GROUP,
                replay_of=dlq_offset,
            )
            self.logs[Input.RETRY].append(
                Entry(entry.key, entry.value, tuple(join(own, copy)), self.clock.now)
            )
        else:
            self.discarded.add(meta.src_offset)
        self.logs[Input.DLQ].append(Entry(entry.key, None, tuple(join((), marker)), self.clock.now))

    # -------------------------------------------------------------- ending

    def drain(self, *, resolve: bool = True, rounds: int = 2_000) -> None:
        """Let everything finish: acks, reads, due retries, successful handlers, replays."""
        for _ in range(rounds):
            progressed = False
            while self.ack():
                progressed = True
            for inp in (Input.DLQ, Input.RETRY, Input.SOURCE):
                while self.fetch(inp, 1_000):
                    progressed = True
            while self.catch_up(1_000):
                progressed = True
            self._advance()
            self.tick(10_000_000)
            while self.start_one():
                progressed = True
            while self.running:
                self.finish(0, "ok")
                progressed = True
            if resolve:
                for d in self.open_dead():
                    self.operator(d, replay=True)
                    progressed = True
            if not progressed and not self.unacked:
                return
        raise AssertionError("did not settle")

    def unapplied(self) -> list[int]:
        """Source offsets neither applied nor discarded."""
        done = (
            {off for offs in self.applied.values() for off in offs} | self.discarded | self.applied_unordered
        )
        return [ev.seq for ev in self.events if ev.seq not in done]
