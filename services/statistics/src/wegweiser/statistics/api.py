"""Statistics' HTTP API (``/v1``): published indicators only, after disclosure control; routes translate."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wegweiser.common.auth import Principal, require_role
from wegweiser.common.http import problem, wants_english
from wegweiser.statistics import views
from wegweiser.statistics.asyncapi import document
from wegweiser.statistics.catalogue import INDICATORS, Indicator
from wegweiser.statistics.exports import to_csv, to_xlsx
from wegweiser.statistics.periods import Period
from wegweiser.statistics.service import Statistics

ReaderDep = Annotated[Principal, require_role("statistics_reader", "admin")]
AdminDep = Annotated[Principal, require_role("admin")]

Value = int | float | str | None


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


class PublicationOut(BaseModel):
    generation: int
    cells: int
    suppressed: int
    unplaced: int
    seconds: float
    feed_messages: int


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


def rebuild_out(g: Any, stats: Statistics) -> RebuildOut:
    progress = stats.rebuilder.progress.get(g.id)
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


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["indicators"])

    @api.get("/indicators", response_model=CatalogueOut)
    async def catalogue(principal: ReaderDep, request: Request) -> Any:
        """The indicator catalogue, with German and English names and definitions."""
        stats: Statistics = request.app.state.statistics
        english = wants_english(request)
        active = await stats.generations.active()
        periods = stats.periods()
        return CatalogueOut(
            indicators=[indicator_out(i, english=english) for i in INDICATORS.values()],
            periods={
                "first": Period.month(periods.first_month).key,
                "last": Period.month(periods.last_month).key,
            },
            threshold=stats.settings.suppression_threshold,
            generation=active.id if active else None,
            published_at=active.published_at if active else None,
        )

    @api.get(
        "/indicators/{indicator_id}",
        response_model=TableOut | LegacyValue,
        responses={200: {"content": {"text/csv": {}, "application/vnd.ms-excel": {}}}},
    )
    async def indicator(
        principal: ReaderDep,
        request: Request,
        indicator_id: Annotated[str, Path(description="catalogue id, see GET /v1/indicators")],
        region: Annotated[
            str | None, Query(description="region code; default the Land", max_length=20)
        ] = None,
        level: Annotated[
            Literal["land", "regierungsbezirk", "kreis", "gemeinde"] | None,
            Query(description="level of the rows (default: the one below the region)"),
        ] = None,
        period: Annotated[
            str | None, Query(description="2024, 2024-Q1 or 2024-03; default this year")
        ] = None,
        format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")] = "json",
        ags: Annotated[str | None, Query(deprecated=True, pattern=r"^\d{8}$")] = None,
        year: Annotated[int | None, Query(deprecated=True, ge=1900, le=2100)] = None,
    ) -> Any:
        """One indicator for a region's sub-regions in one period, as JSON, CSV or XLSX."""
        stats: Statistics = request.app.state.statistics
        english = wants_english(request)
        if indicator_id == "consultations" and ags is not None:
            return await _legacy(request, stats, ags=ags, year=year, english=english)
        active = await stats.generations.active()
        try:
            q = views.resolve(
                indicator_id,
                region=region,
                level=level,
                period=period,
                tree=stats.tree,
                periods=stats.periods(),
            )
        except views.UnknownIndicator:
            return problem(
                request,
                404,
                f"unknown indicator {indicator_id!r}"
                if english
                else f"Unbekannter Indikator {indicator_id!r}",
            )
        except views.BadQuery as exc:
            message = exc.en if english else exc.de
            return problem(request, 422, message, errors=[{"field": exc.field, "message": message}])
        if active is None:
            return await _not_ready(request, stats, english=english)
        view = await stats.table(q, active)
        lang = "en" if english else "de"
        name = q.file_stem
        if format == "csv":
            return Response(
                to_csv(view, lang=lang),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        if format == "xlsx":
            return Response(
                to_xlsx(view, lang=lang),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )
        return table_out(view, english=english)

    @api.get("/projection", response_model=ProjectionOut, tags=["operations"])
    async def projection(principal: ReaderDep, request: Request) -> Any:
        """Which generation serves, its last publication, dead letters and duplicates counted."""
        stats: Statistics = request.app.state.statistics
        generations = await stats.generations.all()
        active = next((g for g in generations if g.state == "active"), None)
        building = next((g for g in generations if g.state == "building"), None)
        return ProjectionOut(
            active_generation=active.id if active else None,
            building_generation=building.id if building else None,
            threshold=stats.settings.suppression_threshold,
            published_at=active.published_at if active else None,
            publication_s=active.publication_s if active else None,
            cells=active.cells if active else 0,
            suppressed_cells=active.suppressed_cells if active else 0,
            unplaced_events=active.unplaced_events if active else 0,
            dead_letters_rebuild=active.malformed if active else 0,
            dead_letters_live=stats.live_dead_letters(),
            duplicates_dropped=active.duplicates if active else 0,
            generations=[rebuild_out(g, stats) for g in generations if g.state != "dropped"],
        )

    @api.post("/rebuilds", response_model=RebuildOut, status_code=202, tags=["operations"])
    async def start_rebuild(principal: AdminDep, request: Request, response: Response) -> Any:
        """Recompute everything from the topics' full history into a new generation, then switch to it."""
        stats: Statistics = request.app.state.statistics
        generation = await stats.rebuild()
        row = await stats.generations.get(generation)
        response.headers["Location"] = f"/v1/rebuilds/{generation}"
        return rebuild_out(row, stats)

    @api.get("/rebuilds/{generation}", response_model=RebuildOut, tags=["operations"])
    async def rebuild_status(generation: int, principal: ReaderDep, request: Request) -> Any:
        """Progress of a rebuild: events read of the total, rate and estimated time left."""
        stats: Statistics = request.app.state.statistics
        row = await stats.generations.get(generation)
        if row is None or row.state == "dropped":
            english = wants_english(request)
            return problem(
                request, 404, f"generation {generation}" if english else f"Generation {generation}"
            )
        return rebuild_out(row, stats)

    @api.post("/publications", response_model=PublicationOut, tags=["operations"])
    async def publish_now(principal: AdminDep, request: Request) -> Any:
        """Publish the serving generation now instead of at the next interval."""
        stats: Statistics = request.app.state.statistics
        active = await stats.generations.active()
        if active is None:
            return await _not_ready(request, stats, english=wants_english(request))
        result = await stats.publisher.publish(active.id, feed=True)
        assert result is not None  # waited for the lock
        return PublicationOut(**result.__dict__)

    return api


def asyncapi_router() -> APIRouter:
    api = APIRouter(tags=["documentation"])

    @api.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        """AsyncAPI 3 document of the indicator feed and the topics statistics reads."""
        return JSONResponse(document())

    return api


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
            "null": "cannot be computed (no cases)" if english else "nicht berechenbar (keine Fälle)",
        },
    )


async def _not_ready(request: Request, stats: Statistics, *, english: bool) -> JSONResponse:
    building = await stats.generations.building()
    detail = (
        "statistics are being built from the event history"
        if english
        else "Die Statistik wird aus der Ereignishistorie aufgebaut"
    )
    extra: dict[str, Any] = {}
    if building is not None:
        extra["rebuild"] = rebuild_out(building, stats).model_dump(mode="json")
    return problem(request, 503, detail, headers={"Retry-After": "10"}, **extra)


async def _legacy(request: Request, stats: Statistics, *, ags: str, year: int | None, english: bool) -> Any:
    """``?ags=&year=``: a municipality's consultations, summed from the published yearly cells."""
    tree = stats.tree
    if tree.gemeinde(ags) is None:
        message = f"unknown municipality {ags}" if english else f"Unbekannte Gemeinde {ags}"
        return problem(request, 422, message, errors=[{"field": "ags", "message": message}])
    periods = stats.periods()
    years = [p for p in periods.periods("year") if year is None or p.year == year]
    if year is not None and not years:
        message = f"year {year} is outside the published range" if english else f"Jahr {year} liegt außerhalb"
        return problem(request, 422, message, errors=[{"field": "year", "message": message}])
    active = await stats.generations.active()
    if active is None:
        return await _not_ready(request, stats, english=english)
    series = INDICATORS["consultations_by_type"].series[0]
    async with stats.runtime.db.connect() as conn:
        values = (
            await views.time_series(
                conn,
                INDICATORS["consultations_by_type"],
                series,
                generation=active.id,
                regions=[ags],
                periods=years,
            )
        )[ags]
    hidden = any(v == views.SUPPRESSED for v in values)
    total: int | str = (
        views.SUPPRESSED if hidden else sum(int(v) for v in values if isinstance(v, int | float))
    )
    return LegacyValue(
        indicator="consultations",
        region=ags,
        period=str(year) if year else "all",
        value=total,
        suppressed=hidden,
    )
