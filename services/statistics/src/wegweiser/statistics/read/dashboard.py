"""The dashboard: a server-rendered German page with charts and tables from the published cells.

Signed in by bearer header or by the HttpOnly cookie its sign-in form sets (``deps.dashboard_caller``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, Template, select_autoescape
from sqlalchemy.ext.asyncio import AsyncConnection

from wegweiser.common.auth import Forbidden, Unauthorized
from wegweiser.common.events.statistics import RegionLevel
from wegweiser.statistics.deps import (
    DASHBOARD_COOKIE,
    READER_ROLES,
    DashboardReaderDep,
    PublishedDep,
    ValidatorDep,
    WorkersDep,
    dashboard_caller,
)
from wegweiser.statistics.geography import DEPTH, LEVEL_NAMES, Region, RegionTree
from wegweiser.statistics.periods import Period, PeriodLevel, PeriodRange
from wegweiser.statistics.publication.indicators import (
    INDICATORS,
    OUTCOMES,
    PROGRAMMES,
    Indicator,
    Series,
    label,
)
from wegweiser.statistics.read import charts, views
from wegweiser.statistics.read.api import GENERATION_ID, XLSX
from wegweiser.statistics.read.exports import to_csv, to_xlsx
from wegweiser.statistics.read.published import Published
from wegweiser.statistics.read.schemas import rebuild_out

DEFAULT_INDICATOR = "consultations_by_type"

_env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_env.filters["fmt"] = charts.fmt

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def _template(name: str) -> Template:
    return _env.from_string(files("wegweiser.statistics.read.web").joinpath(name).read_text(encoding="utf-8"))


def headline(indicator: Indicator, level: RegionLevel) -> Series:
    """The series a chart shows: the first one in the indicator's own unit that exists at ``level``."""
    available = indicator.series_at(level) or indicator.series
    return next((s for s in available if s.unit == indicator.unit), available[0])


def window(period: Period, periods: PeriodRange) -> list[Period]:
    """The periods a time series shows, ending with ``period``: 24 months, 12 quarters or every year."""
    same = [p for p in periods.periods(period.level) if p <= period]
    return same[-{"month": 24, "quarter": 12, "year": 40}[period.level] :]


@dataclass
class Panel:
    title: str
    svg: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    note: str = ""


def _kreise(tree: RegionTree, region: Region) -> list[str]:
    """The Kreise a view of ``region`` compares: its own, or the others of its Regierungsbezirk too."""
    if region.level in ("land", "regierungsbezirk"):
        return tree.descendants(region.code, "kreis")
    kreis = region.code if region.level == "kreis" else tree.parent(region.code)
    assert kreis is not None
    parent = tree.parent(kreis) or tree.land
    return tree.descendants(parent, "kreis")


@dataclass(frozen=True)
class _Page:
    """What every panel of one page reads from: a connection, the query and the serving generation."""

    conn: AsyncConnection
    published: Published
    q: views.Query
    generation: int

    async def series(
        self, series: Series, regions: list[str], periods: list[Period]
    ) -> dict[str, list[views.Value]]:
        return await views.time_series(
            self.conn, self.q.indicator, series, generation=self.generation, regions=regions, periods=periods
        )


async def build_panels(published: Published, q: views.Query, generation: int) -> list[Panel]:
    """The page's charts, each with a table of the same numbers."""
    indicator = q.indicator
    compare_level: RegionLevel = (
        "kreis" if DEPTH[indicator.min_level] >= DEPTH["kreis"] else indicator.min_level
    )
    async with published.connect() as conn:
        page = _Page(conn, published, q, generation)
        panels = await _kreis_panels(page, compare_level)
        if indicator.series_at("gemeinde"):
            panels.append(await _gemeinde_ranking(page))
        panels.append(await _referral_outcomes(page))
    return panels


async def _kreis_panels(page: _Page, compare_level: RegionLevel) -> list[Panel]:
    """The ranking of Kreise (or Regierungsbezirke) in the period, and the largest ones over time."""
    tree, q, indicator = page.published.tree, page.q, page.q.indicator
    series = headline(indicator, compare_level)
    kreise = _kreise(tree, q.region) if compare_level == "kreis" else tree.at_level(compare_level)
    unit = series.unit
    level_name = LEVEL_NAMES[compare_level][0]
    ranking = await page.series(series, kreise, [q.period])
    items = [(tree.regions[c].name, ranking[c][0]) for c in kreise]
    title = f"{indicator.name_de} — {series.label_de}, {q.period.key}: Rangfolge der {level_name}e"
    ranked = Panel(
        title,
        charts.bar_ranking("rank-kreise", title=title, items=items, unit=unit),
        [level_name, series.label_de],
        [(name, [charts.fmt(v, unit)]) for name, v in _ranked(items)],
    )
    span = window(q.period, page.published.periods())
    largest = [c for c, _ in sorted(ranking.items(), key=lambda kv: _rank_key(kv[1][0]))][:5]
    if q.region.level == "kreis" and q.region.code not in largest:
        largest = [q.region.code, *largest[:4]]
    lines_data = await page.series(series, largest, span)
    lines = [charts.Line(tree.regions[c].name, lines_data[c]) for c in largest]
    title = f"{indicator.name_de} — {series.label_de}: Zeitreihe je {level_name}"
    over_time = Panel(
        title,
        charts.line_chart(
            "series-kreise", title=title, x_labels=[p.key for p in span], lines=lines, unit=unit
        ),
        ["Zeitraum", *[tree.regions[c].name for c in largest]],
        [(p.key, [charts.fmt(lines_data[c][i], unit) for c in largest]) for i, p in enumerate(span)],
    )
    return [ranked, over_time]


async def _gemeinde_ranking(page: _Page) -> Panel:
    """The 20 municipalities with the highest values in the region (or in a municipality's Kreis)."""
    tree, q, indicator = page.published.tree, page.q, page.q.indicator
    series = headline(indicator, "gemeinde")
    scope = q.region.code if q.region.level != "gemeinde" else (tree.parent(q.region.code) or tree.land)
    gemeinden = tree.descendants(scope, "gemeinde")
    values = await page.series(series, gemeinden, [q.period])
    ranked = _ranked([(tree.regions[c].name, values[c][0]) for c in gemeinden])
    shown = [kv for kv in ranked if not isinstance(kv[1], str)][:20]
    hidden = sum(1 for _, v in ranked if v == views.SUPPRESSED)
    title = (
        f"{indicator.name_de} — {series.label_de}, {q.period.key}: die 20 Gemeinden mit den "
        f"höchsten Werten ({tree.regions[scope].name})"
    )
    return Panel(
        title,
        charts.bar_ranking("rank-gemeinden", title=title, items=shown, unit=series.unit),
        ["Gemeinde", series.label_de],
        [(name, [charts.fmt(v, series.unit)]) for name, v in shown],
        note=f"{hidden} von {len(gemeinden)} Gemeinden geheim gehalten (\u201e.\u201c); "
        "die Kreisebene zeigt sie zusammengefasst.",
    )


async def _referral_outcomes(page: _Page) -> Panel:
    tree, q = page.published.tree, page.q
    region = q.region
    if DEPTH[region.level] > DEPTH["kreis"]:
        region = tree.regions[tree.parent(region.code) or tree.land]
    cells = await views.read_cells(
        page.conn,
        page.generation,
        family="referrals",
        periods=[q.period.key],
        regions=[region.code],
        series=[
            "total",
            *[f"programme:{p}" for p in PROGRAMMES],
            *[f"outcome:{o}" for o in OUTCOMES],
            *[f"programme:{p}|outcome:{o}" for p in PROGRAMMES for o in OUTCOMES],
        ],
    )

    def value(key: str) -> views.Value:
        cell = cells.get((region.code, q.period.key, key))
        return 0 if cell is None else (views.SUPPRESSED if cell[1] else int(cell[0] or 0))

    outcomes = [label(o)[0] for o in OUTCOMES]
    if DEPTH[region.level] <= DEPTH["regierungsbezirk"]:
        rows = [
            (label(p)[0], value(f"programme:{p}"), [value(f"programme:{p}|outcome:{o}") for o in OUTCOMES])
            for p in PROGRAMMES
        ]
    else:
        rows = [("Alle Programme", value("total"), [value(f"outcome:{o}") for o in OUTCOMES])]
    title = f"Ergebnisse der Vermittlungen, {region.name}, {q.period.key} (Anfragedatum)"
    return Panel(
        title,
        charts.stacked_bars("referral-outcomes", title=title, rows=rows, segments=outcomes),
        ["Programm", "Insgesamt", *outcomes],
        [(name, [charts.fmt(total), *[charts.fmt(v) for v in parts]]) for name, total, parts in rows],
        note="Nach Programm nur für Regierungsbezirke und das Land; für Kreise nach Ergebnis insgesamt.",
    )


def _rank_key(value: views.Value) -> tuple[int, float]:
    return (0, -float(value)) if isinstance(value, int | float) else (1, 0.0)


def _ranked(items: list[tuple[str, views.Value]]) -> list[tuple[str, views.Value]]:
    return sorted(items, key=lambda kv: (*_rank_key(kv[1]), kv[0]))


def _period_choices(periods: PeriodRange) -> list[tuple[str, list[Period]]]:
    """Years, quarters and months, newest first, as option groups."""
    levels: tuple[tuple[str, PeriodLevel], ...] = (
        ("Jahre", "year"),
        ("Quartale", "quarter"),
        ("Monate", "month"),
    )
    return [(name, list(reversed(periods.periods(level)))) for name, level in levels]


def _login_page(error: str | None, status_code: int) -> HTMLResponse:
    return HTMLResponse(_template("login.html").render(error=error), status_code=status_code)


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=307)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    validator: ValidatorDep,
    published: PublishedDep,
    workers: WorkersDep,
    indicator: Annotated[str, Query()] = DEFAULT_INDICATOR,
    region: Annotated[str | None, Query(max_length=20)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    """The page: the sign-in form without a token, else charts and the table of the chosen query."""
    try:
        dashboard_caller(request, validator)
    except Unauthorized:
        return _login_page(None, 401)
    except Forbidden:
        return _login_page("forbidden", 403)
    error = None
    try:
        q = published.resolve(indicator, region=region, level=None, period=period)
    except views.UnknownIndicator:
        error = f"Unbekannter Indikator {indicator!r}"
    except views.BadQuery as exc:
        error = exc.de
    if error is not None:
        q = published.resolve(DEFAULT_INDICATOR, region=None, level=None, period=None)
    active = await published.generations.active()
    building = await published.generations.building()
    panels: list[Panel] = []
    table = None
    if active is not None:
        panels = await build_panels(published, q, active.id)
        table = await published.table(q, active)
    tree = published.tree
    page = _template("dashboard.html").render(
        q=q,
        error=error,
        indicators=list(INDICATORS.values()),
        regions=[tree.regions[c] for c in tree.codes() if tree.regions[c].level != "gemeinde"],
        period_choices=_period_choices(published.periods()),
        panels=panels,
        table=table,
        active=active,
        rebuild=rebuild_out(building, workers.rebuilder.progress.get(building.id)) if building else None,
        threshold=published.threshold,
        level_names=LEVEL_NAMES,
    )
    return HTMLResponse(page, status_code=400 if error else 200)


@router.get("/dashboard/download")
async def download(
    principal: DashboardReaderDep,
    published: PublishedDep,
    indicator: Annotated[str, Query()],
    format: Annotated[Literal["csv", "xlsx"], Query()],
    region: Annotated[str | None, Query(max_length=20)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """The page's table as a file; an unknown indicator or region answers 404/422 (``read.errors``)."""
    q = published.resolve(indicator, region=region, level=level, period=period)
    active = await published.generations.active()
    if active is None:
        return Response(
            "Die Statistik wird aufgebaut.", status_code=503, media_type="text/plain; charset=utf-8"
        )
    view = await published.table(q, active)
    name = f"{q.file_stem}.{format}"
    body, media = (to_csv(view), "text/csv; charset=utf-8") if format == "csv" else (to_xlsx(view), XLSX)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/dashboard/fortschritt")
async def rebuild_progress(
    principal: DashboardReaderDep,
    workers: WorkersDep,
    generation: Annotated[int, Query(ge=1, le=GENERATION_ID)],
) -> Response:
    """The rebuild's progress for the page's bar (same data as ``GET /v1/rebuilds/{generation}``)."""
    row = await workers.generations.get(generation)
    if row is None:
        return Response(status_code=404)
    progress = workers.rebuilder.progress.get(generation)
    return Response(rebuild_out(row, progress).model_dump_json(), media_type="application/json")


@router.post("/dashboard/anmelden")
async def sign_in(validator: ValidatorDep, token: Annotated[str, Form(max_length=8000)]) -> Response:
    """Checks the token once and keeps it in an HttpOnly cookie for the dashboard's paths."""
    try:
        principal = validator.validate(token.strip())
    except Unauthorized:
        return _login_page("invalid", 401)
    if not principal.has_any(*READER_ROLES):
        return _login_page("forbidden", 403)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(DASHBOARD_COOKIE, token.strip(), httponly=True, samesite="strict", path="/dashboard")
    return response


@router.post("/dashboard/abmelden")
async def sign_out() -> Response:
    response = RedirectResponse("/dashboard", status_code=303)
    response.delete_cookie(DASHBOARD_COOKIE, path="/dashboard")
    return response
