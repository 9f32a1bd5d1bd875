"""Query parameters that name nothing publishable answer 404 or 422 (problem+json), on every route.

``views.resolve`` raises these; a route that does not catch them still never answers 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from wegweiser.common.http import problem, wants_english
from wegweiser.statistics.read.views import BadQuery, UnknownIndicator


async def unknown_indicator(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownIndicator)
    name = exc.args[0] if exc.args else ""
    english = wants_english(request)
    return problem(
        request, 404, f"unknown indicator {name!r}" if english else f"Unbekannter Indikator {name!r}"
    )


async def bad_query(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadQuery)
    message = exc.text(english=wants_english(request))
    return problem(request, 422, message, errors=[{"field": exc.field, "message": message}])


def install_query_problems(app: FastAPI) -> None:
    app.add_exception_handler(UnknownIndicator, unknown_indicator)
    app.add_exception_handler(BadQuery, bad_query)
