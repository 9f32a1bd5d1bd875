"""The dashboard: a server-rendered German page with charts and tables from the published cells.

Browsers cannot send a bearer header on their own, so the page also accepts the token from an HttpOnly
cookie set by its sign-in form (behind an OpenID Connect proxy, the header arrives as usual).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, select_autoescape

from wegweiser.common.auth import Forbidden, JwksValidator, Principal, Unauthorized
from wegweiser.statistics import charts, views
from wegweiser.statistics.api import rebuild_out
from wegweiser.statistics.catalogue import INDICATORS, OUTCOMES, PROGRAMMES, Indicator, Series, label
from wegweiser.statistics.exports import to_csv, to_xlsx
from wegweiser.statistics.geography import DEPTH, LEVEL_NAMES, Region, RegionTree
from wegweiser.statistics.periods import Period, PeriodLevel, PeriodRange
from wegweiser.statistics.service import Statistics

COOKIE = "wegweiser_token"
ROLES = ("statistics_reader", "admin")

_env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
_env.filters["fmt"] = charts.fmt


def _template(name: str) -> Any:
    return _env.from_string(files("wegweiser.statistics.web").joinpath(name).read_text(encoding="utf-8"))


def principal_of(request: Request) -> Principal:
    """The caller from the Authorization header, else from the dashboard's cookie; 401/403 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.cookies.get(COOKIE, "")
    if not token:
        raise Unauthorized("missing token")
    validator: JwksValidator = request.app.state.auth
    principal = validator.validate(token.strip())
    if not principal.has_any(*ROLES):
        raise Forbidden(f"requires one of the roles: {', '.join(ROLES)}")
    return principal


def headline(indicator: Indicator, level: str) -> Series:
    """The series a chart shows: the first one in the indicator's own unit that exists at ``level``."""
    available = indicator.series_at(level) or indicator.series  # type: ignore[arg-type]
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


async def build_panels(stats: Statistics, q: views.Query, generation: int) -> list[Panel]:
    tree = stats.tree
    periods = stats.periods()
    indicator = q.indicator
    panels: list[Panel] = []
    compare_level = "kreis" if DEPTH[indicator.min_level] >= DEPTH["kreis"] else indicator.min_level
    series = headline(indicator, compare_level)
    kreise = _kreise(tree, q.region) if compare_level == "kreis" else tree.at_level(compare_level)
    unit = series.unit
    level_name = LEVEL_NAMES[compare_level][0]
    async with stats.runtime.db.connect() as conn:
        # Ranking of Kreise (or Regierungsbezirke) in the period.
        ranking = await views.time_series(
            conn, indicator, series, generation=generation, regions=kreise, periods=[q.period]
        )
        items = [(tree.regions[c].name, ranking[c][0]) for c in kreise]
        title = f"{indicator.name_de} — {series.label_de}, {q.period.key}: Rangfolge der {level_name}e"
        panels.append(
            Panel(
                title,
                charts.bar_ranking("rank-kreise", title=title, items=items, unit=unit),
                [level_name, series.label_de],
                [(name, [charts.fmt(v, unit)]) for name, v in _ranked(items)],
            )
        )
        # Time series of the largest Kreise.
        span = window(q.period, periods)
        largest = [c for c, _ in sorted(ranking.items(), key=lambda kv: _rank_key(kv[1][0]))][:5]
        if q.region.level == "kreis" and q.region.code not in largest:
            largest = [q.region.code, *largest[:4]]
        lines_data = await views.time_series(
            conn, indicator, series, generation=generation, regions=largest, periods=span
        )
        lines = [charts.Line(tree.regions[c].name, lines_data[c]) for c in largest]
        title = f"{indicator.name_de} — {series.label_de}: Zeitreihe je {level_name}"
        panels.append(
            Panel(
                title,
                charts.line_chart(
                    "series-kreise", title=title, x_labels=[p.key for p in span], lines=lines, unit=unit
                ),
                ["Zeitraum", *[tree.regions[c].name for c in largest]],
                [(p.key, [charts.fmt(lines_data[c][i], unit) for c in largest]) for i, p in enumerate(span)],
            )
        )
        # Ranking of municipalities, where the indicator exists for them.
        if indicator.series_at("gemeinde"):
            g_series = headline(indicator, "gemeinde")
            scope = (
                q.region.code if q.region.level != "gemeinde" else (tree.parent(q.region.code) or tree.land)
            )
            gemeinden = tree.descendants(scope, "gemeinde")
            values = await views.time_series(
                conn, indicator, g_series, generation=generation, regions=gemeinden, periods=[q.period]
            )
            items = [(tree.regions[c].name, values[c][0]) for c in gemeinden]
            ranked = _ranked(items)
            shown = [kv for kv in ranked if not isinstance(kv[1], str)][:20]
            hidden = sum(1 for _, v in ranked if v == views.SUPPRESSED)
            title = (
                f"{indicator.name_de} — {g_series.label_de}, {q.period.key}: die 20 Gemeinden mit den "
                f"höchsten Werten ({tree.regions[scope].name})"
            )
            panels.append(
                Panel(
                    title,
                    charts.bar_ranking("rank-gemeinden", title=title, items=shown, unit=g_series.unit),
                    ["Gemeinde", g_series.label_de],
                    [(name, [charts.fmt(v, g_series.unit)]) for name, v in shown],
                    note=f"{hidden} von {len(gemeinden)} Gemeinden geheim gehalten (\u201e.\u201c); "
                    "die Kreisebene zeigt sie zusammengefasst.",
                )
            )
        panels.append(await _referral_outcomes(conn, stats, q, generation))
    return panels


async def _referral_outcomes(conn: Any, stats: Statistics, q: views.Query, generation: int) -> Panel:
    tree = stats.tree
    region = q.region
    if DEPTH[region.level] > DEPTH["kreis"]:
        region = tree.regions[tree.parent(region.code) or tree.land]
    cells = await views.read_cells(
        conn,
        generation,
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


def router() -> APIRouter:
    web = APIRouter(tags=["dashboard"], include_in_schema=False)

    @web.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard", status_code=307)

    @web.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(
        request: Request,
        indicator: Annotated[str, Query()] = "consultations_by_type",
        region: Annotated[str | None, Query(max_length=20)] = None,
        period: Annotated[str | None, Query(max_length=10)] = None,
    ) -> HTMLResponse:
        try:
            principal_of(request)
        except Unauthorized:
            return HTMLResponse(_template("login.html").render(error=None), status_code=401)
        except Forbidden:
            return HTMLResponse(_template("login.html").render(error="forbidden"), status_code=403)
        stats: Statistics = request.app.state.statistics
        tree = stats.tree
        periods = stats.periods()
        error = None
        try:
            q = views.resolve(indicator, region=region, level=None, period=period, tree=tree, periods=periods)
        except views.UnknownIndicator:
            error, q = f"Unbekannter Indikator {indicator!r}", None
        except views.BadQuery as exc:
            error, q = exc.de, None
        if q is None:
            q = views.resolve(
                "consultations_by_type", region=None, level=None, period=None, tree=tree, periods=periods
            )
        active = await stats.generations.active()
        building = await stats.generations.building()
        rebuild = rebuild_out(building, stats) if building else None
        panels: list[Panel] = []
        table = None
        if active is not None:
            panels = await build_panels(stats, q, active.id)
            table = await stats.table(q, active)
        page = _template("dashboard.html").render(
            q=q,
            error=error,
            indicators=list(INDICATORS.values()),
            regions=[tree.regions[c] for c in tree.codes() if tree.regions[c].level != "gemeinde"],
            period_choices=_period_choices(periods),
            panels=panels,
            table=table,
            active=active,
            rebuild=rebuild,
            threshold=stats.settings.suppression_threshold,
            level_names=LEVEL_NAMES,
        )
        return HTMLResponse(page, status_code=400 if error else 200)

    @web.get("/dashboard/download")
    async def download(
        request: Request,
        indicator: Annotated[str, Query()],
        format: Annotated[Literal["csv", "xlsx"], Query()],
        region: Annotated[str | None, Query(max_length=20)] = None,
        level: Annotated[str | None, Query(max_length=20)] = None,
        period: Annotated[str | None, Query(max_length=10)] = None,
    ) -> Response:
        principal_of(request)
        stats: Statistics = request.app.state.statistics
        q = views.resolve(
            indicator, region=region, level=level, period=period, tree=stats.tree, periods=stats.periods()
        )
        active = await stats.generations.active()
        if active is None:
            return Response(
                "Die Statistik wird aufgebaut.", status_code=503, media_type="text/plain; charset=utf-8"
            )
        view = await stats.table(q, active)
        name = f"{q.file_stem}.{format}"
        body, media = (
            (to_csv(view), "text/csv; charset=utf-8")
            if format == "csv"
            else (to_xlsx(view), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @web.get("/dashboard/fortschritt")
    async def rebuild_progress(request: Request, generation: Annotated[int, Query(ge=1)]) -> Response:
        """The rebuild's progress for the page's bar (same data as ``GET /v1/rebuilds/{generation}``)."""
        principal_of(request)
        stats: Statistics = request.app.state.statistics
        row = await stats.generations.get(generation)
        if row is None:
            return Response(status_code=404)
        return Response(rebuild_out(row, stats).model_dump_json(), media_type="application/json")

    @web.post("/dashboard/anmelden")
    async def sign_in(request: Request, token: Annotated[str, Form(max_length=8000)]) -> Response:
        validator: JwksValidator = request.app.state.auth
        try:
            principal = validator.validate(token.strip())
        except Unauthorized:
            return HTMLResponse(_template("login.html").render(error="invalid"), status_code=401)
        if not principal.has_any(*ROLES):
            return HTMLResponse(_template("login.html").render(error="forbidden"), status_code=403)
        response = RedirectResponse("/dashboard", status_code=303)
        response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", path="/dashboard")
        return response

    @web.post("/dashboard/abmelden")
    async def sign_out() -> Response:
        response = RedirectResponse("/dashboard", status_code=303)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    return web


def _period_choices(periods: PeriodRange) -> list[tuple[str, list[Period]]]:
    """Years, quarters and months, newest first, as option groups."""
    levels: tuple[tuple[str, PeriodLevel], ...] = (
        ("Jahre", "year"),
        ("Quartale", "quarter"),
        ("Monate", "month"),
    )
    return [(name, list(reversed(periods.periods(level)))) for name, level in levels]
