"""HTTP plumbing every service shares: RFC 9457 problem+json errors, health, metrics, auth wiring.

Messages are German first; ``Accept-Language: en`` gives English.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import Gauge, make_asgi_app
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from wegweiser.common import validation_text
from wegweiser.common.auth import Forbidden, Unauthorized
from wegweiser.common.request_limits import BodyRefused, RequestSizeLimit

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Bad request"),
    401: ("Anmeldung erforderlich", "Authentication required"),
    403: ("Keine Berechtigung", "Forbidden"),
    404: ("Nicht gefunden", "Not found"),
    405: ("Methode nicht erlaubt", "Method not allowed"),
    409: ("Konflikt", "Conflict"),
    410: ("Nicht mehr vorhanden", "Gone"),
    413: ("Anfrage zu groß", "Payload too large"),
    422: ("Die Anfrage enthält ungültige Angaben", "The request contains invalid data"),
    429: ("Zu viele Anfragen", "Too many requests"),
    500: ("Interner Fehler", "Internal error"),
    503: ("Dienst nicht bereit", "Service unavailable"),
}


def wants_english(request: Request) -> bool:
    """German unless the client prefers English (first language tag of Accept-Language)."""
    first = request.headers.get("accept-language", "de").split(",")[0].strip().lower()
    return first.startswith("en")


def from_app_state(name: str) -> Any:
    """``Depends`` on ``app.state.<name>``: routes ask for what ``app.build`` put there, by type.

    Use as ``Annotated[Settings, from_app_state("settings")]``; the annotation gives the type.
    """

    def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    return Depends(read)


def problem(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    de, en = TITLES.get(status, ("Fehler", "Error"))
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": en if wants_english(request) else de,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def not_found(request: Request, what_de: str, what_en: str, key: object) -> JSONResponse:
    """404 naming what was not found in the caller's language ("Fall 1b2c…", "case 1b2c…")."""
    return problem(request, 404, f"{what_en if wants_english(request) else what_de} {key}")


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p != "body") or "body"


def database_unreachable(exc: BaseException) -> bool:
    """A connection that broke or could not be had (a database restart), not a fault of the request.

    Answered 503 with ``Retry-After``: the client's retry will succeed once the database is back, and
    nothing was written (the transaction did not commit). It was a bare 500 before. asyncpg's
    ``InternalClientError`` ("cannot switch to state …; another operation is in progress") is a
    connection left half-way by the restart: in the system day, casework answered it 500 when
    PostgreSQL restarted under a consultation's insert.
    """
    if isinstance(exc, DBAPIError):
        return (
            exc.connection_invalidated
            or isinstance(exc, (OperationalError, InterfaceError))
            or isinstance(exc.orig, AsyncAdapt_asyncpg_dbapi.InternalClientError)
            or _unreachable_sqlstate(getattr(exc.orig, "sqlstate", None))
        )
    return isinstance(exc, (PoolTimeout, ConnectionError))


def _unreachable_sqlstate(sqlstate: object) -> bool:
    """PostgreSQL's own word that it cannot serve the connection: a connection exception (class 08) or a
    shutdown or start-up (57P01–57P03, "the database system is starting up" while it restarts)."""
    code = str(sqlstate or "")
    return code.startswith("08") or code in {"57P01", "57P02", "57P03"}


def install_problem_handlers(app: FastAPI) -> None:
    """Every error as problem+json, oversized bodies (per route, see request_limits) as 413 included."""
    app.add_middleware(RequestSizeLimit)

    async def validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        english = wants_english(request)
        errors = [
            {
                "field": _field(tuple(e["loc"])),
                "message": validation_text.message(e, english=english),
                "type": e["type"],
            }
            for e in exc.errors()
        ]
        return problem(request, 422, errors=errors)

    async def unauthorized(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Unauthorized)
        detail = exc.text(english=wants_english(request))
        return problem(request, 401, detail, headers={"WWW-Authenticate": "Bearer"})

    async def forbidden(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Forbidden)
        return problem(request, 403, exc.text(english=wants_english(request)))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in TITLES_TEXT else None
        if isinstance(exc, BodyRefused):
            detail = exc.en if wants_english(request) else exc.de
        return problem(request, exc.status_code, detail, headers=exc.headers)

    async def database_failure(request: Request, exc: Exception) -> JSONResponse:
        """503 to retry for a database out of reach, logged as one line (rate-limited, see ``logs``),
        not as a traceback per request; any other database error is a 500 with its traceback."""
        if not database_unreachable(exc):
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
            return problem(request, 500)
        log.warning("the database cannot be reached (%s); answered 503 with Retry-After", type(exc).__name__)
        detail = (
            "The database cannot be reached right now; please try again in a moment."
            if wants_english(request)
            else "Die Datenbank ist gerade nicht erreichbar; bitte gleich noch einmal versuchen."
        )
        return problem(request, 503, detail, headers={"Retry-After": "2"})

    async def crash(request: Request, exc: Exception) -> JSONResponse:
        return problem(request, 500)

    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(Unauthorized, unauthorized)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for database_error in (DBAPIError, PoolTimeout, ConnectionError):
        app.add_exception_handler(database_error, database_failure)
    app.add_exception_handler(Exception, crash)


TITLES_TEXT = {"Not Found", "Method Not Allowed"}

ReadyCheck = Callable[[], Awaitable[bool]]

# Checks whose failure leaves the service in service, marked degraded: without the broker, intake's
# outbox still accepts arrivals and casework's pages still work; what they write waits in the outbox.
DEGRADE_ONLY = frozenset({"broker"})
_CHECK_UP = Gauge("wegweiser_ready_check_up", "1 when the readiness check passed at its last run", ["check"])
_CHECK_FAILING_SINCE = Gauge(
    "wegweiser_ready_check_failing_since_seconds",
    "Unix time since when the check has been failing (0 while it passes)",
    ["check"],
)


class ReadinessState:
    """The result of each check and since when it has been failing, kept between probe calls."""

    def __init__(self) -> None:
        self.failing_since: dict[str, dt.datetime] = {}

    async def run(self, checks: Mapping[str, ReadyCheck]) -> dict[str, Any]:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = bool(await check())
            except Exception:
                results[name] = False
            if results[name]:
                self.failing_since.pop(name, None)
            else:
                self.failing_since.setdefault(name, dt.datetime.now(dt.UTC))
            since = self.failing_since.get(name)
            _CHECK_UP.labels(name).set(1 if results[name] else 0)
            _CHECK_FAILING_SINCE.labels(name).set(since.timestamp() if since else 0)
        failing = {name for name, ok in results.items() if not ok}
        status = "unavailable" if failing - DEGRADE_ONLY else "degraded" if failing else "ok"
        return {
            "status": status,
            "checks": results,
            "failing_since": {name: self.failing_since[name].isoformat() for name in sorted(failing)},
        }


health_router = APIRouter(tags=["health"])


def install_health(app: FastAPI, checks: Mapping[str, ReadyCheck]) -> None:
    """``/health/live`` answers while the process runs; ``/health/ready`` says what works.

    503 when a check the service cannot work without fails (the database); 200 ``degraded`` with
    since-when when only the broker is away; both also as gauges on ``/metrics``.
    """
    app.state.ready_checks = dict(checks)
    app.state.readiness = ReadinessState()
    app.include_router(health_router)


@health_router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    state: ReadinessState = request.app.state.readiness
    checks: Mapping[str, ReadyCheck] = request.app.state.ready_checks
    body = await state.run(checks)
    return JSONResponse(body, 503 if body["status"] == "unavailable" else 200)


async def broker_reachable(bootstrap_servers: str, timeout_s: float = 1.0) -> bool:
    """True when one of the bootstrap servers accepts a TCP connection (cheap enough for every probe)."""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout_s)
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        return True
    return False


def mount_observability(app: FastAPI) -> None:
    """Prometheus scrape endpoint fed by the OpenTelemetry Prometheus reader; and a server span per request.

    The request's span is the parent of the outbox entries it writes, so one trace runs from the HTTP
    call through the relay and Kafka into every consumer (docs/architecture.md).
    """
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health/.*,metrics")
