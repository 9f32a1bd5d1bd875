"""Intake's refusals as RFC 9457 problem+json: 422 naming the field, 409, 404, 413, 429; German first."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from wegweiser.common.auth import Forbidden, Principal
from wegweiser.common.bilingual import BilingualError
from wegweiser.common.http import not_found, problem, wants_english
from wegweiser.intake.domain.model import ArrivalConflict, ArrivalRejected
from wegweiser.intake.handlers import ArrivalNotFound, FlagNotFound
from wegweiser.intake.messages import rejected_error, translated_errors
from wegweiser.intake.quotas import retry_after

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token", **PROBLEM},
    403: {"description": "Role or AGS not allowed by the token", **PROBLEM},
    422: {"description": "Invalid input; `errors` names each field", **PROBLEM},
}


def unknown_or_conflict(conflict: str) -> dict[int | str, dict[str, Any]]:
    """The 404 and 409 answers of a route that changes one existing thing; ``conflict`` says when."""
    return {404: {"description": "Unknown", **PROBLEM}, 409: {"description": conflict, **PROBLEM}}


def visible_to(principal: Principal, *authority_ids: str | None) -> bool:
    """An admin sees everything; others only what one of ``authority_ids`` (their own) registered."""
    return "admin" in principal.roles or principal.authority_id in authority_ids


class QuotaExceeded(BilingualError):
    """The authority's or the municipality's quota is exhausted for ``wait_s`` seconds (HTTP 429)."""

    def __init__(self, wait_s: float, what_de: str, what_en: str) -> None:
        super().__init__(what_de, what_en)
        self.wait_s = wait_s


class PayloadTooLarge(BilingualError):
    """More than a route accepts (HTTP 413)."""


def authority_of(principal: Principal) -> str:
    """The caller's authority id; a token without one may not register anything (403)."""
    if principal.authority_id is None:
        raise Forbidden(
            "token names no authority (claim authority_id)",
            de="das Token nennt keine Aufnahmebehörde (Claim authority_id)",
        )
    return principal.authority_id


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """Invalid request data: every field with a message in the caller's language (German first)."""
    assert isinstance(exc, RequestValidationError)
    errors = translated_errors(exc.errors(), english=wants_english(request), skip_body=True)
    return problem(request, 422, errors=errors)


async def _rejected(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArrivalRejected)
    status = 409 if isinstance(exc, ArrivalConflict) else 422
    error = rejected_error(exc, english=wants_english(request))
    return problem(request, status, error["message"], errors=[error])


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, FlagNotFound):
        return not_found(request, "Dublettenhinweis", "duplicate", exc)
    return not_found(request, "Ankunft", "arrival", exc)


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QuotaExceeded)
    return problem(
        request,
        429,
        exc.text(english=wants_english(request)),
        headers={"Retry-After": retry_after(exc.wait_s)},
    )


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PayloadTooLarge)
    return problem(request, 413, exc.text(english=wants_english(request)))


def install_error_handlers(app: FastAPI) -> None:
    """Map request validation and the domain's refusals to problem+json (after the shared handlers)."""
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ArrivalRejected, _rejected)
    app.add_exception_handler(ArrivalNotFound, _not_found)
    app.add_exception_handler(FlagNotFound, _not_found)
    app.add_exception_handler(QuotaExceeded, _too_many)
    app.add_exception_handler(PayloadTooLarge, _too_large)
