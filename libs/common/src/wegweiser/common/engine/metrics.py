"""Per-AGS counters and gauges, latency per partition and Kreis, through the OpenTelemetry API.

Counts are kept in plain dicts and reported by observable instruments when the exporter
collects: a synchronous counter costs microseconds per event, which the hot path cannot afford.
Latency is labelled by partition and Kreis, never by AGS (1,101 AGS x buckets is too many series).
It is bucketed here too (fixed boundaries, in seconds) and reported as the three cumulative series
a Prometheus histogram consists of: ``wegweiser.engine.latency.bucket`` (attribute ``le``),
``.sum`` and ``.count``. The SDK's synchronous ``Histogram.record`` cost about 6.5 us per event
(attribute cleaning and hashing on every call), 15 % of the engine's whole per-event cost.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

if TYPE_CHECKING:
    from wegweiser.common.engine.pairs import Pair

METER_NAME = "wegweiser.common.engine"

GaugeSource = Callable[[], Mapping[str, Mapping[str, int]]]

# Upper bounds (seconds) of the latency buckets; a last, unbounded one follows.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 86400.0,
)  # fmt: skip


class _Latency:
    """One latency series: per-bucket counts (non-cumulative), sum and count."""

    __slots__ = ("attrs", "buckets", "count", "sum")

    def __init__(self, attrs: dict[str, str | int]) -> None:
        self.attrs = attrs
        self.buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.sum = 0.0
        self.count = 0


class EngineMetrics:
    """Measurements of one engine; the instruments are shared by all engines in the process."""

    def __init__(self, *, group: str, kreis_of: Callable[[str], str] | None, gauges: GaugeSource) -> None:
        self.group = group
        self.kreis_of = kreis_of
        self.gauges = gauges  # {"buffered": {ags: n}, "parked": {ags: n}}
        self.counts: dict[str, defaultdict[str, int]] = {
            name: defaultdict(int) for name in ("processed", "failed", "dead_lettered", "deferred")
        }
        self._latency: dict[tuple[str, int, str], _Latency] = {}  # by (topic, partition, AGS)
        self._series_by_kreis: dict[tuple[str, int, str], _Latency] = {}
        _instruments()
        _LIVE.add(self)

    def add(self, name: str, ags: str, n: int = 1) -> None:
        self.counts[name][ags] += n

    def latency(self, *, topic: str, partition: int, ags: str, seconds: float) -> None:
        """Time from the event's production to the end of its handling."""
        key = (topic, partition, ags)
        series = self._latency.get(key)
        if series is None:
            series = self._series(key)
        series.buckets[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        series.sum += seconds
        series.count += 1

    def _series(self, key: tuple[str, int, str]) -> _Latency:
        topic, partition, ags = key
        kreis = self.kreis_of(ags) if (self.kreis_of and ags) else ""
        attrs: dict[str, str | int] = {
            "group": self.group,
            "topic": topic,
            "partition": partition,
            "kreis": kreis,
        }
        series = self._series_by_kreis.get((topic, partition, kreis))  # AGS of a Kreis share one
        if series is None:
            series = self._series_by_kreis[(topic, partition, kreis)] = _Latency(attrs)
        self._latency[key] = series
        return series

    def latency_series(self) -> list[_Latency]:
        """The distinct latency series (one per group, topic, partition and Kreis)."""
        return list(self._series_by_kreis.values())


@dataclass(frozen=True)
class _Instruments:
    pass


_LIVE: weakref.WeakSet[EngineMetrics] = weakref.WeakSet()
_INSTRUMENTS: list[_Instruments] = []


def _counter_callback(name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        totals: defaultdict[tuple[str, str], int] = defaultdict(int)
        for engine in list(_LIVE):
            for ags, n in engine.counts[name].items():
                totals[(engine.group, ags)] += n
        return [Observation(n, {"group": g, "ags": a}) for (g, a), n in totals.items()]

    return observe


def _gauge_callback(name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        totals: defaultdict[tuple[str, str], int] = defaultdict(int)
        for engine in list(_LIVE):
            for ags, n in engine.gauges().get(name, {}).items():
                totals[(engine.group, ags)] += n
        return [Observation(n, {"group": g, "ags": a}) for (g, a), n in totals.items()]

    return observe


def _latency_callback(part: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        found: list[Observation] = []
        for engine in list(_LIVE):
            for series in engine.latency_series():
                if part == "count":
                    found.append(Observation(series.count, series.attrs))
                elif part == "sum":
                    found.append(Observation(series.sum, series.attrs))
                else:
                    total = 0
                    for bound, n in zip((*LATENCY_BOUNDS, "+Inf"), series.buckets, strict=True):
                        total += n
                        found.append(Observation(total, {**series.attrs, "le": str(bound)}))
        return found

    return observe


def _instruments() -> _Instruments:
    """Create the instruments once per process (observable ones cannot be registered twice)."""
    if not _INSTRUMENTS:
        meter = metrics.get_meter(METER_NAME)
        for name, description in (
            ("processed", "events handled successfully"),
            ("failed", "handler failures (each failed attempt)"),
            ("dead_lettered", "events written to the dead-letter topic as failed"),
            ("deferred", "events left in the log for later because their AGS had no room"),
        ):
            meter.create_observable_counter(
                f"wegweiser.engine.{name}", callbacks=[_counter_callback(name)], description=description
            )
        meter.create_observable_gauge(
            "wegweiser.engine.buffered",
            callbacks=[_gauge_callback("buffered")],
            description="events held in memory, per AGS",
        )
        meter.create_observable_gauge(
            "wegweiser.engine.parked",
            callbacks=[_gauge_callback("parked")],
            description="aggregates parked behind a failed or dead-lettered event, per AGS",
        )
        for part, unit, description in (
            ("bucket", "1", "events handled within `le` seconds of their production (cumulative)"),
            ("sum", "s", "sum of the times from the events' production to the end of their handling"),
            ("count", "1", "events whose latency was measured"),
        ):
            meter.create_observable_counter(
                f"wegweiser.engine.latency.{part}",
                callbacks=[_latency_callback(part)],
                unit=unit,
                description=description,
            )
        _INSTRUMENTS.append(_Instruments())
    return _INSTRUMENTS[0]


def partition_gauges(pairs: Iterable[Pair]) -> dict[str, dict[str, int]]:
    """Buffered events and parked aggregates per AGS, over an engine's pairs."""
    buffered: defaultdict[str, int] = defaultdict(int)
    parked: defaultdict[str, int] = defaultdict(int)
    for pair in list(pairs):
        for ags, n in pair.work.buffered.items():
            if n:
                buffered[ags] += n
        for ags, _where in pair.work.parked_lanes():
            parked[ags] += 1
    return {"buffered": dict(buffered), "parked": dict(parked)}
