"""Consent per purpose (a programme, or a case transfer), and its withdrawal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework.api.change import ChangeDep
from wegweiser.casework.api.models import WithdrawalIn
from wegweiser.casework.domain.model import Consent
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/consents", status_code=201, response_model=Consent, openapi_extra=IDEMPOTENCY_HEADER
)
async def add_consent(case_id: uuid.UUID, body: Consent, change: ChangeDep) -> Consent | Response:
    command = h.GrantConsent(case_id, body, change.principal)
    return await change.once(
        lambda: h.grant_consent(
            command, uow=change.uow, today=change.today, pseudonym_key=change.pseudonym_key
        )
    )


@router.post("/cases/{case_id}/consents/{consent_id}/withdrawal", status_code=200, response_model=Consent)
async def withdraw(
    case_id: uuid.UUID, consent_id: uuid.UUID, body: WithdrawalIn, change: ChangeDep
) -> Consent | JSONResponse:
    command = h.WithdrawConsent(case_id, consent_id, change.principal, body.withdrawn_on)
    return await change.or_problem(h.withdraw_consent(command, uow=change.uow, today=change.today))
