"""Which offset of one input partition may be committed: the contiguous low-water mark."""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class OffsetTracker:
    """Commit position of one partition: never past an offset whose work is unfinished.

    Only unfinished offsets are stored (finished ones are implied), so memory follows the work in
    hand, not the distance to the last commit. Offsets may have gaps (compaction, transaction
    markers); the fetch position covers them.
    """

    __slots__ = ("_heap", "_ignore", "_pending", "_pinned", "position")

    def __init__(self, position: int | None = None) -> None:
        self._heap: list[int] = []
        self._pending: set[int] = set()
        self._ignore: set[int] = set()
        self._pinned: set[int] = set()  # held regardless of release(), until unpin()
        self.position = position  # next offset the fetcher will deliver

    def fetched(self, offset: int) -> bool:
        """Note that the fetcher delivered `offset`; False when it is already accounted for."""
        self.position = offset + 1
        if offset in self._ignore:
            self._ignore.discard(offset)
            return False
        return True

    def hold(self, offset: int) -> None:
        """`offset` is unfinished: the commit must stay at or below it."""
        if offset not in self._pending:
            self._pending.add(offset)
            heapq.heappush(self._heap, offset)

    def expect(self, offset: int) -> None:
        """A record this engine wrote itself: unfinished, and not new work when it is fetched."""
        self.hold(offset)
        if self.position is None or offset >= self.position:  # else it was read already
            self._ignore.add(offset)

    def pin(self, offset: int) -> None:
        """Keep `offset` unfinished until `unpin`, whatever else releases it."""
        self._pinned.add(offset)

    def unpin(self, offset: int) -> None:
        self._pinned.discard(offset)

    def release(self, offset: int) -> None:
        """The work of `offset` is finished (done, or durably copied elsewhere)."""
        self._pending.discard(offset)

    def rewind(self, position: int, already_seen: Iterable[int]) -> None:
        """The fetcher was moved back to `position`; records in `already_seen` must not count twice."""
        self.position = position
        self._ignore.update(o for o in already_seen if o >= position)

    def is_ignored(self, offset: int) -> bool:
        return offset in self._ignore

    def is_held(self, offset: int) -> bool:
        return offset in self._pending

    @property
    def unfinished(self) -> int:
        return len(self._pending | self._pinned)

    def low_water_mark(self) -> int | None:
        """Lowest unfinished offset, or None."""
        heap = self._heap
        while heap and heap[0] not in self._pending:
            heapq.heappop(heap)
        low = heap[0] if heap else None
        if self._pinned:
            pinned = min(self._pinned)
            low = pinned if low is None else min(low, pinned)
        return low

    def commit_offset(self) -> int | None:
        """The offset to commit (the next record to read after a restart), or None before any fetch."""
        if self.position is None:
            return None
        low = self.low_water_mark()
        return self.position if low is None else min(low, self.position)
