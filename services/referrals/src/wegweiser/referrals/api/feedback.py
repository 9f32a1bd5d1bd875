"""Partners' answers over HTTP: accepted, declined (with reason), started, completed, dropped."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wegweiser.common.events import DeclineReason, DropReason, FeedbackOutcome
from wegweiser.common.http import not_found, problem, wants_english
from wegweiser.common.idempotency import IDEMPOTENCY_KEY, valid_key
from wegweiser.referrals.api.status_name import STATE_DEPRECATED, STATUS
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
    status: str = STATUS
    state: str = STATE_DEPRECATED
    changed: bool
    duplicate: bool


def transition_problem(request: Request, exc: InvalidTransition) -> JSONResponse:
    """409 for a step the lifecycle forbids; 422 naming the field for a missing or unknown reason."""
    detail = exc.text(english=wants_english(request))
    if exc.code in ("reason_required", "unknown_reason"):
        errors = [{"field": "reason", "message": detail, "type": exc.code}]
        return problem(request, 422, detail, code=exc.code, errors=errors)
    return problem(request, 409, detail, code=exc.code)


def feedback_id_of_key(key: str | None, partner_id: str, referral_id: uuid.UUID) -> uuid.UUID | None:
    """The answer's id from an ``Idempotency-Key``: a UUID key is the id itself (as before), any other
    key is mapped to one, scoped to the partner and the referral so that keys of two partners never meet.
    """
    if key is None:
        return None
    try:
        return uuid.UUID(key)
    except ValueError:
        return uuid.uuid5(FEEDBACK_NAMESPACE, f"key:{partner_id}:{referral_id}:{key}")


def key_problem(request: Request) -> JSONResponse:
    english = wants_english(request)
    detail = (
        "The Idempotency-Key must be 1 to 200 printable characters."
        if english
        else "Der Idempotency-Key muss aus 1 bis 200 druckbaren Zeichen bestehen."
    )
    errors = [{"field": IDEMPOTENCY_KEY, "message": detail, "type": "idempotency"}]
    return problem(request, 422, detail, errors=errors)


@router.post("/{referral_id}/feedback", response_model=FeedbackOut)
async def feedback(
    referral_id: uuid.UUID,
    body: FeedbackIn,
    partner_id: PartnerIdDep,
    uow: UnitOfWorkDep,
    policy: PolicyDep,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY,
            description="1 to 200 printable characters, as at intake and casework: a repeat is answered once",
        ),
    ] = None,
) -> FeedbackOut | JSONResponse:
    """Answer a referral: accepted, declined (with reason), started, completed, dropped. Idempotent."""
    if idempotency_key is not None and not valid_key(idempotency_key):
        return key_problem(request)
    feedback_id = (
        body.feedback_id
        or feedback_id_of_key(idempotency_key, partner_id, referral_id)
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
        return not_found(request, "Vermittlung", "referral", referral_id)
    except InvalidTransition as exc:
        return transition_problem(request, exc)
    return FeedbackOut(
        referral_id=referral_id,
        status=result.referral.state,
        state=result.referral.state,
        changed=result.changed,
        duplicate=result.duplicate,
    )
