"""Consent per purpose (a programme, or a case transfer), and its withdrawal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework.api.models import WithdrawalIn
from wegweiser.casework.api.problems import or_problem
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Consent
from wegweiser.casework.idempotency import answer_once
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/consents", status_code=201, response_model=Consent, openapi_extra=IDEMPOTENCY_HEADER
)
async def add_consent(
    case_id: uuid.UUID,
    body: Consent,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    today: TodayDep,
) -> Consent | Response:
    command = h.GrantConsent(case_id, body, principal)
    return await answer_once(
        request,
        principal,
        uow,
        lambda: or_problem(
            request, h.grant_consent(command, uow=uow, today=today, pseudonym_key=settings.pseudonym_key)
        ),
    )


@router.post("/cases/{case_id}/consents/{consent_id}/withdrawal", status_code=200, response_model=Consent)
async def withdraw(
    case_id: uuid.UUID,
    consent_id: uuid.UUID,
    body: WithdrawalIn,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    today: TodayDep,
) -> Consent | JSONResponse:
    command = h.WithdrawConsent(case_id, consent_id, principal, body.withdrawn_on)
    return await or_problem(request, h.withdraw_consent(command, uow=uow, today=today))
