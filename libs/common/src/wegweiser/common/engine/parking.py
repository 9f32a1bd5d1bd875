"""Park, retry, dead-letter: what happens to an event that failed, and to an operator's resolution.

A failed event stays at the head of its lane (the lane is parked) and gets a copy on the retry
topic with its next attempt and due time; after the last attempt a copy on the dead-letter topic,
where its lane's waiting events follow it. Resolutions (an operator's replay or discard, the
engine's own `released` marker) come back through the dead-letter topic. A resolved event is
remembered (`gone`) until no older copy of it can be read again, so a restart learns it again.
"""

from __future__ import annotations

from dataclasses import replace

from wegweiser.common.engine.copy_headers import Kind, Meta, Resolution
from wegweiser.common.engine.items import Input, Item, State, Write, lane_key
from wegweiser.common.engine.lanes import UNKNOWN, LaneBook
from wegweiser.common.engine.record import Record


class Parking(LaneBook):
    """The retry/park/dead-letter part of `PartitionWork`."""

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

    def failed(
        self, item: Item, *, error_type: str, message: str, malformed: bool, not_yet: bool = False
    ) -> list[Write]:
        """The handler raised: retry later (lane parked on the retry topic) or dead-letter. ``not_yet``
        (the handler's `NotYet`) is retried soon and uncounted while the event is young enough."""
        cfg = self.config
        lane = self.lanes[item.lane]
        self._unrun(lane, item)
        waiting = not_yet and self.clock() - item.origin_ts_ms < cfg.not_yet_budget_s * 1000
        if malformed or (item.attempt >= cfg.max_attempts and not waiting):
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
        if waiting:
            item.due_ms = self.clock() + int(cfg.not_yet_retry_s * 1000)
        else:
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
        barrier = UNKNOWN if self.recovering else retry_max
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
