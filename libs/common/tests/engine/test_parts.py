"""Small parts of the engine: low-water mark, headers, names, retention, back-off, records, CLI."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wegweiser.common.engine import EngineConfig, Record
from wegweiser.common.engine.copy_headers import Kind, Meta, join, split
from wegweiser.common.engine.dlq_command import add_dlq_commands, parse_duration
from wegweiser.common.engine.offsets import OffsetTracker
from wegweiser.common.engine.retry_topics import dlq_retention_ms, dlq_topic, retry_topic

DAY = 24 * 3600 * 1000


@given(
    st.lists(
        st.tuples(st.sampled_from(["fetch", "finish", "own", "finish_own"]), st.integers(0, 30)),
        max_size=200,
    )
)
def test_commit_never_passes_an_unfinished_offset(ops: list[tuple[str, int]]) -> None:
    """Fetches in order, finishes in any order, own writes: the commit is always safe and tight."""
    tracker = OffsetTracker(position=0)
    next_offset = 0
    unfinished: set[int] = set()
    own: list[int] = []
    own_next = 10_000  # own writes land at the end of the log, beyond anything fetched
    for op, n in ops:
        if op == "fetch":
            if tracker.fetched(next_offset):
                tracker.hold(next_offset)
                unfinished.add(next_offset)
            next_offset += 1
        elif op == "finish" and unfinished:
            offset = sorted(unfinished)[n % len(unfinished)]
            unfinished.discard(offset)
            tracker.release(offset)
        elif op == "own":
            tracker.expect(own_next)
            own.append(own_next)
            own_next += 1
        elif op == "finish_own" and own:
            tracker.release(own.pop(n % len(own)))
        commit = tracker.commit_offset()
        assert commit is not None
        assert all(commit <= o for o in unfinished)
        assert commit <= next_offset
        if not unfinished:
            assert commit == next_offset  # nothing unfinished below: the commit catches up


def test_own_writes_are_skipped_when_read_back() -> None:
    tracker = OffsetTracker(position=5)
    tracker.expect(7)
    assert tracker.fetched(5) is True
    assert tracker.fetched(6) is True
    assert tracker.fetched(7) is False
    assert tracker.commit_offset() == 7  # still unfinished
    tracker.release(7)
    assert tracker.commit_offset() == 8


def test_rewind_re_reads_only_what_was_skipped() -> None:
    tracker = OffsetTracker(position=0)
    for offset in range(4):
        tracker.fetched(offset)
    tracker.rewind(1, already_seen=[2])
    assert tracker.position == 1
    assert tracker.fetched(1) is True
    assert tracker.fetched(2) is False
    assert tracker.fetched(3) is True


def test_engine_headers_round_trip_and_keep_the_events_own() -> None:
    own = (("ce_id", b"abc"), ("ce_type", b"t.v1"), ("traceparent", b"00-1-2-01"))
    meta = Meta(
        kind=Kind.DEAD,
        attempt=5,
        src_topic="wegweiser.intake.arrivals.v1",
        src_partition=3,
        src_offset=42,
        src_timestamp_ms=1234,
        group="casework",
        parks=False,
        error_type="ValueError",
        error_message="bad ä",
    )
    parsed, rest = split(join(own, meta))
    assert rest == own
    assert parsed == meta
    assert split(own) == (None, own)


def test_topic_names_follow_the_architecture() -> None:
    assert (
        retry_topic("wegweiser.intake.arrivals.v1", "casework")
        == "wegweiser.intake.arrivals.v1.retry.casework"
    )
    assert (
        dlq_topic("wegweiser.intake.arrivals.v1", "casework") == "wegweiser.intake.arrivals.v1.dlq.casework"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [(None, 90 * DAY), (-1, 90 * DAY), (30 * DAY, 30 * DAY), (3650 * DAY, 90 * DAY)],
)
def test_dlq_retention_never_exceeds_a_shorter_source_retention(source: int | None, expected: int) -> None:
    assert dlq_retention_ms(EngineConfig(), source) == expected


def test_backoff_is_exponential_and_capped() -> None:
    cfg = EngineConfig(backoff_initial_s=1, backoff_multiplier=3, backoff_max_s=20)
    assert [cfg.backoff_ms(a) for a in range(1, 6)] == [1000, 3000, 9000, 20000, 20000]


def test_config_rejects_inconsistent_bounds() -> None:
    with pytest.raises(ValueError, match="max_in_flight_per_ags"):
        EngineConfig(max_in_flight_per_ags=10, max_in_flight_per_partition=5)


def test_record_exposes_the_envelope_headers() -> None:
    record = Record(
        "t",
        0,
        7,
        "08111000",
        b"{}",
        (("ce_id", b"id-1"), ("ce_type", b"de.wegweiser.x.v1"), ("ce_subject", b"case-9")),
        0,
        1,
        "t",
        0,
        7,
    )
    assert (record.ce_id, record.ce_type, record.subject, record.ags) == (
        "id-1",
        "de.wegweiser.x.v1",
        "case-9",
        "08111000",
    )
    assert record.header("missing") is None


def test_dlq_commands_register_with_a_callable_each() -> None:
    parser = argparse.ArgumentParser(prog="wegweiser")
    add_dlq_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["dlq", "list", "--group", "casework", "--ags", "08111000", "--older-than", "2h"]
    )
    assert args.older_than == 7200 and callable(args.func)
    args = parser.parse_args(["dlq", "replay", "t.dlq.g:0:5", "t.dlq.g:1:7"])
    assert args.ids == ["t.dlq.g:0:5", "t.dlq.g:1:7"] and args.action == "replay"
    assert parse_duration("15m") == 900


def test_metrics_report_per_ags_counts_and_gauges_and_latency_per_partition_and_kreis() -> None:
    from wegweiser.common.engine import metrics as engine_metrics

    m = engine_metrics.EngineMetrics(
        group="casework-test",
        kreis_of=lambda ags: ags[:5],
        gauges=lambda: {"buffered": {"08111000": 3}, "parked": {"08416041": 1}},
    )
    m.add("processed", "08111000", 2)
    m.add("dead_lettered", "08416041")
    m.latency(topic="t", partition=3, ags="08111000", seconds=0.01)
    m.latency(topic="t", partition=3, ags="08111001", seconds=0.3)  # same Kreis: same series
    m.latency(topic="t", partition=4, ags="08111000", seconds=7200.0)

    def observed(callback: object) -> dict[str, int]:
        found = callback(None)  # type: ignore[operator]
        return {o.attributes["ags"]: o.value for o in found if o.attributes["group"] == "casework-test"}

    assert observed(engine_metrics._counter_callback("processed")) == {"08111000": 2}
    assert observed(engine_metrics._counter_callback("dead_lettered")) == {"08416041": 1}
    assert observed(engine_metrics._gauge_callback("buffered")) == {"08111000": 3}
    assert observed(engine_metrics._gauge_callback("parked")) == {"08416041": 1}

    def latency(part: str) -> dict[tuple[object, object], object]:
        found = engine_metrics._latency_callback(part)(None)  # type: ignore[arg-type]
        return {
            (attrs["partition"], attrs.get("le")): o.value
            for o in found
            if (attrs := dict(o.attributes or {}))["group"] == "casework-test" and attrs["kreis"] == "08111"
        }

    buckets = latency("bucket")
    assert buckets[(3, "0.005")] == 0 and buckets[(3, "0.01")] == 1 and buckets[(3, "0.25")] == 1
    assert buckets[(3, "0.5")] == 2 and buckets[(3, "+Inf")] == 2
    assert buckets[(4, "3600.0")] == 0 and buckets[(4, "86400.0")] == 1 and buckets[(4, "+Inf")] == 1
    assert latency("count") == {(3, None): 2, (4, None): 1}
    assert latency("sum")[(3, None)] == 0.31


def test_the_consumer_span_continues_the_producers_trace() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    from wegweiser.common.engine import ConsumerEngine

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def handle(record: Record) -> None:
        return None

    engine = ConsumerEngine(
        bootstrap_servers="unused:9092", group_id="g", topics=["t"], handler=handle, tracer_provider=provider
    )
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = (("ce_id", b"id-1"), ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode()))
    record = Record("t.retry.g", 2, 9, "08111000", b"{}", headers, 0, 2, "t", 2, 5)
    with engine.runner.span(record):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.attributes is not None and span.attributes["messaging.kafka.offset"] == 5
    assert span.attributes["wegweiser.attempt"] == 2
