"""Casework's HTTP API for integrations (``/v1``); routes only translate."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from wegweiser.casework.domain.model import Case, CaseRefused, Consultation
from wegweiser.casework.handlers import CaseNotFound, RecordConsultation, may_access, record_consultation
from wegweiser.common.auth import Forbidden, Principal, require_role
from wegweiser.common.http import problem

StaffDep = Annotated[Principal, require_role("counsellor", "supervisor", "admin")]
BERLIN = ZoneInfo("Europe/Berlin")


class CaseOut(BaseModel):
    case_id: uuid.UUID
    ags: str
    provider_id: str
    arrival_id: uuid.UUID | None
    opened_on: dt.date
    status: str
    household_size: int

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(**case.model_dump(exclude={"persons"}), household_size=len(case.persons))


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["cases"])

    @api.get("/cases", response_model=list[CaseOut])
    async def list_cases(
        principal: StaffDep, request: Request, ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None
    ) -> Any:
        """Cases of the caller's provider, optionally in one municipality of the caller's scope."""
        admin = "admin" in principal.roles
        if ags is not None and not principal.may_access_ags(ags):
            raise Forbidden(f"no access to municipality {ags}")
        scope = {ags} if ags else (None if admin else set(principal.ags))
        async with request.app.state.runtime.unit_of_work() as uow:
            cases = await uow.cases.visible(provider_id=None if admin else principal.provider_id, ags=scope)
        return [CaseOut.of(c) for c in cases]

    @api.get("/cases/{case_id}", response_model=CaseOut)
    async def get_case(case_id: uuid.UUID, principal: StaffDep, request: Request) -> Any:
        async with request.app.state.runtime.unit_of_work() as uow:
            case = await uow.cases.get(case_id)
        if case is None or not may_access(principal, case):
            return problem(request, 404, f"case {case_id}")
        return CaseOut.of(case)

    @api.post("/cases/{case_id}/consultations", status_code=201, response_model=Consultation)
    async def add_consultation(
        case_id: uuid.UUID, body: Consultation, principal: StaffDep, request: Request
    ) -> Any:
        """Record a consultation; the note stays in casework, the event carries no personal data."""
        runtime = request.app.state.runtime
        try:
            return await record_consultation(
                RecordConsultation(case_id=case_id, consultation=body, principal=principal),
                uow=runtime.unit_of_work(),
                today=dt.datetime.now(BERLIN).date(),
            )
        except CaseNotFound:
            return problem(request, 404, f"case {case_id}")
        except CaseRefused as exc:
            return problem(request, 409, str(exc))

    return api
