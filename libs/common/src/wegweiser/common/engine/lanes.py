"""Lanes: one partition's events in memory, ordered per aggregate, and where a parked lane waits.

`LaneBook` is the state every part of `PartitionWork` shares (lanes, items, bounds, offsets) and
the rules that keep it consistent when a lane's head changes: a lane whose head failed is parked on
the retry topic, one whose head is dead-lettered on the dead-letter topic, and its waiting events
are copied there (``follower``/``parked``) before their source offsets are released.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.copy_headers import Kind, Meta
from wegweiser.common.engine.fairness import FairTurns
from wegweiser.common.engine.items import Input, Item, Lane, LaneKey, State, Write, seq_of, wall_clock_ms
from wegweiser.common.engine.offsets import OffsetTracker
from wegweiser.common.engine.record import Record

NO_WRITES: list[Write] = []
UNKNOWN = 2**62  # a retry offset not known yet


class LaneBook:
    """The shared state of one partition's work and the lane rules; the parts build on it."""

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
        late: Callable[[], bool] = lambda: False,
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
        # Overflow: AGS with no room leave their records in the source log, skipped from the offset
        # given here on, until the catch-up reader, starting at `cursor`, brings them back.
        self.deferring: dict[str, int] = {}
        self.deferred_keys: dict[bytes, str] = {}  # the deferring AGS by raw Kafka key (UTF-8)
        self.cursor: int | None = None
        self.recovering = recovering
        self.closing = False
        self.turns = FairTurns(
            config, clock, flooding=self.deferring, late=late, buffered=lambda ags: self.buffered.get(ags, 0)
        )
        self._out: list[Write] = []

    def _unrun(self, lane: Lane, item: Item) -> None:
        lane.running = None
        self.turns.finished(item)

    def _maybe_ready(self, lane: Lane) -> None:
        if not self.recovering:
            self.turns.offer(lane)

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
            return NO_WRITES
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
            insort(lane.items, item, key=seq_of)
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
