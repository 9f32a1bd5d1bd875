"""Settings and Kafka wiring: every tunable from the environment, pseudonymous topics only."""

from __future__ import annotations

from typing import get_args

import pytest
from synthetic_history import CHANNELS, PROGRAMMES, REASONS, TYPES

from wegweiser.common import topics
from wegweiser.common.events.base import Channel, ClosureReason, ConsultationType, Programme
from wegweiser.statistics.app import build
from wegweiser.statistics.consumers import live_consumer, live_group, source_topics
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.projection.batch import HANDLED
from wegweiser.statistics.projection.live import project_event
from wegweiser.statistics.settings import StatisticsSettings


def test_the_engine_is_tuned_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATISTICS_ENGINE__MAX_ATTEMPTS", "3")
    monkeypatch.setenv("STATISTICS_ENGINE__MAX_IN_FLIGHT_PER_AGS", "4")
    monkeypatch.setenv("STATISTICS_REBUILD_CHECK_INTERVAL_S", "2.5")
    monkeypatch.setenv("STATISTICS_REBUILD_FLUSH_INTERVAL_S", "7")
    settings = StatisticsSettings()
    assert (settings.engine.max_attempts, settings.engine.max_in_flight_per_ags) == (3, 4)
    assert settings.rebuild_check_interval_s == 2.5
    assert live_consumer(settings).config.max_attempts == 3
    workers: Workers = build(settings).state.workers  # built, not started: nothing connects
    assert workers.rebuilder.flush_interval_s == 7.0
    assert [spec.config.max_attempts for spec in workers.runtime.consumer_specs] == [3]


def test_the_live_consumer_reads_the_three_pseudonymous_topics_in_its_own_group() -> None:
    settings = StatisticsSettings(consumer_group_prefix="test")
    spec = live_consumer(settings)
    assert spec.group == live_group(settings) == settings.consumer_group("statistics")
    assert [t.name for t in spec.topics] == [
        topics.INTAKE_FACTS.name,
        topics.CASES.name,
        topics.REFERRAL_STATUS.name,
    ]
    assert set(spec.handlers) == set(HANDLED)
    assert set(spec.handlers.values()) == {project_event}


def test_benchmarks_and_tests_may_name_their_own_topics() -> None:
    settings = StatisticsSettings(source_topics=["bench.facts", "bench.cases"])
    assert [t.name for t in source_topics(settings)] == ["bench.facts", "bench.cases"]
    assert not any(t.personal_data for t in source_topics(settings))


def test_the_synthetic_history_draws_only_codes_the_event_contracts_know() -> None:
    assert {c for c, _ in TYPES} <= set(get_args(ConsultationType))
    assert {c for c, _ in CHANNELS} == set(get_args(Channel))
    assert {c for c, _ in PROGRAMMES} == set(get_args(Programme))
    assert {c for c, _ in REASONS} <= set(get_args(ClosureReason))
