"""The engine's bookkeeping for one partition, free of I/O so that it can be tested exhaustively.

`PartitionWork` owns source partition *p* together with partition *p* of the group's retry and
dead-letter topics (they are created with the same partition count and read by the same member).
Every event is identified by its source offset (`seq`); copies of it on the retry or dead-letter
topic carry that offset, so a lane (one aggregate) is always ordered by `seq` no matter which topic
a copy was read from, and duplicates of one event merge into one item.

What it decides, the engine executes: it returns `Write`s (copies to the retry or dead-letter
topic) and the engine reports back with `written()` once the broker has acknowledged one.
"""

from __future__ import annotations

import heapq
import itertools
import time
from bisect import insort
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.offsets import OffsetTracker
from wegweiser.common.engine.record import Record
from wegweiser.common.engine.wire import Kind, Meta, Resolution

LaneKey = tuple[str, str]
_UNKNOWN = 2**62  # a retry offset not known yet


class Input(IntEnum):
    SOURCE = 0
    RETRY = 1
    DLQ = 2


class State(Enum):
    QUEUED = 1
    RUNNING = 2
    DEAD = 3  # dead-lettered and parked until an operator replays or discards it


def lane_key(record: Record) -> LaneKey:
    """The unit of ordering: the aggregate (`ce_subject`), else the key, else the whole partition."""
    subject = record.subject
    if subject:
        return ("s", subject)
    if record.key is not None:
        return ("k", record.key)
    return ("p", "")


def wall_clock_ms() -> int:
    """Due times outlive the process (they travel in headers), so they are wall-clock."""
    return int(time.time() * 1000)


@dataclass(eq=False, slots=True)
class Item:
    """One event in memory, with the log positions ("backings") that keep it durable until done."""

    seq: int
    lane: LaneKey
    ags: str
    record: Record
    origin_ts_ms: int
    state: State = State.QUEUED
    due_ms: int = 0
    failed: bool = False  # failed since it was last (re)started: its lane is parked
    parks: bool = True
    to_retry: bool = False  # a copy to the retry topic is on its way
    to_dlq: bool = False
    done: bool = False
    retry_max: int = -1  # highest retry offset of any copy of it, released or not
    backings: list[tuple[Input, int]] = field(default_factory=list)

    @property
    def attempt(self) -> int:
        return self.record.attempt

    def backed_by(self, inp: Input) -> bool:
        return any(b[0] is inp for b in self.backings)

    @property
    def source_only(self) -> bool:
        """Only the source partition holds it: it must be copied before its lane moves elsewhere."""
        return all(b[0] is Input.SOURCE for b in self.backings)


@dataclass(eq=False, slots=True)
class Lane:
    key: LaneKey
    items: list[Item] = field(default_factory=list)  # sorted by seq
    running: Item | None = None
    enqueued: bool = False
    park: Input | None = None  # where its waiting events are kept while its head has failed
    timer_due: int | None = None


@dataclass(slots=True)
class Write:
    """A copy the engine must produce for `item` (None only for the engine's resolution markers)."""

    target: Input
    record: Record
    meta: Meta
    item: Item | None


_NO_WRITES: list[Write] = []
_NO_MARKERS: list[int] = []  # shared and never appended to: callers only iterate


def _seq_of(item: Item) -> int:
    return item.seq


class PartitionWork:
    """Lanes, fair turns across AGS, bounds, and park/retry/dead-letter state of one partition."""

    def __init__(
        self,
        *,
        config: EngineConfig,
        group: str,
        topic: str,
        partition: int,
        positions: tuple[int | None, int | None, int | None] = (None, None, None),
        recovering: bool = False,
        clock: Callable[[], int] = wall_clock_ms,
        on_defer: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.group = group
        self.topic = topic
        self.partition = partition
        self.clock = clock
        self._on_defer = on_defer
        self.trackers = {inp: OffsetTracker(pos) for inp, pos in zip(Input, positions, strict=True)}
        self.lanes: dict[LaneKey, Lane] = {}
        self.items: dict[int, Item] = {}  # by seq
        self.dlq_items: dict[int, Item] = {}  # by dead-letter offset
        self.replayed: set[int] = set()  # dead-letter offsets an operator replayed
        # Events finished by a resolution (discarded, released, or dead-lettered without parking)
        # whose older copies may still be read again (source offset, or a superseded retry copy
        # below the retry commit): seq -> highest retry offset of a copy. Those copies are
        # skipped, and the dead-letter entry stays uncommitted until the source and retry commits
        # have passed them, so that a restart learns the resolution again.
        self.gone: dict[int, int] = {}
        self._gone_by: dict[int, int] = {}  # seq -> the dead-letter entry whose resolution ended it
        self._deferred: list[tuple[int, int]] = []  # (seq, dead-letter offset)
        self.buffered: defaultdict[str, int] = defaultdict(int)
        self.parked: defaultdict[str, int] = defaultdict(int)
        self.buffered_total = 0
        self.running = 0
        self.running_by_ags: defaultdict[str, int] = defaultdict(int)
        # Overflow: AGS with no room leave their records in the source log, skipped from the offset
        # given here on, until the catch-up reader, starting at `cursor`, brings them back.
        self.deferring: dict[str, int] = {}
        self.cursor: int | None = None
        self.recovering = recovering
        self.closing = False
        self._ready: dict[str, deque[Lane]] = {}
        self._rotation: deque[str] = deque()
        self._in_rotation: set[str] = set()
        self._timers: list[tuple[int, int, Lane]] = []
        self._timer_seq = itertools.count()
        self._out: list[Write] = []

    # ------------------------------------------------------------------ admission

    def admit_source(self, record: Record, *, force: bool = False) -> tuple[bool, list[Write]]:
        """Take a source record. False: no room in this partition (keep it, pause the partition)."""
        cfg = self.config
        tracker = self.trackers[Input.SOURCE]
        seq = record.offset
        if seq in self.gone:
            tracker.fetched(seq)
            return True, []
        existing = self.items.get(seq)
        if existing is not None:  # redelivered after a restart: it already has a durable copy
            tracker.fetched(seq)
            if not (existing.backed_by(Input.RETRY) or existing.backed_by(Input.DLQ)):
                tracker.hold(seq)
                existing.backings.append((Input.SOURCE, seq))
            return True, []
        key = lane_key(record)
        ags = record.key or ""
        lane = self.lanes.get(key)
        park = lane.park if lane is not None else None
        if ags in self.deferring or (
            park is not Input.DLQ and not force and self.buffered[ags] >= cfg.max_buffered_per_ags
        ):
            # This AGS has no room: leave the record in the log instead of pausing the partition.
            # From here on all its records are skipped, in order, until the catch-up reader has
            # brought them back; the commit stays at the catch-up cursor meanwhile.
            tracker.fetched(seq)
            if ags not in self.deferring:
                self.deferring[ags] = seq
                if self.cursor is None:
                    self._move_cursor(seq)
            if self._on_defer is not None:
                self._on_defer(ags)
            return True, []
        if park is not None:  # its aggregate waits behind a failed event: keep it with that one
            tracker.fetched(seq)
            tracker.hold(seq)
            item = Item(seq, key, ags, record, record.timestamp_ms, backings=[(Input.SOURCE, seq)])
            self._insert(item)
            self._copy(item, park, Kind.FOLLOWER if park is Input.RETRY else Kind.PARKED)
            return True, self._flush()
        if not force and self.buffered_total >= cfg.max_buffered_per_partition:
            return False, []
        tracker.fetched(seq)
        tracker.hold(seq)
        self._insert(Item(seq, key, ags, record, record.timestamp_ms, backings=[(Input.SOURCE, seq)]))
        return True, self._flush()

    def skip_deferred(self, seq: int, ags: str) -> bool:
        """The main reader's fast path for a source record of an AGS being deferred.

        True when the record was skipped, exactly as `admit_source` would have skipped it, but
        without building its `Record` first: a flood is mostly skipped records.
        """
        if ags not in self.deferring or seq in self.items or seq in self.gone:
            return False
        self.trackers[Input.SOURCE].fetched(seq)
        if self._on_defer is not None:
            self._on_defer(ags)
        return True

    def admit_retry(self, record: Record, meta: Meta, *, force: bool = False) -> tuple[bool, list[Write]]:
        """Take a record of the retry topic (`record.source_offset` is its seq)."""
        cfg = self.config
        tracker = self.trackers[Input.RETRY]
        off = record.offset
        ags = record.key or ""
        if tracker.is_ignored(off):  # our own copy
            tracker.fetched(off)
            return True, []
        if record.source_offset in self.gone and not (
            meta.kind is Kind.REPLAY and meta.replay_of == self._gone_by.get(record.source_offset)
        ):  # a stale copy; only a replay of the very entry that ended it brings it back
            tracker.fetched(off)
            return True, []
        existing = self.items.get(record.source_offset)
        if existing is not None:
            tracker.fetched(off)
            self._merge_retry(existing, meta, off)
            return True, self._flush()
        key = lane_key(record)
        lane = self.lanes.get(key)
        park = lane.park if lane is not None else None
        if (
            not self.recovering
            and not force
            and park is None
            and (
                self.buffered[ags] >= cfg.max_buffered_per_ags
                or self.buffered_total >= cfg.max_buffered_per_partition
            )
        ):
            return False, []
        tracker.fetched(off)
        tracker.hold(off)
        if meta.kind is Kind.REPLAY:
            self.replayed.add(meta.replay_of)
        item = Item(
            record.source_offset,
            key,
            ags,
            record,
            meta.src_timestamp_ms or record.timestamp_ms,
            due_ms=meta.due_ms,
            failed=meta.kind is Kind.RETRY,
            retry_max=off,
            backings=[(Input.RETRY, off)],
        )
        self._insert(item)
        if park is Input.DLQ:
            self._copy(item, Input.DLQ, Kind.PARKED)
        return True, self._flush()

    def admit_dlq(self, record: Record, meta: Meta) -> list[Write]:
        """Take a record of the dead-letter topic: a parked event or an operator's resolution."""
        tracker = self.trackers[Input.DLQ]
        off = record.offset
        if not tracker.fetched(off):
            return []
        if meta.kind is Kind.RESOLUTION:
            item = self.dlq_items.get(meta.resolves)
            if meta.resolution == Resolution.REPLAYED:
                self.replayed.add(meta.resolves)
                if item is not None:  # its replay copy is a copy too: later resolutions must outlast it
                    item.retry_max = max(item.retry_max, meta.retry_offset)
                    if item.state is State.DEAD:
                        self._revive(item)
            elif item is not None and item.state is not State.RUNNING:
                self._drop(item, by=meta.resolves)
            return self._flush()
        if meta.kind is Kind.DEAD and not meta.parks:  # parks nothing: only for the operator
            self._forget(record.source_offset, [off], -1, by=off)
            return []
        if record.source_offset in self.gone:
            return []
        tracker.hold(off)
        dead = meta.kind is Kind.DEAD and off not in self.replayed
        item = self.items.get(record.source_offset)
        if item is None:
            item = Item(
                record.source_offset,
                lane_key(record),
                record.key or "",
                record,
                meta.src_timestamp_ms or record.timestamp_ms,
                state=State.DEAD if dead else State.QUEUED,
                failed=dead,
                backings=[(Input.DLQ, off)],
            )
            self.dlq_items[off] = item
            self._insert(item)
            return self._flush()
        item.backings.append((Input.DLQ, off))
        self.dlq_items[off] = item
        self._release(item, Input.SOURCE, Input.RETRY)  # the dead-letter copy supersedes them
        if dead and item.state is State.QUEUED:
            item.state = State.DEAD
            item.failed = True
        self._changed(self.lanes[item.lane])
        return self._flush()

    # ------------------------------------------------------------------ running

    def pick(self) -> Item | None:
        """Next event to run: round-robin across AGS with ready lanes, within the in-flight bounds."""
        if self.closing or self.recovering:
            return None
        cfg = self.config
        if self.running >= cfg.max_in_flight_per_partition:
            return None
        if self._timers:
            self._poll_timers()
        rotation = self._rotation
        while rotation:
            ags = rotation.popleft()
            queue = self._ready.get(ags)
            if not queue:
                self._in_rotation.discard(ags)
                self._ready.pop(ags, None)
                continue
            if self.running_by_ags[ags] >= cfg.max_in_flight_per_ags:
                self._in_rotation.discard(ags)  # back in turn when one of its events finishes
                continue
            lane = queue.popleft()
            lane.enqueued = False
            if queue:
                rotation.append(ags)
            else:
                self._in_rotation.discard(ags)
                del self._ready[ags]
            if self.lanes.get(lane.key) is not lane or lane.running is not None or not lane.items:
                continue
            head = lane.items[0]
            if head.state is not State.QUEUED:
                continue
            if head.due_ms and head.due_ms > self.clock():
                self._maybe_ready(lane)
                continue
            head.state = State.RUNNING
            lane.running = head
            self.running += 1
            self.running_by_ags[head.ags] += 1
            return head
        return None

    def succeeded(self, item: Item) -> list[int]:
        """The handler finished `item`; returns dead-letter offsets to mark released."""
        lane = self.lanes[item.lane]
        self._unrun(lane, item)
        self._remove(lane, item)
        item.done = True
        backings = item.backings
        if len(backings) == 1 and backings[0][0] is Input.SOURCE:  # the common case
            self.trackers[Input.SOURCE].release(backings[0][1])
            backings.clear()
            markers = _NO_MARKERS
        else:
            markers = [off for inp, off in backings if inp is Input.DLQ]
            self._release(item, Input.SOURCE, Input.RETRY)
            backings.clear()
        if lane.items:
            self._changed(lane)
        elif self.lanes.get(lane.key) is lane:
            del self.lanes[lane.key]
        return markers

    def failed(self, item: Item, *, error_type: str, message: str, malformed: bool) -> list[Write]:
        """The handler raised: retry later (lane parked on the retry topic) or dead-letter."""
        cfg = self.config
        lane = self.lanes[item.lane]
        self._unrun(lane, item)
        if malformed or item.attempt >= cfg.max_attempts:
            # A malformed record without an aggregate parks nothing (its lane is not an aggregate).
            parks = item.lane[0] == "s" if malformed else True
            meta = replace(
                self._meta(Kind.DEAD, item.record, item.origin_ts_ms, attempt=item.attempt),
                parks=parks,
                error_type=error_type,
                error_message=message[:1000],
            )
            item.state = State.DEAD
            item.failed = True
            item.parks = parks
            item.to_dlq = True
            self._out.append(Write(Input.DLQ, item.record, meta, item))
            if not parks:
                self._remove(lane, item)  # its offsets are released when the copy is durable
            self._changed(lane)
            return self._flush()
        item.failed = True
        item.state = State.QUEUED
        item.due_ms = self.clock() + cfg.backoff_ms(item.attempt)
        item.record = replace(item.record, attempt=item.attempt + 1)
        self._copy(item, Input.RETRY, Kind.RETRY)
        self._changed(lane)
        return self._flush()

    def written(self, write: Write, offset: int) -> list[int]:
        """The broker acknowledged `write` at `offset`; returns dead-letter offsets to mark released."""
        target = self.trackers[write.target]
        item = write.item
        assert item is not None
        if write.target is Input.RETRY:
            item.to_retry = False
        else:
            item.to_dlq = False
        if (write.target, offset) in item.backings:  # read back before its acknowledgement came
            return []
        target.expect(offset)
        if write.target is Input.RETRY:
            item.retry_max = max(item.retry_max, offset)
            if item.seq in self.gone:
                self.gone[item.seq] = max(self.gone[item.seq], offset)
        if item.done:
            target.release(offset)
            return []
        if item.state is State.DEAD and not item.parks:
            if write.meta.kind is not Kind.DEAD:  # a copy made before it was dead-lettered
                target.release(offset)
                return []
            item.done = True
            markers = [off for inp, off in item.backings if inp is Input.DLQ]
            self._release(item, Input.SOURCE, Input.RETRY)
            item.backings.clear()
            self._forget(item.seq, [offset], item.retry_max, by=offset)
            return markers
        if write.target is Input.RETRY and item.backed_by(Input.DLQ):
            target.release(offset)  # superseded by the dead-letter copy that overtook it
            return []
        item.backings.append((write.target, offset))
        if write.target is Input.DLQ:
            self.dlq_items[offset] = item
            self._release(item, Input.SOURCE, Input.RETRY)
        else:
            self._release(item, Input.SOURCE)
        return []

    def marker_written(self, released: int, offset: int) -> None:
        """Our `released` marker for dead-letter entry `released` is durable at `offset`."""
        dlq = self.trackers[Input.DLQ]
        dlq.release(released)
        dlq.expect(offset)
        dlq.release(offset)

    def recovered(self) -> None:
        """The backlog of the retry and dead-letter partitions is loaded: start running."""
        self.recovering = False
        end = (self.trackers[Input.RETRY].position or 0) - 1
        for seq, barrier in self.gone.items():
            if barrier == _UNKNOWN:
                self.gone[seq] = end
        for lane in list(self.lanes.values()):
            self._maybe_ready(lane)

    # ------------------------------------------------------------------ catching up

    def admit_catchup(self, record: Record, *, force: bool = False) -> tuple[bool, list[Write]]:
        """A source record re-read at the catch-up cursor. False: its AGS still has no room."""
        seq = record.offset
        if self.cursor is None or seq < self.cursor:
            return True, []
        position = self.trackers[Input.SOURCE].position
        if position is not None and seq >= position:  # the main reader has not got here yet
            self._end_deferral()
            return True, []
        ags = record.key or ""
        start = self.deferring.get(ags)
        if start is None or seq < start or seq in self.gone:  # the main reader handled it
            self._move_cursor(seq + 1)
            return True, []
        cfg = self.config
        key = lane_key(record)
        lane = self.lanes.get(key)
        park = lane.park if lane is not None else None
        if (
            not force
            and park is not Input.DLQ
            and (
                self.buffered[ags] >= cfg.max_buffered_per_ags
                or self.buffered_total >= cfg.max_buffered_per_partition
            )
        ):
            return False, []
        self._move_cursor(seq + 1)
        self.trackers[Input.SOURCE].hold(seq)
        item = Item(seq, key, ags, record, record.timestamp_ms, backings=[(Input.SOURCE, seq)])
        self._insert(item)
        if park is not None:
            self._copy(item, park, Kind.FOLLOWER if park is Input.RETRY else Kind.PARKED)
        return True, self._flush()

    def caught_up(self) -> bool:
        """True (and the deferral ends) once the cursor has reached the main reader."""
        position = self.trackers[Input.SOURCE].position
        if self.cursor is not None and position is not None and self.cursor >= position:
            self._end_deferral()
            return True
        return self.cursor is None

    def _move_cursor(self, offset: int) -> None:
        source = self.trackers[Input.SOURCE]
        if self.cursor is not None:
            source.unpin(self.cursor)
        source.pin(offset)  # nothing from the cursor on is committed: it may still be deferred
        self.cursor = offset

    def _end_deferral(self) -> None:
        if self.cursor is not None:
            self.trackers[Input.SOURCE].unpin(self.cursor)
        self.cursor = None
        self.deferring.clear()

    # ------------------------------------------------------------------ queries

    def commit_offsets(self) -> dict[Input, int | None]:
        self._release_deferred()
        return {inp: tracker.commit_offset() for inp, tracker in self.trackers.items()}

    def next_due_ms(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    @property
    def idle(self) -> bool:
        """Nothing running and nothing ready: only new records can make progress."""
        return self.running == 0 and not self._rotation

    def parked_lanes(self) -> Iterator[tuple[str, Input]]:
        """(AGS, where its events wait) for every parked aggregate."""
        for lane in self.lanes.values():
            if lane.park is not None and lane.items:
                yield lane.items[0].ags, lane.park

    # ------------------------------------------------------------------ internals

    def _meta(self, kind: Kind, record: Record, origin_ts_ms: int, *, attempt: int | None = None) -> Meta:
        return Meta(
            kind=kind,
            attempt=record.attempt if attempt is None else attempt,
            src_topic=record.source_topic,
            src_partition=record.source_partition,
            src_offset=record.source_offset,
            src_timestamp_ms=origin_ts_ms,
            group=self.group,
        )

    def _copy(self, item: Item, target: Input, kind: Kind) -> None:
        meta = self._meta(kind, item.record, item.origin_ts_ms)
        if kind is Kind.RETRY:
            meta = replace(meta, due_ms=item.due_ms)
        if target is Input.RETRY:
            item.to_retry = True
        else:
            item.to_dlq = True
        self._out.append(Write(target, item.record, meta, item))

    def _flush(self) -> list[Write]:
        out = self._out
        if not out:  # the common case: no list allocated per admitted or finished event
            return _NO_WRITES
        self._out = []
        return out

    def _insert(self, item: Item) -> Item:
        lane = self.lanes.get(item.lane)
        if lane is None:  # the common case: an aggregate with nothing else in memory
            lane = self.lanes[item.lane] = Lane(item.lane, [item])
            self.items[item.seq] = item
            self.buffered[item.ags] += 1
            self.buffered_total += 1
            if item.state is State.QUEUED and not item.failed:
                self._maybe_ready(lane)
            else:
                self._changed(lane)
            return item
        if lane.items and item.seq < lane.items[-1].seq:
            insort(lane.items, item, key=_seq_of)
        else:
            lane.items.append(item)
        self.items[item.seq] = item
        self._count(lane, item, 1)
        if lane.items[0] is item:
            self._changed(lane)
        return item

    def _remove(self, lane: Lane, item: Item) -> None:
        if lane.items and lane.items[0] is item:
            lane.items.pop(0)
        else:
            lane.items.remove(item)
        if self.items.get(item.seq) is item:
            del self.items[item.seq]
        if self.dlq_items:
            for inp, off in item.backings:
                if inp is Input.DLQ:
                    self.dlq_items.pop(off, None)
        self._count(lane, item, -1)

    def _count(self, lane: Lane, item: Item, delta: int) -> None:
        if lane.park is Input.DLQ:
            self.parked[item.ags] += delta
        else:
            self.buffered[item.ags] += delta
            self.buffered_total += delta

    def _release(self, item: Item, *inputs: Input) -> None:
        kept = []
        for inp, off in item.backings:
            if inp in inputs:
                self.trackers[inp].release(off)
            else:
                kept.append((inp, off))
        item.backings[:] = kept

    def _unrun(self, lane: Lane, item: Item) -> None:
        lane.running = None
        self.running -= 1
        ags = item.ags
        self.running_by_ags[ags] -= 1
        if ags in self._ready and ags not in self._in_rotation:
            self._rotation.append(ags)
            self._in_rotation.add(ags)

    def _park_of(self, lane: Lane) -> Input | None:
        if not lane.items:
            return None
        head = lane.items[0]
        if head.state is State.DEAD:
            return Input.DLQ
        if head.failed or (lane.running is not None and lane.running.failed):
            return Input.RETRY
        return None

    def _changed(self, lane: Lane) -> None:
        """Re-derive the lane's park state after its head changed, and move its events accordingly."""
        if not lane.items:
            if self.lanes.get(lane.key) is lane:
                del self.lanes[lane.key]
            return
        park = self._park_of(lane)
        if park is not lane.park:
            if (park is Input.DLQ) != (lane.park is Input.DLQ):
                for item in lane.items:
                    self._count(lane, item, -1)
                lane.park = park
                for item in lane.items:
                    self._count(lane, item, 1)
            lane.park = park
            if park is Input.DLQ:  # everything of this aggregate waits on the dead-letter topic
                for item in lane.items:
                    if not (item.to_dlq or item.backed_by(Input.DLQ)):
                        self._copy(item, Input.DLQ, Kind.PARKED)
            elif park is Input.RETRY:  # events only the source holds move to the retry topic
                for item in lane.items[1:]:
                    if not (item.to_retry or item.to_dlq) and item.source_only:
                        self._copy(item, Input.RETRY, Kind.FOLLOWER)
        self._maybe_ready(lane)

    def _maybe_ready(self, lane: Lane) -> None:
        if lane.enqueued or lane.running is not None or not lane.items or self.recovering:
            return
        head = lane.items[0]
        if head.state is not State.QUEUED:
            return
        if head.due_ms and head.due_ms > self.clock():
            if lane.timer_due is None or head.due_ms < lane.timer_due:
                lane.timer_due = head.due_ms
                heapq.heappush(self._timers, (head.due_ms, next(self._timer_seq), lane))
            return
        lane.enqueued = True
        ags = head.ags
        queue = self._ready.get(ags)
        if queue is None:
            queue = self._ready[ags] = deque()
        queue.append(lane)
        if ags not in self._in_rotation and self.running_by_ags[ags] < self.config.max_in_flight_per_ags:
            self._rotation.append(ags)
            self._in_rotation.add(ags)

    def _poll_timers(self) -> None:
        now = self.clock()
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, lane = heapq.heappop(timers)
            if lane.timer_due == due:
                lane.timer_due = None
                if self.lanes.get(lane.key) is lane:
                    self._maybe_ready(lane)

    def _merge_retry(self, item: Item, meta: Meta, off: int) -> None:
        tracker = self.trackers[Input.RETRY]
        item.retry_max = max(item.retry_max, off)
        if meta.kind is Kind.REPLAY:
            self.replayed.add(meta.replay_of)
            if item.state is State.DEAD and (Input.DLQ, meta.replay_of) in item.backings:
                self._revive(item)
        if item.backed_by(Input.DLQ):
            return  # the dead-letter copy supersedes this one
        if item.state is State.QUEUED and meta.attempt > item.attempt:
            item.record = replace(item.record, attempt=meta.attempt)
            item.due_ms = meta.due_ms
            item.failed = item.failed or meta.kind is Kind.RETRY
        tracker.hold(off)
        item.backings.append((Input.RETRY, off))
        self._changed(self.lanes[item.lane])

    def _revive(self, item: Item) -> None:
        """An operator replayed it: a fresh set of attempts, and its lane runs again."""
        item.state = State.QUEUED
        item.failed = False
        item.due_ms = 0
        item.record = replace(item.record, attempt=1)
        self._changed(self.lanes[item.lane])

    def _drop(self, item: Item, *, by: int) -> None:
        """An operator discarded it (or another instance already applied it)."""
        lane = self.lanes[item.lane]
        self._remove(lane, item)
        item.done = True
        self._release(item, Input.SOURCE, Input.RETRY)
        self._forget(item.seq, [off for inp, off in item.backings if inp is Input.DLQ], item.retry_max, by=by)
        item.backings.clear()
        self._changed(lane)

    def _forget(self, seq: int, dlq_offsets: list[int], retry_max: int, *, by: int) -> None:
        # While recovering, unread copies may lie anywhere up to the end: decided in recovered().
        barrier = _UNKNOWN if self.recovering else retry_max
        self.gone[seq] = max(self.gone.get(seq, -1), barrier)
        self._gone_by[seq] = by
        dlq = self.trackers[Input.DLQ]
        for off in dlq_offsets:
            dlq.pin(off)  # instead of any hold it had
            dlq.release(off)
            self._deferred.append((seq, off))
        self._release_deferred()

    def _release_deferred(self) -> None:
        """Forget resolved events no copy of which can be read again, and release their entries."""
        if not self.gone:
            return
        source = self.trackers[Input.SOURCE].commit_offset()
        retry = self.trackers[Input.RETRY].commit_offset()
        if source is None or retry is None:
            return
        expired = {seq for seq, barrier in self.gone.items() if seq < source and barrier < retry}
        if not expired:
            return
        for seq in expired:
            del self.gone[seq]
            self._gone_by.pop(seq, None)
        dlq = self.trackers[Input.DLQ]
        keep = []
        for seq, off in self._deferred:
            if seq in expired:
                dlq.unpin(off)
            else:
                keep.append((seq, off))
        self._deferred = keep
