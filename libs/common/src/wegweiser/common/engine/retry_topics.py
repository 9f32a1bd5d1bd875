"""The group's retry and dead-letter topics: created at start-up, shaped like their source topic."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.kafka_security import client_options
from wegweiser.common.topics import wait_for_partitions

log = logging.getLogger(__name__)


def retry_topic(topic: str, group: str) -> str:
    return f"{topic}.retry.{group}"


def dlq_topic(topic: str, group: str) -> str:
    return f"{topic}.dlq.{group}"


TOPIC_ALREADY_EXISTS = 36


def dlq_retention_ms(config: EngineConfig, source_retention_ms: int | None) -> int:
    """DLQ retention: the configured one, but never longer than a finite source retention.

    A DLQ entry is a copy of a source event; keeping personal data longer there than the source
    topic may keep it would defeat that topic's retention.
    """
    if source_retention_ms is None or source_retention_ms < 0:
        return config.dlq_retention_ms
    return min(config.dlq_retention_ms, source_retention_ms)


async def retention_ms(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    """How long each topic keeps a record, in ms (-1: unlimited).

    A compacted-only topic keeps each key's latest record forever, whatever its `retention.ms`
    (which the broker reports as its 7-day default) says.
    """
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": None, "cleanup.policy": None})
        for t in topics
    ]
    out: dict[str, int] = {}
    for response in await admin.describe_configs(resources):
        for _err, _msg, _type, name, entries in response.resources:
            configs = {entry[0]: entry[1] for entry in entries}
            if configs.get("cleanup.policy") == "compact":
                out[name] = -1
            elif configs.get("retention.ms") is not None:
                out[name] = int(configs["retention.ms"])
    return out


async def partition_counts(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, int]:
    """Partition count of each existing topic (missing ones are left out)."""
    return {
        t["topic"]: len(t["partitions"])
        for t in await admin.describe_topics(topics)
        if t["error_code"] == 0 and t["partitions"]
    }


async def ensure_topics(
    *, bootstrap_servers: str, topics: list[str], group: str, config: EngineConfig
) -> dict[str, int]:
    """Create missing retry/DLQ topics of `group` and check existing ones; returns source partitions.

    Retry and DLQ partition *p* belong to source partition *p* (the engine reads the three
    together), so their partition counts must match the source's.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options())
    await admin.start()
    try:
        sources = await wait_for_partitions(admin, topics)
        retention = await retention_ms(admin, topics)
        brokers = len((await admin.describe_cluster())["brokers"])
        replication = config.replication_factor or min(3, brokers)
        wanted: dict[str, tuple[int, int]] = {}
        for topic in topics:
            wanted[retry_topic(topic, group)] = (sources[topic], config.retry_retention_ms)
            wanted[dlq_topic(topic, group)] = (sources[topic], dlq_retention_ms(config, retention.get(topic)))
        existing = await partition_counts(admin, list(wanted))
        for name, count in existing.items():
            if count != wanted[name][0]:
                raise RuntimeError(f"{name} has {count} partitions, its source topic {wanted[name][0]}")
        new = [
            NewTopic(
                name, count, replication, topic_configs={"retention.ms": str(ms), "cleanup.policy": "delete"}
            )
            for name, (count, ms) in wanted.items()
            if name not in existing
        ]
        if new:
            response = await admin.create_topics(new)
            for name, code, message in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"cannot create {name}: {message} (error {code})")
                log.info("created topic %s", name)
        dlqs = {dlq_topic(t, group) for t in topics}
        await _shorten_dlq_retention(
            admin, {n: ms for n, (_, ms) in wanted.items() if n in existing and n in dlqs}
        )
        await wait_for_partitions(admin, list(wanted))
        return sources
    finally:
        await admin.close()


async def _shorten_dlq_retention(admin: AIOKafkaAdminClient, wanted: dict[str, int]) -> None:
    """An existing DLQ keeps its retention unless its source's became shorter since.

    (AlterConfigs replaces a topic's explicit settings; the engine sets only retention.ms on it.)
    """
    if not wanted:
        return
    current = await retention_ms(admin, list(wanted))
    for name, ms in wanted.items():
        have = current.get(name)
        if have is not None and (have < 0 or have > ms):
            log.warning("lowering retention.ms of %s to %d (its source keeps data no longer)", name, ms)
            resource = ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": str(ms)})
            await admin.alter_configs([resource])
