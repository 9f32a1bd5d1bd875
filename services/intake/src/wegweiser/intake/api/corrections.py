"""Change a registered arrival: correct its data, relocate it to another municipality, withdraw it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from wegweiser.common.auth import Principal
from wegweiser.common.localtime import today
from wegweiser.intake.api.errors import unknown_or_conflict
from wegweiser.intake.api.idempotency import IDEMPOTENCY_HEADER, answer_once
from wegweiser.intake.api.models import ArrivalOut, arrival_json, populated
from wegweiser.intake.deps import PrincipalDep, SettingsDep, UnitOfWorkDep
from wegweiser.intake.domain.model import Arrival, PersonData, Text
from wegweiser.intake.handlers import (
    CorrectArrival,
    IdempotentAnswer,
    IntakeUnitOfWork,
    PersonCorrection,
    RelocateArrival,
    WithdrawArrival,
    correct_arrival,
    relocate_arrival,
    withdraw_arrival,
)

router = APIRouter(prefix="/v1", tags=["arrivals"])

CHANGE_ERRORS = unknown_or_conflict("No longer active")


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

    def command(self, arrival_id: uuid.UUID, principal: Principal) -> CorrectArrival:
        persons = None
        if self.persons is not None:
            persons = tuple(
                PersonCorrection(
                    data=PersonData(**p.model_dump(exclude={"person_id"})), person_id=p.person_id
                )
                for p in self.persons
            )
        return CorrectArrival(arrival_id, principal, self.allocation_date, self.facility, persons)


class RelocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_ags: str = Field(pattern=r"^\d{8}$", examples=["08121000"])
    relocated_on: dt.date | None = Field(None, description="Default: today")

    _ags = field_validator("new_ags")(populated)

    def command(self, arrival_id: uuid.UUID, principal: Principal) -> RelocateArrival:
        return RelocateArrival(arrival_id, principal, self.new_ags, self.relocated_on or today())


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    withdrawn_on: dt.date | None = Field(None, description="Default: today")
    reason: Annotated[Text, Field(max_length=500)] | None = None

    def command(self, arrival_id: uuid.UUID, principal: Principal) -> WithdrawArrival:
        return WithdrawArrival(arrival_id, principal, self.withdrawn_on or today(), self.reason)


_change_route = partial(
    router.post, response_model=ArrivalOut, responses=CHANGE_ERRORS, openapi_extra=IDEMPOTENCY_HEADER
)
"""The decorator of the changes that answer with the arrival (relocation, withdrawal)."""


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
    correction = body.command(arrival_id, principal)

    def render(result: tuple[Arrival, tuple[str, ...]]) -> tuple[int, bytes]:
        arrival, fields = result
        return 200, arrival_json(arrival, corrected_fields=list(fields))

    async def run(answer: IdempotentAnswer | None) -> tuple[Arrival, tuple[str, ...]]:
        return await correct_arrival(
            correction, uow=uow, today=today(), pseudonym_key=settings.pseudonym_key, answer=answer
        )

    return (await answer_once(request, principal, uow, render, run)).response


@_change_route("/arrivals/{arrival_id}/relocation")
async def relocate(
    arrival_id: uuid.UUID, body: RelocationIn, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    """Allocate the household to another municipality (the token must allow both AGS)."""
    relocation = body.command(arrival_id, principal)
    return await _change(relocate_arrival, relocation, principal=principal, request=request, uow=uow)


@_change_route("/arrivals/{arrival_id}/withdrawal")
async def withdraw(
    arrival_id: uuid.UUID, body: WithdrawalIn, principal: PrincipalDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    """Withdraw the allocation (entered by mistake, person moved on before arriving, ...)."""
    withdrawal = body.command(arrival_id, principal)
    return await _change(withdraw_arrival, withdrawal, principal=principal, request=request, uow=uow)


async def _change(
    handler: Callable[..., Awaitable[Arrival]],
    command: RelocateArrival | WithdrawArrival,
    *,
    principal: Principal,
    request: Request,
    uow: IntakeUnitOfWork,
) -> Response:
    """Run a change that answers with the arrival, once per Idempotency-Key."""

    async def run(answer: IdempotentAnswer | None) -> Arrival:
        return await handler(command, uow=uow, today=today(), answer=answer)

    return (await answer_once(request, principal, uow, _arrival_answer, run)).response
