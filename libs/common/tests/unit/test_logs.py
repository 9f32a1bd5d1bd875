"""A broker outage does not flood the log: each Kafka client message at most once per 10 s, with a count."""

import logging

from wegweiser.common.logs import OncePerInterval


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_repeating_kafka_message_passes_once_per_interval_with_the_count_held_back() -> None:
    now = [0.0]
    limit = OncePerInterval(clock=lambda: now[0])
    passed = []
    for attempt in range(1000):
        now[0] = attempt * 0.04  # 1,000 reconnect attempts in 40 s
        record = _record("aiokafka.conn", "Unable connect to node with id %s: %s", attempt % 3, "refused")
        if limit.filter(record):
            passed.append(record)
    assert len(passed) == 4  # at 0, 10, 20 and 30 s
    assert not hasattr(passed[0], "suppressed_since_last")
    assert [getattr(r, "suppressed_since_last", None) for r in passed[1:]] == [249, 249, 249]


def test_other_loggers_and_other_messages_are_not_held_back() -> None:
    limit = OncePerInterval(clock=lambda: 0.0)
    assert all(limit.filter(_record("wegweiser.casework", "case %s opened", i)) for i in range(100))
    assert limit.filter(_record("aiokafka.conn", "first"))
    assert limit.filter(_record("aiokafka.conn", "second"))
    assert not limit.filter(_record("aiokafka.conn", "first"))


def test_the_outbox_relay_retrying_through_an_outage_is_held_back_too() -> None:
    now = [0.0]
    limit = OncePerInterval(clock=lambda: now[0])
    passed = 0
    for failure in range(60):
        now[0] = failure * 0.5
        passed += limit.filter(
            _record("wegweiser.common.outbox", "outbox relay failed (%d in a row)", failure)
        )
    assert passed == 3  # at 0, 10 and 20 s of 30
