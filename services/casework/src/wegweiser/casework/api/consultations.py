"""Consultations: the counselling sessions of a case; the note stays in casework."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from wegweiser.casework import handlers as h
from wegweiser.casework.api.change import ChangeDep
from wegweiser.casework.domain.model import Consultation
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post(
    "/cases/{case_id}/consultations",
    status_code=201,
    response_model=Consultation,
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def add_consultation(
    case_id: uuid.UUID, body: Consultation, change: ChangeDep
) -> Consultation | Response:
    """Record a consultation; the note stays in casework, the event carries no personal data."""
    command = h.RecordConsultation(case_id, body, change.principal)
    return await change.once(
        lambda: h.record_consultation(
            command, uow=change.uow, today=change.today, pseudonym_key=change.pseudonym_key
        )
    )
