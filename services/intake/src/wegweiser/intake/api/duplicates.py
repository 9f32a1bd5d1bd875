"""Review probable duplicates: list and read flags, merge the later arrival into the earlier, or dismiss."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common.auth import Principal
from wegweiser.common.http import not_found
from wegweiser.common.localtime import today
from wegweiser.intake.api.errors import PROBLEM, authority_of, unknown_or_conflict, visible_to
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, answer_once
from wegweiser.intake.api.models import ArrivalOut
from wegweiser.intake.deps import PrincipalDep, UnitOfWorkDep
from wegweiser.intake.domain.duplicates import DuplicateFlag
from wegweiser.intake.domain.model import Text
from wegweiser.intake.handlers import (
    DecideDuplicate,
    Decision,
    IdempotentAnswer,
    IntakeUnitOfWork,
    decide_duplicate,
)

router = APIRouter(prefix="/v1", tags=["duplicates"])

DECISION_ERRORS = unknown_or_conflict("Decided already, or an arrival is no longer active")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Text, Field(max_length=1000)] | None = None


class DecisionOut(BaseModel):
    flag: DuplicateFlag
    merged_arrival: ArrivalOut | None = None


@router.get("/duplicates", response_model=list[DuplicateFlag])
async def list_duplicates(
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    status: Literal["open", "merged", "dismissed", "obsolete"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DuplicateFlag]:
    """Probable duplicates that involve the caller's arrivals (an admin sees all)."""
    scope = None if "admin" in principal.roles else authority_of(principal)
    async with uow:
        return await uow.arrivals.flags(authority_id=scope, status=status, limit=limit, offset=offset)


@router.get(
    "/duplicates/{flag_id}",
    response_model=DuplicateFlag,
    responses={404: {"description": "Unknown", **PROBLEM}},
)
async def get_duplicate(
    flag_id: uuid.UUID, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> DuplicateFlag | JSONResponse:
    async with uow:
        flag = await uow.arrivals.flag(flag_id)
    if flag is None or not visible_to(principal, flag.authority_id, flag.candidate_authority_id):
        return not_found(request, "Dublettenhinweis", "duplicate", flag_id)
    return flag


@router.post(
    "/duplicates/{flag_id}/merge",
    response_model=DecisionOut,
    responses=DECISION_ERRORS,
    openapi_extra=IDEMPOTENCY_HEADER,
    summary="Merge: the later arrival is retired into the earlier one (arrival.withdrawn, merged_into)",
    operation_id="decide_v1_duplicates__flag_id__merge_post",  # as published before the routes moved
)
async def merge(
    flag_id: uuid.UUID,
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    body: DecisionIn | None = None,
) -> Response:
    return await _decide("merged", flag_id, body, principal=principal, request=request, uow=uow)


@router.post(
    "/duplicates/{flag_id}/dismissal",
    response_model=DecisionOut,
    responses=DECISION_ERRORS,
    openapi_extra=IDEMPOTENCY_HEADER,
    summary="Dismiss: not the same person; recorded with who and when",
    operation_id="decide_v1_duplicates__flag_id__dismissal_post",  # as published before the routes moved
)
async def dismiss(
    flag_id: uuid.UUID,
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    body: DecisionIn | None = None,
) -> Response:
    return await _decide("dismissed", flag_id, body, principal=principal, request=request, uow=uow)


def _decision_answer(result: Decision) -> tuple[int, bytes]:
    merged = ArrivalOut.of(result.merged) if result.merged else None
    return 200, DecisionOut(flag=result.flag, merged_arrival=merged).model_dump_json().encode()


async def _decide(
    decision: Literal["merged", "dismissed"],
    flag_id: uuid.UUID,
    body: DecisionIn | None,
    *,
    principal: Principal,
    request: Request,
    uow: IntakeUnitOfWork,
) -> Response:
    async def run(answer: IdempotentAnswer | None) -> Decision:
        return await decide_duplicate(
            DecideDuplicate(
                flag_id=flag_id, principal=principal, decision=decision, note=body.note if body else None
            ),
            uow=uow,
            today=today(),
            answer=answer,
        )

    return (await answer_once(request, principal, uow, _decision_answer, run)).response
