"""A partner's view of the referrals sent to it: status, and the person while the referral is live.

A webhook delivery carries the person; a Kafka partner's topic does not (a log cannot be erased), so a
Kafka partner reads the person here (``person_url`` of ``referral.offered``): the claim check.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wegweiser.common.auth import Principal
from wegweiser.common.events import Programme
from wegweiser.common.http import not_found, problem, wants_english
from wegweiser.referrals.api.status_name import (
    STATE_DEPRECATED,
    STATUS,
    StateQuery,
    StatusQuery,
    wanted_status,
)
from wegweiser.referrals.db import AuditRow
from wegweiser.referrals.deps import PartnerIdDep, PrincipalDep, UnitOfWorkDep
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


class PartnerPersonOut(BaseModel):
    """What the partner may know of the person for this referral: the programme's fields, the note."""

    referral_id: uuid.UUID
    person: dict[str, Any]
    note_for_partner: str | None


@router.get("/{referral_id}/person", response_model=PartnerPersonOut)
async def partner_referral_person(
    referral_id: uuid.UUID,
    partner_id: PartnerIdDep,
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    request: Request,
) -> PartnerPersonOut | JSONResponse:
    """The person of a live referral (the claim check of ``referral.offered``): 410 once it ended, 404
    once the person's data was erased (nothing is left to know it by). Every read is audited."""
    async with uow:
        referral = await uow.referrals.get(referral_id)
        offer = (await uow.referrals.offers(partner_id, [referral_id])).get(referral_id)
        if offer is None:
            if referral is None or referral.partner_id != partner_id:
                return not_found(request, "Vermittlung", "referral", referral_id)
            return problem(request, 410, gone_detail(request))
        uow.session.add(read_entry(principal, referral_id, case_id=referral.case_id if referral else None))
        await uow.commit()
    return PartnerPersonOut(
        referral_id=referral_id, person=offer.person, note_for_partner=offer.note_for_partner
    )


def gone_detail(request: Request) -> str:
    if wants_english(request):
        return "The referral has ended: delete the personal data you received for it."
    return "Die Vermittlung ist beendet: löschen Sie die dazu erhaltenen Daten der Person."


def read_entry(principal: Principal, referral_id: uuid.UUID, *, case_id: uuid.UUID | None) -> AuditRow:
    return AuditRow.of(principal, "partner_read_person", case_id=case_id, referral_id=str(referral_id))
