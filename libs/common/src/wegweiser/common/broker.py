"""The Kafka producer side: a faststream broker with safe defaults, and the relay's send function."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from wegweiser.common.kafka_security import client_options, kafka_security
from wegweiser.common.outbox import Send

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


def broker_sender(broker: KafkaBroker) -> Send:
    """Adapt the broker to the relay: send without waiting, so a batch is pipelined in order."""

    async def send(topic: str, key: str, value: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        future = await broker.publish(value, topic, key=key.encode(), headers=headers, no_confirm=True)
        assert isinstance(future, asyncio.Future)
        return future

    return send


def create_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """A plain aiokafka producer with the broker's settings, for a relay that sends nothing else."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, client_id=client_id, **PRODUCER_SETTINGS, **client_options()
    )


def producer_sender(producer: Callable[[], AIOKafkaProducer | None]) -> Send:
    """The relay's send straight on aiokafka: the same record as ``broker_sender`` without faststream's
    publish path (cheaper per record).

    ``producer`` returns the started producer (aiokafka creates one only inside a running event loop).
    """

    async def send(topic: str, key: str, value: bytes, headers: dict[str, str]) -> asyncio.Future[Any]:
        started = producer()
        if started is None:
            raise RuntimeError("the relay's Kafka producer is not started")
        future: asyncio.Future[Any] = await started.send(
            topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return future

    return send
