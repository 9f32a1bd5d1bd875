"""Intake's HTTP API for reception authorities (``/v1``); routes only translate."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from wegweiser.common.auth import Forbidden, Principal, require_role
from wegweiser.common.http import problem, wants_english
from wegweiser.common.regions import catalogue
from wegweiser.intake.domain.model import Arrival, ArrivalRejected, Person
from wegweiser.intake.handlers import RegisterArrival, register_arrival

AuthorityDep = Annotated[Principal, require_role("reception_authority")]
BERLIN = ZoneInfo("Europe/Berlin")


class ArrivalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authority_reference: str = Field(
        min_length=1, max_length=100, description="The authority's own case number"
    )
    ags: str = Field(
        pattern=r"^\d{8}$", description="Target municipality (8-digit AGS)", examples=["08111000"]
    )
    allocation_date: dt.date
    persons: list[Person] = Field(min_length=1, max_length=30)

    @field_validator("ags")
    @classmethod
    def _populated_municipality(cls, value: str) -> str:
        if not catalogue().is_allocation_target(value):
            raise ValueError(
                "keine bewohnte Gemeinde des Gemeindeverzeichnisses / not a populated municipality"
            )
        return value


class ArrivalOut(BaseModel):
    arrival_id: uuid.UUID
    status: str
    ags: str
    authority_reference: str
    allocation_date: dt.date
    household_size: int

    @classmethod
    def of(cls, arrival: Arrival) -> ArrivalOut:
        return cls(
            arrival_id=arrival.arrival_id,
            status=arrival.status,
            ags=arrival.ags,
            authority_reference=arrival.authority_reference,
            allocation_date=arrival.allocation_date,
            household_size=len(arrival.persons),
        )


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["arrivals"])

    @api.post("/arrivals", status_code=201, response_model=ArrivalOut)
    async def register(body: ArrivalIn, principal: AuthorityDep, request: Request, response: Response) -> Any:
        """Register one arrival. The same authority reference again returns the first result (200)."""
        if not principal.may_access_ags(body.ags) or principal.authority_id is None:
            raise Forbidden(f"token does not allow allocations to {body.ags}")
        runtime = request.app.state.runtime
        command = RegisterArrival(
            authority_id=principal.authority_id,
            authority_reference=body.authority_reference,
            ags=body.ags,
            allocation_date=body.allocation_date,
            persons=tuple(body.persons),
        )
        try:
            arrival, created = await register_arrival(
                command,
                uow=runtime.unit_of_work(),
                today=dt.datetime.now(BERLIN).date(),
                pseudonym_key=runtime.settings.pseudonym_key,
            )
        except ArrivalRejected as exc:
            return _rejected(request, exc)
        response.status_code = 201 if created else 200
        response.headers["Location"] = f"/v1/arrivals/{arrival.arrival_id}"
        return ArrivalOut.of(arrival)

    @api.get("/arrivals/{arrival_id}", response_model=ArrivalOut)
    async def get(arrival_id: uuid.UUID, principal: AuthorityDep, request: Request) -> Any:
        """Status of an arrival registered by the caller's authority (others answer 404)."""
        async with request.app.state.runtime.unit_of_work() as uow:
            arrival = await uow.arrivals.get(arrival_id)
        if arrival is None or arrival.authority_id != principal.authority_id:
            return problem(request, 404, f"arrival {arrival_id}")
        return ArrivalOut.of(arrival)

    return api


def _rejected(request: Request, exc: ArrivalRejected) -> JSONResponse:
    message = exc.message_en if wants_english(request) else exc.message_de
    return problem(request, 422, message, errors=[{"field": exc.field, "message": message, "type": "domain"}])
