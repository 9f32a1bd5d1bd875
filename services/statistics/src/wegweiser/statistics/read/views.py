"""The read side: published cells as tables and time series, the only source of every output."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from wegweiser.common.bilingual import BilingualError
from wegweiser.common.events.statistics import RegionLevel
from wegweiser.statistics.geography import DEPTH, Region, RegionTree
from wegweiser.statistics.periods import Period, PeriodRange
from wegweiser.statistics.projection.tables import table_name
from wegweiser.statistics.publication.indicators import INDICATORS, Indicator, Series
from wegweiser.statistics.publication.suppression import SUPPRESSED, Reason

Value = int | float | str | None
"""A cell as every output shows it: a number, ``SUPPRESSED`` (".") or None (cannot be computed)."""


DEFAULT_LEVEL: dict[RegionLevel, RegionLevel] = {
    "land": "kreis",
    "regierungsbezirk": "kreis",
    "kreis": "gemeinde",
    "gemeinde": "gemeinde",
}


class UnknownIndicator(LookupError):
    pass


class BadQuery(BilingualError, ValueError):
    """A query parameter that names nothing publishable; ``field`` says which."""

    def __init__(self, field: str, de: str, en: str) -> None:
        super().__init__(de, en)
        self.field = field


@dataclass(frozen=True)
class Query:
    indicator: Indicator
    region: Region
    level: RegionLevel
    period: Period

    @property
    def file_stem(self) -> str:
        """The name of a download of this table, without its ending."""
        return f"{self.indicator.id}_{self.region.code}_{self.level}_{self.period.key}"


def resolve(
    indicator_id: str,
    *,
    region: str | None,
    level: str | None,
    period: str | None,
    tree: RegionTree,
    periods: PeriodRange,
) -> Query:
    """Check a query against the catalogue, the region tree and the published period range."""
    indicator = INDICATORS.get(indicator_id)
    if indicator is None:
        raise UnknownIndicator(indicator_id)
    code = region or tree.land
    place = tree.get(code)
    if place is None:
        raise BadQuery("region", f"Unbekannte Region {code!r}", f"unknown region {code!r}")
    if level is None:
        level = DEFAULT_LEVEL[place.level]
        if DEPTH[level] > DEPTH[indicator.min_level]:
            level = indicator.min_level
        if DEPTH[level] < DEPTH[place.level]:
            level = place.level
    if level not in DEPTH:
        raise BadQuery("level", f"Unbekannte Ebene {level!r}", f"unknown level {level!r}")
    if DEPTH[level] < DEPTH[place.level]:
        raise BadQuery(
            "level",
            f"Die Ebene {level} liegt über der Region {code}",
            f"level {level} is above region {code}",
        )
    if DEPTH[level] > DEPTH[indicator.min_level]:
        raise BadQuery(
            "level",
            f"{indicator.name_de} gibt es nur bis zur Ebene {indicator.min_level}",
            f"{indicator.name_en} is published down to level {indicator.min_level} only",
        )
    try:
        when = Period.parse(period) if period else Period("year", periods.last_month // 100)
    except ValueError:
        raise BadQuery(
            "period",
            f"Kein Zeitraum: {period!r} (2024, 2024-Q1 oder 2024-03)",
            f"not a period: {period!r} (2024, 2024-Q1 or 2024-03)",
        ) from None
    if not periods.contains(when):
        first, last = Period.month(periods.first_month).key, Period.month(periods.last_month).key
        raise BadQuery(
            "period",
            f"Zeitraum {when.key} liegt außerhalb von {first} bis {last}",
            f"period {when.key} is outside {first} to {last}",
        )
    return Query(indicator, place, level, when)


@dataclass(frozen=True)
class Row:
    region: Region
    values: dict[str, Value]
    reasons: dict[str, Reason] = field(default_factory=dict)  # series id → why its "." is hidden


@dataclass(frozen=True)
class TableView:
    query: Query
    series: tuple[Series, ...]
    rows: list[Row]  # the region itself first (its total), then its regions of the level asked for
    generation: int
    published_at: dt.datetime | None
    threshold: int


def shown(value: float | None, suppressed: bool, series: Series) -> Value:
    """What every output shows for a published cell: "." when suppressed, whole numbers for counts."""
    if suppressed:
        return SUPPRESSED
    if value is None:
        return None
    return int(value) if series.unit == "count" else value


def _missing(series: Series) -> Value:
    """A cell that was not published: a count of 0, or a value that cannot be computed."""
    return 0 if series.unit == "count" else None


async def read_cells(
    conn: AsyncConnection,
    generation: int,
    *,
    family: str,
    periods: list[str],
    regions: list[str],
    series: list[str],
) -> dict[tuple[str, str, str], tuple[float | None, bool, Reason | None]]:
    """(region, period, series) → (value, suppressed, reason) of the published cells asked for."""
    if not (periods and regions and series):
        return {}
    stmt = text(
        "SELECT region, period, series, value, suppressed, reason "
        f"FROM {table_name(generation, 'published')} "
        "WHERE family = :family AND period IN :periods AND region IN :regions AND series IN :series"
    ).bindparams(
        bindparam("periods", expanding=True),
        bindparam("regions", expanding=True),
        bindparam("series", expanding=True),
    )
    result = await conn.execute(
        stmt, {"family": family, "periods": periods, "regions": regions, "series": series}
    )
    return {(r[0], r[1], r[2]): (r[3], bool(r[4]), _reason(r[5]) if r[4] else None) for r in result}


def _reason(stored: str | None) -> Reason | None:
    """A suppressed cell's reason; None for a cell published before reasons were stored (until the
    first publication after an upgrade rewrites it)."""
    return "primary" if stored == "primary" else "secondary" if stored == "secondary" else None


async def table(
    conn: AsyncConnection,
    q: Query,
    *,
    tree: RegionTree,
    generation: int,
    published_at: dt.datetime | None,
    threshold: int,
) -> TableView:
    codes = [q.region.code]
    if q.level != q.region.level:
        codes += tree.descendants(q.region.code, q.level)
    series = q.indicator.series_at(q.level)
    cells = await read_cells(
        conn,
        generation,
        family=q.indicator.family,
        periods=[q.period.key],
        regions=codes,
        series=[s.key for s in series],
    )
    rows = []
    for code in codes:
        values = {}
        reasons: dict[str, Reason] = {}
        for s in series:
            cell = cells.get((code, q.period.key, s.key))
            values[s.id] = _missing(s) if cell is None else shown(cell[0], cell[1], s)
            if cell is not None and cell[2] is not None:
                reasons[s.id] = cell[2]
        rows.append(Row(tree.regions[code], values, reasons))
    return TableView(q, series, rows, generation, published_at, threshold)


async def time_series(
    conn: AsyncConnection,
    indicator: Indicator,
    series: Series,
    *,
    generation: int,
    regions: list[str],
    periods: list[Period],
) -> dict[str, list[Value]]:
    """Region → values over ``periods`` (same suppression as every other output)."""
    cells = await read_cells(
        conn,
        generation,
        family=indicator.family,
        periods=[p.key for p in periods],
        regions=regions,
        series=[series.key],
    )
    out = {}
    for code in regions:
        values: list[Value] = []
        for p in periods:
            cell = cells.get((code, p.key, series.key))
            values.append(_missing(series) if cell is None else shown(cell[0], cell[1], series))
        out[code] = values
    return out
