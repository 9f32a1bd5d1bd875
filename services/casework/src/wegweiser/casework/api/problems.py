"""How the API says no: RFC 9457 problem+json for a missing case, a domain refusal or invalid input.

A case outside the caller's provider and AGS is 404 (never 403, so its existence does not leak); a domain
refusal is 422 when a field is at fault, else 409, with a ``code``; messages in the caller's language.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from wegweiser.casework.domain.model import CaseRefused
from wegweiser.casework.handlers import CaseNotFound
from wegweiser.casework.web.forms import field_errors
from wegweiser.casework.web.messages import refusal_text
from wegweiser.common.http import not_found as not_found_problem
from wegweiser.common.http import problem, wants_english

T = TypeVar("T")


def _language(request: Request) -> str:
    return "en" if wants_english(request) else "de"


def refused(request: Request, exc: CaseRefused) -> JSONResponse:
    """422 naming the field at fault, or 409 when the case's state forbids it; in the caller's language."""
    message = refusal_text(exc, _language(request))
    if exc.field:
        return problem(
            request,
            422,
            message,
            code=exc.code,
            errors=[{"field": exc.field, "message": message, "type": exc.code}],
        )
    return problem(request, 409, message, code=exc.code)


def not_found(request: Request, what: object) -> JSONResponse:
    return not_found_problem(request, "Fall", "case", what)


def invalid(request: Request, field: str, message: str) -> JSONResponse:
    return problem(request, 422, errors=[{"field": field, "message": message, "type": "invalid"}])


def invalid_input(request: Request, exc: ValidationError) -> JSONResponse:
    """422 for a rule of a domain model that the request body's schema cannot express (across fields)."""
    return problem(
        request,
        422,
        errors=[
            {"field": field, "message": message, "type": "value_error"}
            for field, message in field_errors(exc, _language(request)).items()
        ],
    )


async def or_problem(request: Request, call: Awaitable[T]) -> T | JSONResponse:
    """The handler's result, or the problem for an unknown (or foreign) case and for a refusal."""
    try:
        return await call
    except CaseNotFound as exc:
        return not_found(request, exc)
    except CaseRefused as exc:
        return refused(request, exc)
