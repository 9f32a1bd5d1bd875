"""Admins' routes: programmes, partners (with their webhook URL and secret), the delivery queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wegweiser.common.events import Programme
from wegweiser.common.http import not_found, problem
from wegweiser.common.regions import catalogue as regions
from wegweiser.referrals.api.catalogue import PartnerOut
from wegweiser.referrals.delivery.addresses import AddressGuard, RefusedAddress, UnresolvedHost
from wegweiser.referrals.delivery.breaker import BreakerState
from wegweiser.referrals.deps import AdminDep, ContextDep, PolicyDep, ReferralsContext, UnitOfWorkDep
from wegweiser.referrals.domain.catalogue import Partner, PartnerSpec, ProgrammeInfo
from wegweiser.referrals.handlers import (
    PartnerExists,
    PartnerNotFound,
    ReferralsUnitOfWork,
    SavedPartner,
    create_partner,
    remove_partner,
    republish_catalogue,
    rotate_webhook_secret,
    update_partner,
    update_programme,
)

router = APIRouter(prefix="/admin", tags=["admin"])
FieldErrors = list[dict[str, str]]


class DeliveryStatusOut(BaseModel):
    partner_id: str
    breaker: BreakerState
    deliveries: dict[str, int]


class RepublishedOut(BaseModel):
    published: int


def unknown_regions(spec: PartnerSpec) -> FieldErrors:
    """Region keys that the region catalogue does not know, as 422 field errors."""
    catalogue = regions().municipalities
    kreise = {m.kreis_ags for m in catalogue.values()}
    laender = {m.land_code for m in catalogue.values()}
    errors = []
    for name, values, known in (("ags", spec.ags, catalogue), ("kreise", spec.kreise, kreise),
                                ("laender", spec.laender, laender)):  # fmt: skip
        unknown = [v for v in values if v not in known]
        if unknown:
            errors.append({"field": name, "message": f"unknown: {', '.join(unknown)}", "type": "value_error"})
    return errors


async def refused_webhook_url(spec: PartnerSpec, guard: AddressGuard, *, timeout_s: float) -> FieldErrors:
    """A webhook URL that reaches loopback, link-local, private or our own hosts, as a 422 field error.

    A name that does not resolve yet is accepted: the worker checks again before every delivery.
    """
    if spec.webhook_url is None:
        return []
    try:
        await guard.target(str(spec.webhook_url), timeout_s=timeout_s)
    except RefusedAddress as exc:
        return [{"field": "webhook_url", "message": f"not allowed: {exc}", "type": "refused_address"}]
    except UnresolvedHost:
        return []
    return []


async def invalid_partner(spec: PartnerSpec, context: ReferralsContext) -> FieldErrors:
    """Every reason to refuse an admin's partner: unknown regions, a webhook URL we may not call."""
    guard, timeout_s = context.webhook_addresses, context.settings.webhook_timeout_s
    return unknown_regions(spec) + await refused_webhook_url(spec, guard, timeout_s=timeout_s)


def path_mismatch(field: str) -> dict[str, str]:
    return {"field": field, "message": "must match the path", "type": "value_error"}


@router.put("/programmes/{programme}", response_model=ProgrammeInfo)
async def put_programme(
    programme: Programme, body: ProgrammeInfo, admin: AdminDep, uow: UnitOfWorkDep, policy: PolicyDep,
    request: Request,
) -> ProgrammeInfo | JSONResponse:  # fmt: skip
    """Change a programme's texts, its minimum personal data, or pause it (``active: false``)."""
    if body.programme != programme:
        return problem(request, 422, errors=[path_mismatch("programme")])
    return await update_programme(body, uow=uow, clock=policy.clock)


@router.post("/partners", status_code=201, response_model=PartnerOut)
async def post_partner(
    body: PartnerSpec, admin: AdminDep, context: ContextDep, uow: UnitOfWorkDep, request: Request
) -> PartnerOut | JSONResponse:
    """Create a partner; Kafka partners get their two topics, webhook partners a signing secret."""
    if errors := await invalid_partner(body, context):
        return problem(request, 422, errors=errors)
    try:
        return await _save_partner(create_partner, body, context, uow)
    except PartnerExists:
        return problem(request, 409, f"partner id {body.partner_id} is taken (ids are never reused)")


@router.put("/partners/{partner_id}", response_model=PartnerOut)
async def put_partner(
    partner_id: str, body: PartnerSpec, admin: AdminDep, context: ContextDep, uow: UnitOfWorkDep,
    request: Request,
) -> PartnerOut | JSONResponse:  # fmt: skip
    if body.partner_id != partner_id:
        return problem(request, 422, errors=[path_mismatch("partner_id")])
    if errors := await invalid_partner(body, context):
        return problem(request, 422, errors=errors)
    try:
        return await _save_partner(update_partner, body, context, uow)
    except PartnerNotFound:
        return not_found(request, "Partner", "partner", partner_id)


async def _save_partner(
    save: Callable[..., Awaitable[SavedPartner]],
    body: PartnerSpec,
    context: ReferralsContext,
    uow: ReferralsUnitOfWork,
) -> PartnerOut:
    """Create or update: the catalogue changes and the admin sees the partner (with a new secret, if any)."""
    saved = await save(
        Partner(**body.model_dump()),
        uow=uow,
        clock=context.policy.clock,
        ensure_topics=context.partner_topics.ensure,
    )
    context.catalogue_changed()
    return PartnerOut.of(saved.partner, admin=True, secret=saved.webhook_secret)


@router.delete("/partners/{partner_id}", status_code=204, response_model=None)
async def delete_partner(
    partner_id: str, admin: AdminDep, context: ContextDep, uow: UnitOfWorkDep, request: Request
) -> Response:
    """Remove a partner: no new referrals; queued webhook payloads for it are erased."""
    try:
        await remove_partner(partner_id, uow=uow, clock=context.policy.clock)
    except PartnerNotFound:
        return not_found(request, "Partner", "partner", partner_id)
    context.catalogue_changed()
    return Response(status_code=204)


@router.post("/partners/{partner_id}/webhook-secret", response_model=PartnerOut)
async def rotate_secret(
    partner_id: str, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> PartnerOut | JSONResponse:
    try:
        secret = await rotate_webhook_secret(partner_id, uow=uow)
    except PartnerNotFound:
        return not_found(request, "Webhook-Partner", "webhook partner", partner_id)
    async with uow:
        partner = await uow.catalogue.partner(partner_id)
    assert partner is not None  # the rotation just found it, and partners are never deleted
    return PartnerOut.of(partner, admin=True, secret=secret)


@router.get("/partners/{partner_id}/delivery", response_model=DeliveryStatusOut)
async def delivery_status(
    partner_id: str, admin: AdminDep, context: ContextDep, uow: UnitOfWorkDep, request: Request
) -> DeliveryStatusOut | JSONResponse:
    """The partner's webhook queue by status and its circuit breaker (closed, open, half_open)."""
    async with uow:
        if await uow.catalogue.partner(partner_id) is None:
            return not_found(request, "Partner", "partner", partner_id)
        counts = await uow.deliveries.counts_by_status(partner_id)
    return DeliveryStatusOut(
        partner_id=partner_id, breaker=context.worker.breaker_state(partner_id), deliveries=counts
    )


@router.post("/catalogue/republish", response_model=RepublishedOut)
async def republish(admin: AdminDep, uow: UnitOfWorkDep, policy: PolicyDep) -> RepublishedOut:
    """Publish the whole catalogue again on its compacted topic."""
    return RepublishedOut(published=await republish_catalogue(uow=uow, clock=policy.clock))
