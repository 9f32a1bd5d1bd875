"""The group's retry and dead-letter topics: created at start-up, shaped like their source topic."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from wegweiser.common.engine.config import EngineConfig
from wegweiser.common.engine.wire import dlq_topic, retry_topic

log = logging.getLogger(__name__)

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
    """`retention.ms` of each topic as the broker reports it (-1: unlimited)."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, t, {"retention.ms": None}) for t in topics]
    out: dict[str, int] = {}
    for response in await admin.describe_configs(resources):
        for _err, _msg, _type, name, entries in response.resources:
            for entry in entries:
                if entry[0] == "retention.ms" and entry[1] is not None:
                    out[name] = int(entry[1])
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
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        sources = await partition_counts(admin, topics)
        missing_sources = sorted(set(topics) - set(sources))
        if missing_sources:
            raise RuntimeError(f"source topics do not exist: {missing_sources}")
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
        await _wait_for_leaders(admin, list(wanted))
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


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], attempts: int = 50) -> None:
    for _ in range(attempts):
        described = await admin.describe_topics(names)
        if all(t["error_code"] == 0 and all(p["leader"] >= 0 for p in t["partitions"]) for t in described):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topics have no leaders: {names}")
