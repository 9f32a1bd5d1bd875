"""Every Kafka topic, declared once (docs/architecture.md), and its creation or check at start-up."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from wegweiser.common.kafka_security import client_options

log = logging.getLogger(__name__)

DAY_MS = 24 * 60 * 60 * 1000
PERSONAL_RETENTION_MS = 30 * DAY_MS
LONG_RETENTION_MS = 10 * 365 * DAY_MS


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    retention_ms: int | None  # None: kept forever (compacted topics)
    personal_data: bool
    compacted: bool = False
    partitions: int = 12
    compact_within_ms: int | None = None  # compacted topics whose old values must go soon (keys)

    def configs(self) -> dict[str, str]:
        if self.compacted and self.compact_within_ms:
            # A replaced value may stay until its segment rolls and the cleaner runs: bound both.
            return {
                "cleanup.policy": "compact",
                "segment.ms": str(self.compact_within_ms),
                "max.compaction.lag.ms": str(self.compact_within_ms),
                "min.cleanable.dirty.ratio": "0.01",
            }
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


ARRIVALS = TopicSpec("wegweiser.intake.arrivals.v1", PERSONAL_RETENTION_MS, personal_data=True)
INTAKE_FACTS = TopicSpec("wegweiser.intake.facts.v1", LONG_RETENTION_MS, personal_data=False)
CASES = TopicSpec("wegweiser.casework.cases.v1", LONG_RETENTION_MS, personal_data=False)
REFERRAL_REQUESTS = TopicSpec("wegweiser.referrals.requests.v1", PERSONAL_RETENTION_MS, personal_data=True)
REFERRAL_STATUS = TopicSpec("wegweiser.referrals.status.v1", LONG_RETENTION_MS, personal_data=False)
REFERRAL_CATALOGUE = TopicSpec("wegweiser.referrals.catalogue.v1", None, personal_data=False, compacted=True)
INDICATORS = TopicSpec("wegweiser.statistics.indicators.v1", None, personal_data=False, compacted=True)
# The data keys of sealed personal fields (wegweiser.common.personal_data), wrapped, with the person's id
# or pseudonym but no personal field: a shredded key is compacted away within the hour.
KEY_COMPACTION_MS = 60 * 60 * 1000
INTAKE_PERSON_KEYS = TopicSpec(
    "wegweiser.intake.person-keys.v1",
    None,
    personal_data=False,
    compacted=True,
    compact_within_ms=KEY_COMPACTION_MS,
)
CASEWORK_PERSON_KEYS = TopicSpec(
    "wegweiser.casework.person-keys.v1",
    None,
    personal_data=False,
    compacted=True,
    compact_within_ms=KEY_COMPACTION_MS,
)

ALL: tuple[TopicSpec, ...] = (
    ARRIVALS,
    INTAKE_FACTS,
    CASES,
    REFERRAL_REQUESTS,
    REFERRAL_STATUS,
    REFERRAL_CATALOGUE,
    INDICATORS,
    INTAKE_PERSON_KEYS,
    CASEWORK_PERSON_KEYS,
)


class TopicMismatch(RuntimeError):
    """An existing topic differs from its declaration in a way we cannot fix at start-up."""


async def ensure_topics(
    bootstrap_servers: str, specs: tuple[TopicSpec, ...] = ALL, *, replication_factor: int = 1
) -> list[str]:
    """Create missing topics and check existing ones; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=s.name,
                        num_partitions=s.partitions,
                        replication_factor=replication_factor,
                        topic_configs=s.configs(),
                    )
                    for s in missing
                ]
            )
            for topic, code, message in _topic_errors(response):
                # 36 = TOPIC_ALREADY_EXISTS: another service created it a moment ago.
                if code not in (0, 36):
                    raise TopicMismatch(f"cannot create {topic}: error {code} {message}")
            log.info("created topics", extra={"topics": [s.name for s in missing]})
        partitions = await wait_for_partitions(admin, [s.name for s in specs])
        for s in specs:
            if partitions[s.name] != s.partitions:
                raise TopicMismatch(f"{s.name} has {partitions[s.name]} partitions, declared {s.partitions}")
        return [s.name for s in missing]
    finally:
        await admin.close()


async def wait_for_partitions(
    admin: AIOKafkaAdminClient, names: list[str], *, timeout_s: float = 30
) -> dict[str, int]:
    """Partition count of each topic once all its partitions have a leader.

    A topic that another service created a moment ago can be listed before the broker reports
    its partitions; services start together, so reading it once would fail at random.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        described = await admin.describe_topics(names)
        ready = {
            t["topic"]: len(t["partitions"])
            for t in described
            if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if len(ready) == len(set(names)):
            return ready
        if time.monotonic() > deadline:
            waiting = sorted(set(names) - set(ready))
            raise TopicMismatch(f"topics without partitions or leaders after {timeout_s}s: {waiting}")
        await asyncio.sleep(0.1)


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    """(topic, error code, message) from any CreateTopicsResponse version."""
    return [(e[0], e[1], e[2] if len(e) > 2 else None) for e in getattr(response, "topic_errors", [])]
