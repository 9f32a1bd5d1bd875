"""All of statistics' Kafka wiring outside the projection itself: which topics it reads, in which group.

The live handlers (event type → ``project_event``) come from ``projection.live``; the rebuild reads the
same topics without a group (``ops.rebuild``).
"""

from __future__ import annotations

from wegweiser.common import topics
from wegweiser.common.runtime import ConsumerSpec
from wegweiser.statistics.projection.live import HANDLERS
from wegweiser.statistics.settings import StatisticsSettings

SOURCE_TOPICS = (topics.INTAKE_FACTS, topics.CASES, topics.REFERRAL_STATUS)


def source_topics(settings: StatisticsSettings) -> list[topics.TopicSpec]:
    """The pseudonymous topics (never the personal ones), or the override for benchmarks and tests."""
    if settings.source_topics:
        return [
            topics.TopicSpec(name, topics.LONG_RETENTION_MS, personal_data=False)
            for name in settings.source_topics
        ]
    return list(SOURCE_TOPICS)


def live_group(settings: StatisticsSettings) -> str:
    """The consumer group of the live projection; a rebuild reads its committed offsets."""
    return settings.consumer_group("statistics")


def live_consumer(settings: StatisticsSettings) -> ConsumerSpec:
    """The live projection: every source topic into the serving (and a building) generation."""
    return ConsumerSpec(
        group=live_group(settings),
        topics=source_topics(settings),
        handlers=HANDLERS,
        config=settings.engine,
    )
