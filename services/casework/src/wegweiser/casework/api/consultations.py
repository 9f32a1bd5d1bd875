"""Consultations: the counselling sessions of a case; the note stays in casework."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from wegweiser.casework import handlers as h
from wegweiser.casework.api.problems import or_problem
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Consultation
from wegweiser.casework.idempotency import answer_once
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/consultations",
    status_code=201,
    response_model=Consultation,
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def add_consultation(
    case_id: uuid.UUID,
    body: Consultation,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    today: TodayDep,
) -> Consultation | Response:
    """Record a consultation; the note stays in casework, the event carries no personal data."""
    command = h.RecordConsultation(case_id, body, principal)
    return await answer_once(
        request,
        principal,
        uow,
        lambda: or_problem(
            request,
            h.record_consultation(command, uow=uow, today=today, pseudonym_key=settings.pseudonym_key),
        ),
    )
