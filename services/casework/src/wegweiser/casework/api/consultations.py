"""Consultations: the counselling sessions of a case; the note stays in casework."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from wegweiser.casework import handlers as h
from wegweiser.casework.api.problems import or_problem
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Consultation

router = APIRouter(tags=["cases"])


@router.post("/cases/{case_id}/consultations", status_code=201, response_model=Consultation)
async def add_consultation(
    case_id: uuid.UUID,
    body: Consultation,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    today: TodayDep,
) -> Consultation | JSONResponse:
    """Record a consultation; the note stays in casework, the event carries no personal data."""
    command = h.RecordConsultation(case_id, body, principal)
    return await or_problem(
        request,
        h.record_consultation(command, uow=uow, today=today, pseudonym_key=settings.pseudonym_key),
    )
