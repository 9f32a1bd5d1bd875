"""Change a registered arrival: correct its data, relocate it to another municipality, withdraw it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from wegweiser.common.localtime import today
from wegweiser.intake.api.errors import PROBLEM
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, answer_once
from wegweiser.intake.api.models import ArrivalOut, arrival_json, populated
from wegweiser.intake.deps import PrincipalDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.domain.model import Arrival, PersonData, Text
from wegweiser.intake.handlers import (
    CorrectArrival,
    IdempotentAnswer,
    PersonCorrection,
    RelocateArrival,
    WithdrawArrival,
    correct_arrival,
    relocate_arrival,
    withdraw_arrival,
)

router = APIRouter(prefix="/v1", tags=["arrivals"])

CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown", **PROBLEM},
    409: {"description": "No longer active", **PROBLEM},
}


class PersonCorrectionIn(PersonData):
    person_id: uuid.UUID | None = Field(
        None, description="Keep a known person's identity (and pseudonym); omit for a new household member"
    )


class CorrectionIn(BaseModel):
    """Only the fields sent are corrected; ``persons`` replaces the whole household list."""

    model_config = ConfigDict(extra="forbid")

    allocation_date: dt.date | None = None
    facility: Annotated[Text, Field(max_length=200)] | None = None
    persons: list[PersonCorrectionIn] | None = Field(None, min_length=1, max_length=30)

    def person_corrections(self) -> tuple[PersonCorrection, ...] | None:
        if self.persons is None:
            return None
        return tuple(
            PersonCorrection(data=PersonData(**p.model_dump(exclude={"person_id"})), person_id=p.person_id)
            for p in self.persons
        )


class RelocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_ags: str = Field(pattern=r"^\d{8}$", examples=["08121000"])
    relocated_on: dt.date | None = Field(None, description="Default: today")

    _ags = field_validator("new_ags")(populated)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: dt.date | None = Field(None, description="Default: today")
    reason: Annotated[Text, Field(max_length=500)] | None = None


def _arrival_answer(arrival: Arrival) -> tuple[int, bytes]:
    return 200, arrival_json(arrival)


@router.patch(
    "/arrivals/{arrival_id}",
    response_model=ArrivalOut,
    responses=CHANGE_ERRORS,
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def correct(
    arrival_id: uuid.UUID,
    body: CorrectionIn,
    principal: PrincipalDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
) -> Response:
    """Correct allocation date, facility or household; ``arrival.corrected`` if anything changed."""
    persons = body.person_corrections()

    def render(result: tuple[Arrival, tuple[str, ...]]) -> tuple[int, bytes]:
        arrival, fields = result
        return 200, arrival_json(arrival, corrected_fields=list(fields))

    async def run(answer: IdempotentAnswer | None) -> tuple[Arrival, tuple[str, ...]]:
        return await correct_arrival(
            CorrectArrival(
                arrival_id=arrival_id,
                principal=principal,
                allocation_date=body.allocation_date,
                facility=body.facility,
                persons=persons,
            ),
            uow=uow,
            today=today(),
            pseudonym_key=settings.pseudonym_key,
            answer=answer,
        )

    return (await answer_once(request, principal, uow, render, run)).response


@router.post(
    "/arrivals/{arrival_id}/relocation",
    response_model=ArrivalOut,
    responses=CHANGE_ERRORS,
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def relocate(
    arrival_id: uuid.UUID, body: RelocationIn, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    """Allocate the household to another municipality (the token must allow both AGS)."""

    async def run(answer: IdempotentAnswer | None) -> Arrival:
        return await relocate_arrival(
            RelocateArrival(
                arrival_id=arrival_id,
                principal=principal,
                new_ags=body.new_ags,
                relocated_on=body.relocated_on or today(),
            ),
            uow=uow,
            today=today(),
            answer=answer,
        )

    return (await answer_once(request, principal, uow, _arrival_answer, run)).response


@router.post(
    "/arrivals/{arrival_id}/withdrawal",
    response_model=ArrivalOut,
    responses=CHANGE_ERRORS,
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def withdraw(
    arrival_id: uuid.UUID, body: WithdrawalIn, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    """Withdraw the allocation (entered by mistake, person moved on before arriving, ...)."""

    async def run(answer: IdempotentAnswer | None) -> Arrival:
        return await withdraw_arrival(
            WithdrawArrival(
                arrival_id=arrival_id,
                principal=principal,
                withdrawn_on=body.withdrawn_on or today(),
                reason=body.reason,
            ),
            uow=uow,
            today=today(),
            answer=answer,
        )

    return (await answer_once(request, principal, uow, _arrival_answer, run)).response
