"""Committing: each pair's low-water marks, committed every `commit_interval_s` and on close.

`PartitionWork.commit_offsets()` says how far each of the three partitions is done; only offsets
that moved, of partitions still assigned, are committed. A failed commit is retried next turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from wegweiser.common.engine.items import Input
from wegweiser.common.engine.pairs import Pair

if TYPE_CHECKING:
    from wegweiser.common.engine.consumer import ConsumerEngine

log = logging.getLogger(__name__)


class Committer:
    """Commits the group's offsets for the engine's pairs."""

    def __init__(self, engine: ConsumerEngine) -> None:
        self._engine = engine

    async def loop(self) -> None:
        engine = self._engine
        while True:
            await asyncio.sleep(engine.config.commit_interval_s)
            await self.commit([p for p in engine.pairs.values() if not p.closed])

    async def commit(self, pairs: list[Pair]) -> None:
        consumer = self._engine.reader.consumer
        assert consumer is not None
        offsets: dict[TopicPartition, int] = {}
        planned: list[tuple[Pair, Input, int]] = []
        assignment = consumer.assignment()
        for pair in pairs:
            for inp, offset in pair.work.commit_offsets().items():
                tp = pair.tps[inp]
                if offset is not None and offset != pair.committed.get(inp) and tp in assignment:
                    offsets[tp] = offset
                    planned.append((pair, inp, offset))
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            log.info("engine %s: commit failed (%s); retried later", self._engine.group_id, exc)
            return
        for pair, inp, offset in planned:
            pair.committed[inp] = offset
