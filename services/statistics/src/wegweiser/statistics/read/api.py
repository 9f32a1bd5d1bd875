"""Statistics' HTTP API (``/v1``): published indicators only, after disclosure control; routes translate.

Unknown indicators and parameters that name nothing publishable raise from ``views.resolve`` and are
answered 404/422 by ``read.errors``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from wegweiser.common.http import not_found, problem
from wegweiser.statistics.asyncapi import document
from wegweiser.statistics.deps import AdminDep, EnglishDep, PublishedDep, ReaderDep, SettingsDep, WorkersDep
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.periods import Period
from wegweiser.statistics.publication.indicators import INDICATORS
from wegweiser.statistics.read import views
from wegweiser.statistics.read.exports import to_csv, to_xlsx
from wegweiser.statistics.read.published import Published
from wegweiser.statistics.read.schemas import (
    CatalogueOut,
    LegacyValue,
    ProjectionOut,
    PublicationOut,
    RebuildOut,
    TableOut,
    indicator_out,
    rebuild_out,
    table_out,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GENERATION_ID = 2**31 - 1  # the largest generation id a database column holds
"""Larger numbers in a path or query answer 422 instead of overflowing the database driver."""

router = APIRouter(prefix="/v1", tags=["indicators"])
documentation = APIRouter(tags=["documentation"])

RegionParam = Annotated[str | None, Query(description="region code; default the Land", max_length=20)]
LevelParam = Annotated[
    Literal["land", "regierungsbezirk", "kreis", "gemeinde"] | None,
    Query(description="level of the rows (default: the one below the region)"),
]
PeriodParam = Annotated[str | None, Query(description="2024, 2024-Q1 or 2024-03; default this year")]
FormatParam = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]


@router.get("/indicators", response_model=CatalogueOut)
async def catalogue(principal: ReaderDep, published: PublishedDep, english: EnglishDep) -> CatalogueOut:
    """The indicator catalogue, with German and English names and definitions."""
    active = await published.generations.active()
    periods = published.periods()
    return CatalogueOut(
        indicators=[indicator_out(i, english=english) for i in INDICATORS.values()],
        periods={
            "first": Period.month(periods.first_month).key,
            "last": Period.month(periods.last_month).key,
        },
        threshold=published.threshold,
        generation=active.id if active else None,
        published_at=active.published_at if active else None,
    )


@router.get(
    "/indicators/{indicator_id}",
    response_model=TableOut | LegacyValue,
    responses={200: {"content": {"text/csv": {}, "application/vnd.ms-excel": {}}}},
)
async def indicator(
    principal: ReaderDep,
    request: Request,
    published: PublishedDep,
    workers: WorkersDep,
    english: EnglishDep,
    indicator_id: Annotated[str, Path(description="catalogue id, see GET /v1/indicators")],
    region: RegionParam = None,
    level: LevelParam = None,
    period: PeriodParam = None,
    format: FormatParam = "json",
    ags: Annotated[str | None, Query(deprecated=True, pattern=r"^\d{8}$")] = None,
    year: Annotated[int | None, Query(deprecated=True, ge=1900, le=2100)] = None,
) -> TableOut | LegacyValue | Response:
    """One indicator for a region's sub-regions in one period, as JSON, CSV or XLSX."""
    if indicator_id == "consultations" and ags is not None:
        return await _legacy(request, published, workers, ags=ags, year=year, english=english)
    q = published.resolve(indicator_id, region=region, level=level, period=period)
    active = await published.generations.active()
    if active is None:
        return await _not_ready(request, workers, english=english)
    view = await published.table(q, active)
    lang = "en" if english else "de"
    if format == "csv":
        return _download(to_csv(view, lang=lang), "text/csv; charset=utf-8", f"{q.file_stem}.csv")
    if format == "xlsx":
        return _download(to_xlsx(view, lang=lang), XLSX, f"{q.file_stem}.xlsx")
    return table_out(view, english=english)


@router.get("/projection", response_model=ProjectionOut, tags=["operations"])
async def projection(principal: ReaderDep, workers: WorkersDep, settings: SettingsDep) -> ProjectionOut:
    """Which generation serves, its last publication, dead letters and duplicates counted."""
    generations = await workers.generations.all()
    active = next((g for g in generations if g.state == "active"), None)
    building = next((g for g in generations if g.state == "building"), None)
    progress = workers.rebuilder.progress
    return ProjectionOut(
        active_generation=active.id if active else None,
        building_generation=building.id if building else None,
        threshold=settings.suppression_threshold,
        published_at=active.published_at if active else None,
        publication_s=active.publication_s if active else None,
        cells=active.cells if active else 0,
        suppressed_cells=active.suppressed_cells if active else 0,
        unplaced_events=active.unplaced_events if active else 0,
        dead_letters_rebuild=active.malformed if active else 0,
        dead_letters_live=workers.live_dead_letters(),
        duplicates_dropped=active.duplicates if active else 0,
        generations=[rebuild_out(g, progress.get(g.id)) for g in generations if g.state != "dropped"],
    )


@router.post("/rebuilds", response_model=RebuildOut, status_code=202, tags=["operations"])
async def start_rebuild(principal: AdminDep, workers: WorkersDep, response: Response) -> RebuildOut:
    """Recompute everything from the topics' full history into a new generation, then switch to it."""
    generation = await workers.rebuild()
    row = await workers.generations.get(generation)
    assert row is not None  # registered just now
    response.headers["Location"] = f"/v1/rebuilds/{generation}"
    return rebuild_out(row, workers.rebuilder.progress.get(generation))


@router.get("/rebuilds/{generation}", response_model=RebuildOut, tags=["operations"])
async def rebuild_status(
    generation: Annotated[int, Path(ge=1, le=GENERATION_ID)],
    principal: ReaderDep,
    request: Request,
    workers: WorkersDep,
    english: EnglishDep,
) -> RebuildOut | JSONResponse:
    """Progress of a rebuild: events read of the total, rate and estimated time left."""
    row = await workers.generations.get(generation)
    if row is None or row.state == "dropped":
        return not_found(request, "Generation", "generation", generation)
    return rebuild_out(row, workers.rebuilder.progress.get(generation))


@router.post("/publications", response_model=PublicationOut, tags=["operations"])
async def publish_now(
    principal: AdminDep, request: Request, workers: WorkersDep, english: EnglishDep
) -> PublicationOut | JSONResponse:
    """Publish the serving generation now instead of at the next interval."""
    active = await workers.generations.active()
    if active is None:
        return await _not_ready(request, workers, english=english)
    result = await workers.publisher.publish(active.id, feed=True)
    assert result is not None  # waited for the lock
    return PublicationOut(**result.model_dump())


@documentation.get("/asyncapi.json", include_in_schema=False)
async def asyncapi() -> JSONResponse:
    """AsyncAPI 3 document of the indicator feed and the topics statistics reads."""
    return JSONResponse(document())


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def _not_ready(request: Request, workers: Workers, *, english: bool) -> JSONResponse:
    building = await workers.generations.building()
    detail = (
        "statistics are being built from the event history"
        if english
        else "Die Statistik wird aus der Ereignishistorie aufgebaut"
    )
    extra: dict[str, Any] = {}
    if building is not None:
        progress = workers.rebuilder.progress.get(building.id)
        extra["rebuild"] = rebuild_out(building, progress).model_dump(mode="json")
    return problem(request, 503, detail, headers={"Retry-After": "10"}, **extra)


async def _legacy(
    request: Request,
    published: Published,
    workers: Workers,
    *,
    ags: str,
    year: int | None,
    english: bool,
) -> LegacyValue | JSONResponse:
    """``?ags=&year=``: a municipality's consultations, summed from the published yearly cells."""
    if published.tree.gemeinde(ags) is None:
        message = f"unknown municipality {ags}" if english else f"Unbekannte Gemeinde {ags}"
        return problem(request, 422, message, errors=[{"field": "ags", "message": message}])
    years = [p for p in published.periods().periods("year") if year is None or p.year == year]
    if year is not None and not years:
        message = f"year {year} is outside the published range" if english else f"Jahr {year} liegt außerhalb"
        return problem(request, 422, message, errors=[{"field": "year", "message": message}])
    active = await published.generations.active()
    if active is None:
        return await _not_ready(request, workers, english=english)
    consultations = INDICATORS["consultations_by_type"]
    async with published.connect() as conn:
        series = await views.time_series(
            conn, consultations, consultations.series[0], generation=active.id, regions=[ags], periods=years
        )
    values = series[ags]
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
