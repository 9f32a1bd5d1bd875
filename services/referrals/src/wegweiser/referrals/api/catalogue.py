"""The catalogue as every signed-in role reads it: programmes, and the partners serving a municipality."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wegweiser.common.events import Programme
from wegweiser.common.http import not_found
from wegweiser.common.partner_areas import place_of
from wegweiser.referrals.deps import PrincipalDep, UnitOfWorkDep
from wegweiser.referrals.domain.catalogue import Partner, ProgrammeInfo

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


class PartnerOut(BaseModel):
    partner_id: str
    organisation: str
    programmes: tuple[Programme, ...]
    ags: tuple[str, ...]
    kreise: tuple[str, ...]
    laender: tuple[str, ...]
    delivery: str
    contact_email: str | None
    contact_phone: str | None
    website: str | None
    capacity_note: str | None
    active: bool
    webhook_url: str | None = Field(None, description="admins only")
    webhook_secret: str | None = Field(None, description="shown once: on creation, rotation or a switch")

    @classmethod
    def of(cls, partner: Partner, *, admin: bool, secret: str | None = None) -> PartnerOut:
        data = partner.model_dump(mode="json", exclude={"removed", "webhook_url"})
        url = str(partner.webhook_url) if admin and partner.webhook_url else None
        return cls(**data, webhook_url=url, webhook_secret=secret)


@router.get("/programmes", response_model=list[ProgrammeInfo])
async def list_programmes(principal: PrincipalDep, uow: UnitOfWorkDep) -> list[ProgrammeInfo]:
    """Programmes and the personal fields each may receive (for counsellors choosing a programme)."""
    async with uow:
        return sorted((await uow.catalogue.programmes()).values(), key=lambda p: p.programme)


@router.get("/partners", response_model=list[PartnerOut])
async def list_partners(
    principal: PrincipalDep,
    uow: UnitOfWorkDep,
    programme: Programme | None = None,
    ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
) -> list[PartnerOut]:
    """Partners, optionally those offering a programme and serving a municipality."""
    async with uow:
        partners = await uow.catalogue.partners()
    if programme:
        partners = [p for p in partners if programme in p.programmes]
    if ags:
        place = place_of(ags)
        partners = [p for p in partners if p.area.serves(place)]
    admin = "admin" in principal.roles
    return [PartnerOut.of(p, admin=admin) for p in partners]


@router.get("/partners/{partner_id}", response_model=PartnerOut)
async def get_partner(
    partner_id: str, principal: PrincipalDep, uow: UnitOfWorkDep, request: Request
) -> PartnerOut | JSONResponse:
    async with uow:
        partner = await uow.catalogue.partner(partner_id)
    if partner is None or partner.removed:
        return not_found(request, "Partner", "partner", partner_id)
    return PartnerOut.of(partner, admin="admin" in principal.roles)
