"""The JSON shapes of statistics' HTTP API and their converters from the read side's views."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from wegweiser.common.events.statistics import SuppressedReason
from wegweiser.statistics.db import Generation
from wegweiser.statistics.projection.replay import Progress
from wegweiser.statistics.publication.indicators import Indicator
from wegweiser.statistics.publication.publisher import PublicationStats
from wegweiser.statistics.publication.suppression import PUBLIC_REASONS
from wegweiser.statistics.read import views
from wegweiser.statistics.read.views import Value


class SeriesOut(BaseModel):
    id: str
    label: str
    unit: str


class IndicatorOut(BaseModel):
    id: str
    name: str
    name_de: str
    name_en: str
    definition_de: str
    definition_en: str
    unit: str
    lowest_level: str
    series: list[SeriesOut]
    url: str


class CatalogueOut(BaseModel):
    indicators: list[IndicatorOut]
    levels: list[str] = ["land", "regierungsbezirk", "kreis", "gemeinde"]
    periods: dict[str, str]
    threshold: int
    generation: int | None
    published_at: dt.datetime | None


class RegionOut(BaseModel):
    code: str
    name: str
    level: str


class PeriodOut(BaseModel):
    key: str
    level: str
    first_day: dt.date
    last_day: dt.date


class RowOut(BaseModel):
    region: RegionOut
    values: dict[str, Value] = Field(description='"." = suppressed; null = cannot be computed')
    suppressed_reasons: dict[str, SuppressedReason] = Field(
        default_factory=dict,
        description='series id -> why its "." is hidden: too_small (below the threshold, or its base is), '
        "protects_other (hidden so that no small value can be worked out from totals); "
        "suppressed series only",
    )


class TableOut(BaseModel):
    indicator: IndicatorOut
    region: RegionOut
    level: str
    period: PeriodOut
    series: list[SeriesOut]
    rows: list[RowOut]
    threshold: int
    generation: int
    published_at: dt.datetime | None
    legend: dict[str, str]


class LegacyValue(BaseModel):
    """The walking skeleton's single cell (deprecated: use the table form)."""

    indicator: str
    region: str
    period: str
    value: int | str
    suppressed: bool


class RebuildOut(BaseModel):
    generation: int
    state: str
    events_total: int
    events_read: int
    events_applied: int
    duplicates: int
    malformed: int
    rate_per_s: float
    eta_s: float | None
    percent: float
    created_at: dt.datetime
    caught_up_at: dt.datetime | None
    switched_at: dt.datetime | None
    published_at: dt.datetime | None
    error: str | None


class ProjectionOut(BaseModel):
    active_generation: int | None
    building_generation: int | None
    threshold: int
    published_at: dt.datetime | None
    publication_s: float | None
    cells: int
    suppressed_cells: int
    unplaced_events: int
    dead_letters_rebuild: int = Field(
        description="malformed events the rebuild of the serving generation met"
    )
    dead_letters_live: int = Field(
        description="events the live engine dead-lettered since this process started"
    )
    duplicates_dropped: int
    generations: list[RebuildOut]


class PublicationOut(PublicationStats):
    pass  # the publisher's figures under the published schema's name (and without a description)


def indicator_out(i: Indicator, *, english: bool) -> IndicatorOut:
    return IndicatorOut(
        id=i.id,
        name=i.name_en if english else i.name_de,
        name_de=i.name_de,
        name_en=i.name_en,
        definition_de=i.definition_de,
        definition_en=i.definition_en,
        unit=i.unit,
        lowest_level=i.min_level,
        series=[
            SeriesOut(id=s.id, label=s.label_en if english else s.label_de, unit=s.unit) for s in i.series
        ],
        url=f"/v1/indicators/{i.id}",
    )


def rebuild_out(g: Generation, progress: Progress | None) -> RebuildOut:
    """A generation's row, with the live progress of a rebuild running in this process."""
    total, read = g.events_total, g.events_read
    rate = g.rate_per_s
    eta = None
    if progress is not None and g.state == "building":
        total, read, rate, eta = progress.total, progress.seen, progress.rate, progress.eta_s
    elif g.state != "building":
        eta = 0.0
    percent = 100.0 if total == 0 and g.state != "building" else (100.0 * read / total if total else 0.0)
    return RebuildOut(
        generation=g.id,
        state=g.state,
        events_total=total,
        events_read=read,
        events_applied=g.events_applied,
        duplicates=g.duplicates,
        malformed=g.malformed,
        rate_per_s=round(rate, 1),
        eta_s=None if eta is None else round(eta, 1),
        percent=round(percent, 1),
        created_at=g.created_at,
        caught_up_at=g.caught_up_at,
        switched_at=g.switched_at,
        published_at=g.published_at,
        error=g.error,
    )


def legend_reasons(threshold: int, *, english: bool) -> dict[str, str]:
    """What the reasons of ``suppressed_reasons`` mean."""
    if english:
        return {
            "too_small": f"too small: fewer than {threshold} cases (for a derived value: its base)",
            "protects_other": "protected: hidden so that no small value can be worked out from totals",
        }
    return {
        "too_small": f"zu klein: weniger als {threshold} Fälle (bei abgeleiteten Werten: ihre Basis)",
        "protects_other": "geschützt, damit kein kleiner Wert aus Summen errechnet werden kann",
    }


def table_out(view: views.TableView, *, english: bool) -> TableOut:
    q = view.query
    threshold = view.threshold
    return TableOut(
        indicator=indicator_out(q.indicator, english=english),
        region=RegionOut(code=q.region.code, name=q.region.name, level=q.region.level),
        level=q.level,
        period=PeriodOut(
            key=q.period.key, level=q.period.level, first_day=q.period.first_day, last_day=q.period.last_day
        ),
        series=[
            SeriesOut(id=s.id, label=s.label_en if english else s.label_de, unit=s.unit) for s in view.series
        ],
        rows=[
            RowOut(
                region=RegionOut(code=r.region.code, name=r.region.name, level=r.region.level),
                values=r.values,
                suppressed_reasons={sid: PUBLIC_REASONS[reason] for sid, reason in r.reasons.items()},
            )
            for r in view.rows
        ],
        threshold=threshold,
        generation=view.generation,
        published_at=view.published_at,
        legend={
            ".": f"suppressed (fewer than {threshold}, or recomputable from totals)"
            if english
            else f"geheim gehalten (weniger als {threshold} oder aus Summen rückrechenbar)",
            **legend_reasons(threshold, english=english),
            "null": "cannot be computed (no cases)" if english else "nicht berechenbar (keine Fälle)",
        },
    )
