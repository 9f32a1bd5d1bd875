"""Counsellors' and supervisors' view of referrals: their provider's, in their municipalities."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wegweiser.common.auth import Forbidden, Principal
from wegweiser.common.events import Programme
from wegweiser.common.http import not_found, wants_english
from wegweiser.referrals.api.status_name import DEPRECATED, STATE_DEPRECATED, STATUS
from wegweiser.referrals.deps import StaffDep, UnitOfWorkDep
from wegweiser.referrals.domain.lifecycle import ANSWER_REASONS, STATE_NAMES, Referral
from wegweiser.referrals.domain.routing import REASONS

router = APIRouter(prefix="/referrals", tags=["referrals"])


class ReferralOut(BaseModel):
    """A referral as counsellors see it: pseudonymous status, with reasons in the caller's language."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    ags: str
    provider_id: str
    programme: Programme
    partner_id: str | None
    status: str = STATUS
    status_text: str = Field(description="the status in the caller's language")
    state: str = STATE_DEPRECATED
    state_text: str = Field(description="deprecated: the same as `status_text`", json_schema_extra=DEPRECATED)
    reason: str | None
    reason_text: str | None
    requested_on: dt.date
    sent_at: dt.datetime | None
    respond_by: dt.datetime | None
    reminded_at: dt.datetime | None
    started_on: dt.date | None

    @classmethod
    def of(cls, r: Referral, *, english: bool) -> ReferralOut:
        texts = REASONS.get(r.reason) or ANSWER_REASONS.get(r.reason or "")  # type: ignore[call-overload]
        status_text = STATE_NAMES[r.state][1 if english else 0]
        return cls(
            **r.model_dump(include=set(cls.model_fields) & set(Referral.model_fields)),
            status=r.state,
            status_text=status_text,
            state_text=status_text,
            reason_text=(texts[1] if english else texts[0]) if texts else None,
            respond_by=r.expire_at,
        )


def staff_may_see(principal: Principal, referral: Referral) -> bool:
    """Provider AND municipality, never municipality alone (docs/architecture.md)."""
    if "admin" in principal.roles:
        return True
    return principal.provider_id == referral.provider_id and referral.ags in principal.ags


@router.get("", response_model=list[ReferralOut])
async def list_referrals(
    principal: StaffDep,
    uow: UnitOfWorkDep,
    request: Request,
    case_id: uuid.UUID | None = None,
    ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
) -> list[ReferralOut]:
    """Referrals of the caller's provider in the caller's municipalities (all for admins)."""
    admin = "admin" in principal.roles
    if ags is not None and not principal.may_access_ags(ags):
        raise Forbidden(f"no access to municipality {ags}", de=f"kein Zugriff auf die Gemeinde {ags}")
    scope = {ags} if ags else (None if admin else set(principal.ags))
    async with uow:
        found = await uow.referrals.visible(
            provider_id=None if admin else principal.provider_id or "", ags=scope, case_id=case_id
        )
    english = wants_english(request)
    return [ReferralOut.of(r, english=english) for r in found]


@router.get("/{referral_id}", response_model=ReferralOut)
async def get_referral(
    referral_id: uuid.UUID, principal: StaffDep, uow: UnitOfWorkDep, request: Request
) -> ReferralOut | JSONResponse:
    async with uow:
        referral = await uow.referrals.get(referral_id)
    if referral is None or not staff_may_see(principal, referral):
        return not_found(request, "Vermittlung", "referral", referral_id)
    return ReferralOut.of(referral, english=wants_english(request))
