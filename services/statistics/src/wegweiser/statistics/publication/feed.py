"""The indicator feed's messages: what ``indicator.published`` carries per indicator, region and period.

Pure: from a publication to message contents keyed ``indicator/region/period`` with a digest of the
values, so the publisher sends only keys whose digest changed (the topic is compacted by that key).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from wegweiser.statistics.geography import REGION_LEVELS, RegionTree
from wegweiser.statistics.publication.compute import Frame
from wegweiser.statistics.publication.disclosure import Publication
from wegweiser.statistics.publication.indicators import INDICATORS
from wegweiser.statistics.publication.suppression import PUBLIC_REASONS, SUPPRESSED, Reason

FeedContent = tuple[str, str, str, dict[str, Any], dict[str, str]]
"""(indicator, region, period, values, why each suppressed value is hidden) of one message."""


def feed_messages(
    pub: Publication, frame: Frame, *, threshold: int, municipal_months: bool = False
) -> dict[str, tuple[str, FeedContent]]:
    """Feed key → (digest of the values, (indicator, region, period, values)) for every key with a
    non-zero value; the message itself is built only for keys that changed. Municipalities by month
    (almost all suppressed, and 80 % of all keys) only with ``municipal_months``."""
    tree = frame.tree
    level_of = {code: region.level for code, region in tree.regions.items()}
    by_family: dict[str, dict[tuple[str, str], dict[str, tuple[float | None, bool, Reason | None]]]] = {}
    for c in pub.cells:
        family = by_family.get(c.family)
        if family is None:
            family = by_family[c.family] = {}
        cells = family.get((c.region, c.period))
        if cells is None:
            cells = family[(c.region, c.period)] = {}
        cells[c.series] = (c.value, c.suppressed, c.reason)
    salt = str(threshold).encode()
    out = {}
    for indicator in INDICATORS.values():
        keyed = by_family.get(indicator.family)
        if not keyed:
            continue
        series = {
            level: [(s.id, s.key, s.unit == "count") for s in indicator.series_at(level)]
            for level in REGION_LEVELS
        }
        prefix = f"{indicator.id}/"
        for (region, period), cells in keyed.items():
            level = level_of[region]
            wanted = series[level]
            if not wanted or (
                level == "gemeinde" and not municipal_months and len(period) == 7 and "Q" not in period
            ):
                continue
            values: dict[str, Any] = {}
            reasons: dict[str, str] = {}
            shown = False
            for sid, key, count in wanted:
                cell = cells.get(key)
                if cell is None:
                    value: Any = 0 if count else None
                elif cell[1]:
                    value = SUPPRESSED
                    if cell[2] is not None:
                        reasons[sid] = PUBLIC_REASONS[cell[2]]
                elif cell[0] is None:
                    value = None
                else:
                    value = int(cell[0]) if count else cell[0]
                values[sid] = value
                shown = shown or (value is not None and value != 0)
            if not shown:
                continue
            # Keys without a hidden value keep the digest they had before reasons were fed.
            content = orjson.dumps([values, reasons] if reasons else values)
            digest = hashlib.blake2b(content + salt, digest_size=12).hexdigest()
            out[f"{prefix}{region}/{period}"] = (digest, (indicator.id, region, period, values, reasons))
    return out


def message_fields(content: FeedContent, frame: Frame) -> dict[str, Any]:
    """The fields of an ``indicator.published`` message (threshold, generation and time aside)."""
    indicator, region, period, values, reasons = content
    return {**_fields(indicator, region, period, values, frame.tree), "suppressed_reasons": reasons}


def zero_message(key: str, frame: Frame) -> dict[str, Any]:
    """A key that had values and has none now (e.g. a withdrawn allocation): all counts 0."""
    indicator_id, region, period = key.split("/")
    indicator = INDICATORS[indicator_id]
    level = frame.tree.level(region)
    values = {s.id: (0 if s.unit == "count" else None) for s in indicator.series_at(level)}
    return _fields(indicator_id, region, period, values, frame.tree)


def _period_level(key: str) -> str:
    """``2024`` → year, ``2024-Q1`` → quarter, ``2024-03`` → month."""
    if "Q" in key:
        return "quarter"
    return "month" if "-" in key else "year"


def _fields(
    indicator: str, region: str, period: str, values: dict[str, Any], tree: RegionTree
) -> dict[str, Any]:
    r = tree.regions[region]
    return {
        "indicator": indicator,
        "region": region,
        "region_level": r.level,
        "region_name": r.name,
        "period": period,
        "period_level": _period_level(period),
        "values": values,
        "unit": INDICATORS[indicator].unit,
    }
