"""Per-AGS counters and gauges, latency per partition and Kreis, through the OpenTelemetry API.

Counts are kept in plain dicts and reported by observable instruments when the exporter
collects: a synchronous counter costs microseconds per event, which the hot path cannot afford.
Latency is labelled by partition and Kreis, never by AGS (1,101 AGS x buckets is too many series).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Histogram, Observation

METER_NAME = "wegweiser.common.engine"

GaugeSource = Callable[[], Mapping[str, Mapping[str, int]]]


class EngineMetrics:
    """Measurements of one engine; the instruments are shared by all engines in the process."""

    def __init__(self, *, group: str, kreis_of: Callable[[str], str] | None, gauges: GaugeSource) -> None:
        self.group = group
        self.kreis_of = kreis_of
        self.gauges = gauges  # {"buffered": {ags: n}, "parked": {ags: n}}
        self.counts: dict[str, defaultdict[str, int]] = {
            name: defaultdict(int) for name in ("processed", "failed", "dead_lettered", "deferred")
        }
        self._attrs: dict[tuple[str, int, str], dict[str, str | int]] = {}
        self._histogram = _instruments().latency
        _LIVE.add(self)

    def add(self, name: str, ags: str, n: int = 1) -> None:
        self.counts[name][ags] += n

    def latency(self, *, topic: str, partition: int, ags: str, seconds: float) -> None:
        """Time from the event's production to the end of its handling."""
        key = (topic, partition, ags)
        attrs = self._attrs.get(key)
        if attrs is None:
            kreis = self.kreis_of(ags) if (self.kreis_of and ags) else ""
            attrs = self._attrs[key] = {
                "group": self.group,
                "topic": topic,
                "partition": partition,
                "kreis": kreis,
            }
        self._histogram.record(seconds, attrs)


@dataclass(frozen=True)
class _Instruments:
    latency: Histogram


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
        latency = meter.create_histogram(
            "wegweiser.engine.latency",
            unit="s",
            description="from the event's production to the end of its handling",
        )
        _INSTRUMENTS.append(_Instruments(latency=latency))
    return _INSTRUMENTS[0]
