"""Fair turns across municipalities: ready lanes wait per AGS, and AGS take turns within the caps.

A lane is *ready* when its head event is queued and due. Ready lanes wait in one queue per AGS;
AGS take turns (round robin), each within `max_in_flight_per_ags`, the partition within
`max_in_flight_per_partition`. An AGS being deferred (`flooding`: it overran its buffer) gets the
smaller `max_in_flight_per_deferred_ags`: a flood's handlers are CPU taken from everyone on the
event loop. While the loop runs late (`late()`, see `lateness`), an AGS with a backlog (deferred, or
`hold_backlog_per_ags` events buffered) starts at most one event every `hold_trickle_s`: the cores
go to the municipalities with an event or two waiting. A lane whose head is due later waits on a
timer instead.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Container

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.items import Item, Lane, LaneKey, State


class FairTurns:
    """Which ready lane of which AGS runs next, and how many run per AGS and in the partition."""

    def __init__(
        self,
        config: EngineConfig,
        clock: Callable[[], int],
        flooding: Container[str] = frozenset(),
        late: Callable[[], bool] = lambda: False,
        buffered: Callable[[str], int] = lambda ags: 0,
    ) -> None:
        self.config = config
        self.clock = clock
        self.flooding = flooding  # AGS being deferred (the scheduler's live `deferring`)
        self.late = late  # the event loop runs late: AGS with a backlog are held back
        self.buffered = buffered  # events of an AGS in memory (its backlog, short of deferral)
        self._flood_cap = min(config.max_in_flight_per_deferred_ags, config.max_in_flight_per_ags)
        self._trickle_ms = int(config.hold_trickle_s * 1000)
        self._started: dict[str, int] = {}  # AGS with a backlog -> when its last event started
        self._held: set[str] = set()  # AGS with a backlog out of turn: looked at again on every take
        self.running = 0
        self.running_by_ags: defaultdict[str, int] = defaultdict(int)
        self._ready: dict[str, deque[Lane]] = {}
        self._rotation: deque[str] = deque()
        self._in_rotation: set[str] = set()
        self._timers: list[tuple[int, int, Lane]] = []
        self._timer_seq = itertools.count()

    @property
    def idle(self) -> bool:
        """Nothing running and nothing ready (a held-back AGS is ready: its trickle turn comes)."""
        return self.running == 0 and not self._rotation and not self._held

    def next_due_ms(self) -> int | None:
        return self._timers[0][0] if self._timers else None

    def backlogged(self, ags: str) -> bool:
        """`ags` is deferred, or has at least `hold_backlog_per_ags` events in memory."""
        return ags in self.flooding or self.buffered(ags) >= self.config.hold_backlog_per_ags

    def cap(self, ags: str) -> int:
        """How many events of `ags` may run at once."""
        if self.backlogged(ags) and self.late():  # one trickle turn at most
            return int(self.clock() - self._started.get(ags, -self._trickle_ms) >= self._trickle_ms)
        return self._flood_cap if ags in self.flooding else self.config.max_in_flight_per_ags

    def take(self, lanes: dict[LaneKey, Lane]) -> Item | None:
        """Start the head of the next ready lane, round-robin across AGS, within the in-flight caps."""
        cfg = self.config
        if self.running >= cfg.max_in_flight_per_partition:
            return None
        if self._timers:
            self._poll_timers(lanes)
        if self._held:  # the loop may be on time again, or a trickle turn due
            held, self._held = self._held, set()
            for ags in held:
                self.reopen(ags)
        rotation = self._rotation
        while rotation:
            ags = rotation.popleft()
            queue = self._ready.get(ags)
            if not queue:
                self._in_rotation.discard(ags)
                self._ready.pop(ags, None)
                continue
            if self.running_by_ags[ags] >= self.cap(ags):
                self._in_rotation.discard(ags)  # back in turn when one of its events finishes
                if self.backlogged(ags):
                    self._held.add(ags)  # ... or, held back with none running, on the next take
                continue
            lane = queue.popleft()
            lane.enqueued = False
            if queue:
                rotation.append(ags)
            else:
                self._in_rotation.discard(ags)
                del self._ready[ags]
            if lanes.get(lane.key) is not lane or lane.running is not None or not lane.items:
                continue
            head = lane.items[0]
            if head.state is not State.QUEUED:
                continue
            if head.due_ms and head.due_ms > self.clock():
                self.offer(lane)
                continue
            head.state = State.RUNNING
            lane.running = head
            self.running += 1
            self.running_by_ags[head.ags] += 1
            if self.backlogged(ags):
                self._started[ags] = self.clock()
            return head
        return None

    def finished(self, item: Item) -> None:
        """`item` stopped running: its AGS may take a turn again."""
        self.running -= 1
        ags = item.ags
        self.running_by_ags[ags] -= 1
        self.reopen(ags)

    def reopen(self, ags: str) -> None:
        """`ags` may run more now (one of its events finished, or its deferral ended)."""
        if ags in self._ready and ags not in self._in_rotation:
            self._rotation.append(ags)
            self._in_rotation.add(ags)

    def offer(self, lane: Lane) -> None:
        """Queue `lane` for a turn if its head can run now, or set a timer for when it is due."""
        if lane.enqueued or lane.running is not None or not lane.items:
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
        if ags not in self._in_rotation:
            if self.running_by_ags[ags] < self.cap(ags):
                self._rotation.append(ags)
                self._in_rotation.add(ags)
            elif self.backlogged(ags):
                self._held.add(ags)  # held back: looked at again on the next take

    def _poll_timers(self, lanes: dict[LaneKey, Lane]) -> None:
        now = self.clock()
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, lane = heapq.heappop(timers)
            if lane.timer_due == due:
                lane.timer_due = None
                if lanes.get(lane.key) is lane:
                    self.offer(lane)
