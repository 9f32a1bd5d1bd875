"""Casework's test fixtures: a service environment whose consumers start where the topics end now.

The local broker keeps every topic's history between runs (other services' tests and benchmarks write
thousands of arrivals and status events). A fresh consumer group would replay all of it before it
reaches the test's own events; committing the current end offsets for the test's groups first makes
each test see exactly what it produces, as a long-running casework would. The catalogue group is left
alone: a compacted topic is meant to be read from the start.
"""

from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import topics


async def commit_end_offsets(bootstrap: str, group: str, *specs: topics.TopicSpec) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()


@pytest.fixture
async def casework_env(service_env: dict[str, Any]) -> dict[str, Any]:
    """``service_env`` with casework's arrival and status consumers positioned at the end of their topics."""
    settings = CaseworkSettings(**service_env)
    bootstrap = service_env["kafka_bootstrap_servers"]
    await commit_end_offsets(bootstrap, settings.consumer_group("casework"), topics.ARRIVALS)
    await commit_end_offsets(
        bootstrap, settings.consumer_group("casework-referral-status"), topics.REFERRAL_STATUS
    )
    return service_env
