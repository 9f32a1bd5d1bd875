"""The engine's bookkeeping for one partition, free of I/O so that it can be tested exhaustively.

`PartitionWork` owns source partition *p* together with partition *p* of the group's retry and
dead-letter topics (they are created with the same partition count and read by the same member).
Every event is identified by its source offset (`seq`); copies of it on the retry or dead-letter
topic carry that offset, so a lane (one aggregate) is always ordered by `seq` no matter which topic
a copy was read from, and duplicates of one event merge into one item.

What it decides, the engine executes: it returns `Write`s (copies to the retry or dead-letter
topic) and the engine reports back with `written()` once the broker has acknowledged one.

The work is split along its concerns: `lanes` (what is in memory, where a parked lane waits),
`fairness` (whose turn it is), `parking` (retry, dead-letter and resolutions) and `catchup`
(deferral of an AGS without room); this module admits new records and runs them.
"""

from __future__ import annotations

from collections.abc import Iterator

from wegweiser.common.engine.catchup import CatchUp
from wegweiser.common.engine.copy_headers import Kind, Meta
from wegweiser.common.engine.items import Input, Item, Write, lane_key
from wegweiser.common.engine.lanes import UNKNOWN
from wegweiser.common.engine.parking import Parking
from wegweiser.common.engine.record import Record

_NO_MARKERS: list[int] = []  # shared and never appended to: callers only iterate


class PartitionWork(Parking, CatchUp):
    """Lanes, fair turns across AGS, bounds, and park/retry/dead-letter state of one partition."""

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
                self.deferred_keys[ags.encode()] = ags
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

    # ------------------------------------------------------------------ running

    def pick(self) -> Item | None:
        """Next event to run: round-robin across AGS with ready lanes, within the in-flight bounds."""
        if self.closing or self.recovering:
            return None
        return self.turns.take(self.lanes)

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

    def recovered(self) -> None:
        """The backlog of the retry and dead-letter partitions is loaded: start running."""
        self.recovering = False
        end = (self.trackers[Input.RETRY].position or 0) - 1
        for seq, barrier in self.gone.items():
            if barrier == UNKNOWN:
                self.gone[seq] = end
        for lane in list(self.lanes.values()):
            self._maybe_ready(lane)

    # ------------------------------------------------------------------ queries

    def commit_offsets(self) -> dict[Input, int | None]:
        self._release_deferred()
        return {inp: tracker.commit_offset() for inp, tracker in self.trackers.items()}

    def next_due_ms(self) -> int | None:
        return self.turns.next_due_ms()

    @property
    def idle(self) -> bool:
        """Nothing running and nothing ready: only new records can make progress."""
        return self.turns.idle

    def parked_lanes(self) -> Iterator[tuple[str, Input]]:
        """(AGS, where its events wait) for every parked aggregate."""
        for lane in self.lanes.values():
            if lane.park is not None and lane.items:
                yield lane.items[0].ags, lane.park
