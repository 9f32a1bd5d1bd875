"""Register one arrival, read it back, find it by the authority's own reference."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from wegweiser.common.auth import Forbidden
from wegweiser.common.http import not_found
from wegweiser.common.localtime import today
from wegweiser.common.names import normalised
from wegweiser.intake.api.admission import admit, municipality_message
from wegweiser.intake.api.errors import COMMON_ERRORS, PROBLEM, QuotaExceeded, authority_of, visible_to
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, answer_once
from wegweiser.intake.api.models import PRINTABLE, ArrivalIn, ArrivalOut, arrival_json
from wegweiser.intake.deps import PrincipalDep, QuotasDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.handlers import IdempotentAnswer, RegisterArrivals, Registration, register_arrivals

router = APIRouter(prefix="/v1", tags=["arrivals"])


@router.post(
    "/arrivals",
    status_code=201,
    response_model=ArrivalOut,
    responses={
        200: {"description": "Known already (same reference or Idempotency-Key)", "model": ArrivalOut},
        429: {"description": "Quota exhausted; see Retry-After", **PROBLEM},
        **COMMON_ERRORS,
    },
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def register(
    body: ArrivalIn,
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    quotas: QuotasDep,
) -> Response:
    """Register one arrival. The same authority reference again returns the first result (200)."""
    authority_id = authority_of(principal)
    if not principal.may_access_ags(body.ags):
        raise Forbidden(
            f"token does not allow allocations to {body.ags}",
            de=f"das Token erlaubt keine Zuweisungen nach {body.ags}",
        )

    def render(results: list[Registration]) -> tuple[int, bytes]:
        (result,) = results
        if result.error is not None:
            raise result.error
        assert result.arrival is not None
        status = 201 if result.outcome == "created" else 200
        return status, arrival_json(result.arrival, duplicates=[f.flag_id for f in result.flags])

    async def run(answer: IdempotentAnswer | None) -> list[Registration]:
        refused = admit(quotas, authority_id, {body.ags: 1})
        if refused:
            raise QuotaExceeded(
                refused[body.ags],
                municipality_message(body.ags, english=False),
                municipality_message(body.ags, english=True),
            )
        return await register_arrivals(
            RegisterArrivals(authority_id=authority_id, arrivals=(body.command(),)),
            uow=uow,
            today=today(),
            pseudonym_key=settings.pseudonym_key,
            answer=answer,
        )

    answered = await answer_once(request, principal, uow, render, run)
    response, results = answered.response, answered.result
    if results and results[0].arrival is not None:
        response.headers["Location"] = f"/v1/arrivals/{results[0].arrival.arrival_id}"
    return response


@router.get(
    "/arrivals/{arrival_id}",
    response_model=ArrivalOut,
    responses={404: {"description": "Unknown, or another authority's", **PROBLEM}},
)
async def get(
    arrival_id: uuid.UUID, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> ArrivalOut | JSONResponse:
    """Status of an arrival registered by the caller's authority (others answer 404)."""
    async with uow:
        arrival = await uow.arrivals.get(arrival_id)
    if arrival is None or not visible_to(principal, arrival.authority_id):
        return not_found(request, "Ankunft", "arrival", arrival_id)
    return ArrivalOut.of(arrival)


@router.get("/arrivals", response_model=list[ArrivalOut])
async def find(
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    authority_reference: Annotated[str, Query(min_length=1, max_length=100, pattern=PRINTABLE)],
) -> list[ArrivalOut]:
    """Find the caller's arrival by its own reference (an empty list if there is none)."""
    authority_id = authority_of(principal)
    async with uow:
        arrival = await uow.arrivals.by_reference(
            authority_id=authority_id,
            reference=normalised(authority_reference),  # stored in NFC
        )
    return [ArrivalOut.of(arrival)] if arrival else []
