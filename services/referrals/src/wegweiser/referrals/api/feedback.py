"""Partners' answers over HTTP: accepted, declined (with reason), started, completed, dropped."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wegweiser.common.events import DeclineReason, DropReason, FeedbackOutcome
from wegweiser.common.http import problem, wants_english
from wegweiser.referrals.deps import PartnerIdDep, PolicyDep, UnitOfWorkDep
from wegweiser.referrals.domain.lifecycle import InvalidTransition
from wegweiser.referrals.handlers import RecordFeedback, ReferralNotFound, answer_referral

router = APIRouter(prefix="/partner/referrals", tags=["partner"])
FEEDBACK_NAMESPACE = uuid.UUID("6f1d3c1e-6a55-4f7e-9d7c-2b1c8e0f4a10")


class FeedbackIn(BaseModel):
    outcome: FeedbackOutcome
    reason: DeclineReason | DropReason | None = Field(None, description="required for declined")
    started_on: dt.date | None = Field(None, description="for started; default today")
    feedback_id: uuid.UUID | None = Field(
        None, description="idempotency key; else the Idempotency-Key header; else derived from the answer"
    )


class FeedbackOut(BaseModel):
    referral_id: uuid.UUID
    state: str
    changed: bool
    duplicate: bool


def transition_problem(request: Request, exc: InvalidTransition) -> JSONResponse:
    """409 for a step the lifecycle forbids; 422 naming the field for a missing or unknown reason."""
    detail = exc.text(english=wants_english(request))
    if exc.code in ("reason_required", "unknown_reason"):
        errors = [{"field": "reason", "message": detail, "type": exc.code}]
        return problem(request, 422, detail, code=exc.code, errors=errors)
    return problem(request, 409, detail, code=exc.code)


@router.post("/{referral_id}/feedback", response_model=FeedbackOut)
async def feedback(
    referral_id: uuid.UUID,
    body: FeedbackIn,
    partner_id: PartnerIdDep,
    uow: UnitOfWorkDep,
    policy: PolicyDep,
    request: Request,
    idempotency_key: Annotated[uuid.UUID | None, Header()] = None,
) -> FeedbackOut | JSONResponse:
    """Answer a referral: accepted, declined (with reason), started, completed, dropped. Idempotent."""
    feedback_id = (
        body.feedback_id
        or idempotency_key
        or uuid.uuid5(FEEDBACK_NAMESPACE, f"{referral_id}:{body.outcome}:{body.reason}:{body.started_on}")
    )
    command = RecordFeedback(
        partner_id=partner_id,
        referral_id=referral_id,
        feedback_id=feedback_id,
        outcome=body.outcome,
        reason=body.reason,
        started_on=body.started_on,
    )
    try:
        result = await answer_referral(command, uow=uow, policy=policy)
    except ReferralNotFound:
        return problem(request, 404, f"referral {referral_id}")
    except InvalidTransition as exc:
        return transition_problem(request, exc)
    return FeedbackOut(
        referral_id=referral_id,
        state=result.referral.state,
        changed=result.changed,
        duplicate=result.duplicate,
    )
