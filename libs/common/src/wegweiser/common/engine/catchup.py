"""Deferral and catching up: an AGS without room is left in the log and re-read later, in order.

The main reader skips a deferred AGS's records (from the offset recorded in `deferring`); the
catch-up reader re-reads the partition from `cursor` and hands them back as the AGS gets room.
Nothing from the cursor on is committed meanwhile, so a restart simply reads them again.
"""

from __future__ import annotations

from wegweiser.common.engine.copy_headers import Kind
from wegweiser.common.engine.items import Input, Item, Write, lane_key
from wegweiser.common.engine.lanes import LaneBook
from wegweiser.common.engine.record import Record


class CatchUp(LaneBook):
    """The deferral part of `PartitionWork`: skip, re-read at the cursor, end the deferral."""

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
        ended = list(self.deferring)
        self.deferring.clear()
        self.deferred_keys.clear()
        for ags in ended:  # back to their full in-flight share
            self.turns.reopen(ags)
