"""Referrals to partners' programmes, and the programme and partner catalogue to choose them from."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from wegweiser.casework import handlers as h
from wegweiser.casework.api.change import ChangeDep
from wegweiser.casework.api.models import CatalogueOut, PartnerOut, ProgrammeOut, ReferralIn
from wegweiser.casework.deps import StaffDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Referral
from wegweiser.casework.programmes import BUILT_IN_MINIMUM, PROGRAMME_NAMES
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter()


@router.post(
    "/cases/{case_id}/referrals",
    status_code=201,
    response_model=Referral,
    tags=["cases"],
    openapi_extra=IDEMPOTENCY_HEADER,
)
async def add_referral(case_id: uuid.UUID, body: ReferralIn, change: ChangeDep) -> Referral | Response:
    """Refused (422, ``consent_missing`` or ``consent_other_partner``) without a matching consent."""
    command = h.RequestReferral(case_id=case_id, principal=change.principal, **body.model_dump())
    return await change.once(
        lambda: h.request_referral(
            command, uow=change.uow, today=change.today, pseudonym_key=change.pseudonym_key
        )
    )


@router.get("/catalogue", response_model=CatalogueOut, tags=["catalogue"])
async def programmes(principal: StaffDep, uow: UnitOfWorkDep) -> CatalogueOut:
    """Programmes and partners as referrals publishes them; built-in minimum where it has not yet."""
    async with uow:
        known = {p.code: p for p in await uow.catalogue.programmes()}
        partners = await uow.catalogue.partners()
    out = [
        ProgrammeOut(
            code=p.code,
            name_de=p.name_de,
            name_en=p.name_en,
            person_fields=sorted(p.person_fields),
            source="catalogue",
        )
        for p in known.values()
    ]
    out += [
        ProgrammeOut(
            code=code,
            name_de=de,
            name_en=en,
            person_fields=sorted(BUILT_IN_MINIMUM[code]),
            source="built-in",
        )
        for code, (de, en) in PROGRAMME_NAMES.items()
        if code not in known
    ]
    return CatalogueOut(
        programmes=sorted(out, key=lambda p: p.code),
        partners=[
            PartnerOut(**p.model_dump(include={"partner_id", "name", "programmes", "ags"})) for p in partners
        ],
    )
