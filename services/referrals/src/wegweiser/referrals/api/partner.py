"""A partner's view of the referrals sent to it: status only (personal data came once, with the offer)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wegweiser.common.events import Programme
from wegweiser.common.http import not_found
from wegweiser.referrals.api.status_name import (
    STATE_DEPRECATED,
    STATUS,
    StateQuery,
    StatusQuery,
    wanted_status,
)
from wegweiser.referrals.deps import PartnerIdDep, UnitOfWorkDep
from wegweiser.referrals.domain.lifecycle import Referral

router = APIRouter(prefix="/partner/referrals", tags=["partner"])


class PartnerReferralOut(BaseModel):
    """A referral as its partner sees it later: status only; personal data came once, with the offer."""

    referral_id: uuid.UUID
    ags: str
    programme: Programme
    status: str = STATUS
    state: str = STATE_DEPRECATED
    requested_on: dt.date
    respond_by: dt.datetime | None
    started_on: dt.date | None

    @classmethod
    def of(cls, r: Referral) -> PartnerReferralOut:
        return cls(**r.model_dump(include=set(cls.model_fields)), status=r.state, respond_by=r.expire_at)


@router.get("", response_model=list[PartnerReferralOut])
async def partner_referrals(
    partner_id: PartnerIdDep,
    uow: UnitOfWorkDep,
    status: StatusQuery = None,
    state: StateQuery = None,
) -> list[PartnerReferralOut]:
    """The caller's referrals (status only), e.g. ``status=sent`` for those awaiting an answer."""
    async with uow:
        found = await uow.referrals.visible(partner_id=partner_id, state=wanted_status(status, state))
    return [PartnerReferralOut.of(r) for r in found]


@router.get("/{referral_id}", response_model=PartnerReferralOut)
async def partner_referral(
    referral_id: uuid.UUID, partner_id: PartnerIdDep, uow: UnitOfWorkDep, request: Request
) -> PartnerReferralOut | JSONResponse:
    async with uow:
        referral = await uow.referrals.get(referral_id)
    if referral is None or referral.partner_id != partner_id:
        return not_found(request, "Vermittlung", "referral", referral_id)
    return PartnerReferralOut.of(referral)
