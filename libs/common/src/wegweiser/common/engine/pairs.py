"""A pair: source partition *p* with partition *p* of its retry and dead-letter topics.

It is the unit of assignment and of ordering; every part of the engine works on pairs.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field

from aiokafka import TopicPartition

from wegweiser.common.engine.copy_headers import Meta
from wegweiser.common.engine.items import Input, Item
from wegweiser.common.engine.record import Record
from wegweiser.common.engine.retry_topics import dlq_topic, retry_topic
from wegweiser.common.engine.scheduler import PartitionWork

Prepared = tuple[Record, Meta | None]


@dataclass(eq=False)
class Pair:
    """Source partition p with retry/DLQ partition p: the unit of assignment and of ordering."""

    work: PartitionWork
    tps: dict[Input, TopicPartition]
    targets: dict[Input, int]  # recovery reads retry/DLQ up to these end offsets first
    # Records fetched but not admitted yet (no room), parsed once; their partition is paused.
    stash: dict[Input, deque[Prepared]] = field(default_factory=lambda: {i: deque() for i in Input})
    paused: set[Input] = field(default_factory=set)
    behind: deque[Record] = field(default_factory=deque)  # re-read by the catch-up reader, no room yet
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Handler tasks with nothing to do, waiting to be handed the next ready event (a task per event
    # cost more than the scheduling itself).
    idle: list[asyncio.Future[Item | None]] = field(default_factory=list)
    outstanding: int = 0  # copies sent but not yet acknowledged
    committed: dict[Input, int] = field(default_factory=dict)
    closed: bool = False

    def dismiss_idle(self) -> None:
        """Let idle handler tasks end (the pair is closing)."""
        idle, self.idle = self.idle, []
        for waiter in idle:
            if not waiter.done():
                waiter.set_result(None)


class Topology:
    """Which source, retry or DLQ topic a partition belongs to (the group's retry/DLQ topic names)."""

    def __init__(self, topics: list[str], group: str) -> None:
        self.topics = topics
        self.retry_of = {retry_topic(t, group): t for t in topics}
        self.dlq_of = {dlq_topic(t, group): t for t in topics}

    @property
    def subscribed(self) -> list[str]:
        return [*self.topics, *self.retry_of, *self.dlq_of]

    def input_of(self, tp: TopicPartition) -> tuple[str, Input] | None:
        """(source topic, which of the three) for an assigned partition; None for a stranger."""
        if tp.topic in self.retry_of:
            return self.retry_of[tp.topic], Input.RETRY
        if tp.topic in self.dlq_of:
            return self.dlq_of[tp.topic], Input.DLQ
        if tp.topic in self.topics:
            return tp.topic, Input.SOURCE
        return None

    def pairs_of(
        self, tps: set[TopicPartition]
    ) -> tuple[dict[tuple[str, int], dict[Input, TopicPartition]], list[tuple[str, int]]]:
        """Assigned partitions by pair: the complete pairs, and the keys of incomplete ones."""
        grouped: defaultdict[tuple[str, int], dict[Input, TopicPartition]] = defaultdict(dict)
        for tp in tps:
            found = self.input_of(tp)
            if found is not None:
                grouped[(found[0], tp.partition)][found[1]] = tp
        complete = {key: members for key, members in grouped.items() if len(members) == len(Input)}
        return complete, [key for key in grouped if key not in complete]
