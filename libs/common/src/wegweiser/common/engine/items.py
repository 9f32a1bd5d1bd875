"""The events of one partition in memory: items, their lanes, and the copies decided for them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from wegweiser.common.engine.copy_headers import Meta
from wegweiser.common.engine.record import Record

LaneKey = tuple[str, str]


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


def seq_of(item: Item) -> int:
    return item.seq
