"""The Kafka producer side: a faststream broker with safe defaults, and the outbox relay's own producer."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from wegweiser.common.kafka_security import client_options, kafka_security

PRODUCER_SETTINGS: dict[str, Any] = {"acks": "all", "enable_idempotence": True, "linger_ms": 5}


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """Producer with ``acks=all`` and idempotence: a retried send never duplicates or reorders.

    No faststream telemetry middleware: the relay opens the one producer span per record itself and
    puts its context on the record, so each consumer span is that span's child (one flow per arrival,
    ``wegweiser.common.trace_flows``); the middleware added two more producer spans per record and
    made the consumers children of its own.
    """
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        **PRODUCER_SETTINGS,
        logger=None,
        security=kafka_security().faststream_security(),
    )


class RelayProducer:
    """The outbox relay's own idempotent aiokafka producer, replaced by a new one after a send failed.

    aiokafka numbers an idempotent producer's batches per partition and never takes a number back: once
    a batch fails (a partition without a leader for ``request_timeout_ms``, as across a broker restart),
    the broker refuses every later batch of that producer to that partition with
    ``OutOfOrderSequenceNumber``, for ever (the Java client bumps the epoch instead). Events of the
    municipalities on that partition then stayed in the outbox. A new producer has a new id and numbers
    from zero; what was not acknowledged is still in the outbox and goes again (the consumers' inbox
    absorbs a duplicate). Plain aiokafka rather than the faststream broker: cheaper per record.
    """

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None  # created inside the running event loop
        self.renewals = 0

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            **PRODUCER_SETTINGS,
            **client_options(),
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def renew(self) -> None:
        """Drop the producer and start a new one (raises while the broker cannot be reached)."""
        await self.stop()
        self.renewals += 1
        await self.start()

    async def send(
        self, topic: str, key: str, value: bytes | None, headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        """Queue one record (``value`` None: a tombstone); the future resolves on the broker's ack."""
        if self._producer is None:
            raise RuntimeError("the relay's Kafka producer is not started")
        future: asyncio.Future[Any] = await self._producer.send(
            topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return future
