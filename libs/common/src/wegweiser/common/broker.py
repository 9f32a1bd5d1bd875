"""The Kafka producer side: a faststream broker with safe defaults, and the relay's send function."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

from wegweiser.common.kafka_security import kafka_security
from wegweiser.common.outbox import Send


def create_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """Producer with ``acks=all`` and idempotence: a retried send never duplicates or reorders."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        middlewares=[KafkaTelemetryMiddleware()],
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
