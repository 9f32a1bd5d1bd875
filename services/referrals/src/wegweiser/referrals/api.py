"""Referrals' HTTP API (``/v1``): catalogue, admin, counsellors' view, partners' answers. Routes translate.

Access (docs/architecture.md): the catalogue is readable by every signed-in role; changes need ``admin``;
counsellors and supervisors see referrals of their provider in their AGS; a partner sees and answers
only referrals sent to it (anything else is 404, so existence does not leak).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlmodel import col

from wegweiser.common.auth import Forbidden, Principal, PrincipalDep, require_role
from wegweiser.common.events import DeclineReason, DropReason, FeedbackOutcome, Programme
from wegweiser.common.http import problem, wants_english
from wegweiser.common.partner_areas import place_of
from wegweiser.common.regions import catalogue as regions
from wegweiser.referrals.db import WebhookDeliveryRow
from wegweiser.referrals.domain.catalogue import Partner, PartnerSpec, ProgrammeInfo
from wegweiser.referrals.domain.lifecycle import ANSWER_REASONS, STATE_NAMES, InvalidTransition, Referral
from wegweiser.referrals.domain.routing import REASONS
from wegweiser.referrals.handlers import (
    PartnerExists,
    PartnerNotFound,
    RecordFeedback,
    ReferralNotFound,
    answer_referral,
    create_partner,
    remove_partner,
    republish_catalogue,
    rotate_webhook_secret,
    update_partner,
    update_programme,
)

AdminDep = Annotated[Principal, require_role("admin")]
StaffDep = Annotated[Principal, require_role("counsellor", "supervisor", "admin")]
PartnerDep = Annotated[Principal, require_role("partner")]
FEEDBACK_NAMESPACE = uuid.UUID("6f1d3c1e-6a55-4f7e-9d7c-2b1c8e0f4a10")


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


class ReferralOut(BaseModel):
    """A referral as counsellors see it: pseudonymous status, with reasons in the caller's language."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    ags: str
    provider_id: str
    programme: Programme
    partner_id: str | None
    state: str
    state_text: str
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
        return cls(
            **r.model_dump(include=set(cls.model_fields) & set(Referral.model_fields)),
            state_text=STATE_NAMES[r.state][1 if english else 0],
            reason_text=(texts[1] if english else texts[0]) if texts else None,
            respond_by=r.expire_at,
        )


class PartnerReferralOut(BaseModel):
    """A referral as its partner sees it later: status only; personal data came once, with the offer."""

    referral_id: uuid.UUID
    ags: str
    programme: Programme
    state: str
    requested_on: dt.date
    respond_by: dt.datetime | None
    started_on: dt.date | None

    @classmethod
    def of(cls, r: Referral) -> PartnerReferralOut:
        return cls(**r.model_dump(include=set(cls.model_fields)), respond_by=r.expire_at)


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


def _bad_regions(spec: PartnerSpec) -> list[dict[str, str]]:
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


def _invalid(request: Request, exc: InvalidTransition) -> Any:
    """409 for a step the lifecycle forbids; 422 naming the field for a missing or unknown reason."""
    detail = exc.en if wants_english(request) else exc.de
    if exc.code in ("reason_required", "unknown_reason"):
        errors = [{"field": "reason", "message": detail, "type": exc.code}]
        return problem(request, 422, detail, code=exc.code, errors=errors)
    return problem(request, 409, detail, code=exc.code)


def router() -> APIRouter:
    api = APIRouter(prefix="/v1")

    # --- catalogue (read) --------------------------------------------------------------------------

    @api.get("/catalogue/programmes", response_model=list[ProgrammeInfo], tags=["catalogue"])
    async def list_programmes(principal: PrincipalDep, request: Request) -> Any:
        """Programmes and the personal fields each may receive (for counsellors choosing a programme)."""
        async with request.app.state.runtime.unit_of_work() as uow:
            return sorted((await uow.catalogue.programmes()).values(), key=lambda p: p.programme)

    @api.get("/catalogue/partners", response_model=list[PartnerOut], tags=["catalogue"])
    async def list_partners(
        principal: PrincipalDep,
        request: Request,
        programme: Programme | None = None,
        ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
    ) -> Any:
        """Partners, optionally those offering a programme and serving a municipality."""
        async with request.app.state.runtime.unit_of_work() as uow:
            partners = await uow.catalogue.partners()
        if programme:
            partners = [p for p in partners if programme in p.programmes]
        if ags:
            place = place_of(ags)
            partners = [p for p in partners if p.area.serves(place)]
        admin = "admin" in principal.roles
        return [PartnerOut.of(p, admin=admin) for p in partners]

    @api.get("/catalogue/partners/{partner_id}", response_model=PartnerOut, tags=["catalogue"])
    async def get_partner(partner_id: str, principal: PrincipalDep, request: Request) -> Any:
        async with request.app.state.runtime.unit_of_work() as uow:
            partner = await uow.catalogue.partner(partner_id)
        if partner is None or partner.removed:
            return problem(request, 404, f"partner {partner_id}")
        return PartnerOut.of(partner, admin="admin" in principal.roles)

    # --- admin -------------------------------------------------------------------------------------

    @api.put("/admin/programmes/{programme}", response_model=ProgrammeInfo, tags=["admin"])
    async def put_programme(
        programme: Programme, body: ProgrammeInfo, admin: AdminDep, request: Request
    ) -> Any:
        """Change a programme's texts, its minimum personal data, or pause it (``active: false``)."""
        if body.programme != programme:
            return problem(request, 422, errors=[_mismatch("programme")])
        state = request.app.state
        return await update_programme(body, uow=state.runtime.unit_of_work(), clock=state.policy.clock)

    @api.post("/admin/partners", status_code=201, response_model=PartnerOut, tags=["admin"])
    async def post_partner(body: PartnerSpec, admin: AdminDep, request: Request) -> Any:
        """Create a partner; Kafka partners get their two topics, webhook partners a signing secret."""
        if errors := _bad_regions(body):
            return problem(request, 422, errors=errors)
        state = request.app.state
        try:
            saved = await create_partner(
                Partner(**body.model_dump()),
                uow=state.runtime.unit_of_work(),
                clock=state.policy.clock,
                ensure_topics=state.ensure_partner_topics,
            )
        except PartnerExists:
            return problem(request, 409, f"partner id {body.partner_id} is taken (ids are never reused)")
        state.catalogue_changed()
        return PartnerOut.of(saved.partner, admin=True, secret=saved.webhook_secret)

    @api.put("/admin/partners/{partner_id}", response_model=PartnerOut, tags=["admin"])
    async def put_partner(partner_id: str, body: PartnerSpec, admin: AdminDep, request: Request) -> Any:
        if body.partner_id != partner_id:
            return problem(request, 422, errors=[_mismatch("partner_id")])
        if errors := _bad_regions(body):
            return problem(request, 422, errors=errors)
        state = request.app.state
        try:
            saved = await update_partner(
                Partner(**body.model_dump()),
                uow=state.runtime.unit_of_work(),
                clock=state.policy.clock,
                ensure_topics=state.ensure_partner_topics,
            )
        except PartnerNotFound:
            return problem(request, 404, f"partner {partner_id}")
        state.catalogue_changed()
        return PartnerOut.of(saved.partner, admin=True, secret=saved.webhook_secret)

    @api.delete("/admin/partners/{partner_id}", status_code=204, response_model=None, tags=["admin"])
    async def delete_partner(partner_id: str, admin: AdminDep, request: Request) -> Any:
        """Remove a partner: no new referrals; queued webhook payloads for it are erased."""
        state = request.app.state
        try:
            await remove_partner(partner_id, uow=state.runtime.unit_of_work(), clock=state.policy.clock)
        except PartnerNotFound:
            return problem(request, 404, f"partner {partner_id}")
        state.catalogue_changed()
        return Response(status_code=204)

    @api.post("/admin/partners/{partner_id}/webhook-secret", response_model=PartnerOut, tags=["admin"])
    async def rotate_secret(partner_id: str, admin: AdminDep, request: Request) -> Any:
        state = request.app.state
        try:
            secret = await rotate_webhook_secret(partner_id, uow=state.runtime.unit_of_work())
        except PartnerNotFound:
            return problem(request, 404, f"webhook partner {partner_id}")
        async with state.runtime.unit_of_work() as uow:
            partner = await uow.catalogue.partner(partner_id)
        return PartnerOut.of(partner, admin=True, secret=secret)

    @api.get("/admin/partners/{partner_id}/delivery", tags=["admin"])
    async def delivery_status(partner_id: str, admin: AdminDep, request: Request) -> Any:
        """The partner's webhook queue by status and its circuit breaker (closed, open, half_open)."""
        state = request.app.state
        async with state.runtime.unit_of_work() as uow:
            if await uow.catalogue.partner(partner_id) is None:
                return problem(request, 404, f"partner {partner_id}")
            rows = await uow.session.execute(
                select(col(WebhookDeliveryRow.status), func.count())
                .where(col(WebhookDeliveryRow.partner_id) == partner_id)
                .group_by(col(WebhookDeliveryRow.status))
            )
            counts = {status: n for status, n in rows.all()}
        return {
            "partner_id": partner_id,
            "breaker": state.worker.breaker_state(partner_id),
            "deliveries": counts,
        }

    @api.post("/admin/catalogue/republish", tags=["admin"])
    async def republish(admin: AdminDep, request: Request) -> Any:
        """Publish the whole catalogue again on its compacted topic."""
        state = request.app.state
        count = await republish_catalogue(uow=state.runtime.unit_of_work(), clock=state.policy.clock)
        return {"published": count}

    # --- counsellors -------------------------------------------------------------------------------

    @api.get("/referrals", response_model=list[ReferralOut], tags=["referrals"])
    async def list_referrals(
        principal: StaffDep,
        request: Request,
        case_id: uuid.UUID | None = None,
        ags: Annotated[str | None, Query(pattern=r"^\d{8}$")] = None,
    ) -> Any:
        """Referrals of the caller's provider in the caller's municipalities (all for admins)."""
        admin = "admin" in principal.roles
        if ags is not None and not principal.may_access_ags(ags):
            raise Forbidden(f"no access to municipality {ags}")
        scope = {ags} if ags else (None if admin else set(principal.ags))
        async with request.app.state.runtime.unit_of_work() as uow:
            found = await uow.referrals.visible(
                provider_id=None if admin else principal.provider_id or "", ags=scope, case_id=case_id
            )
        english = wants_english(request)
        return [ReferralOut.of(r, english=english) for r in found]

    @api.get("/referrals/{referral_id}", response_model=ReferralOut, tags=["referrals"])
    async def get_referral(referral_id: uuid.UUID, principal: StaffDep, request: Request) -> Any:
        async with request.app.state.runtime.unit_of_work() as uow:
            referral = await uow.referrals.get(referral_id)
        if referral is None or not _staff_may_see(principal, referral):
            return problem(request, 404, f"referral {referral_id}")
        return ReferralOut.of(referral, english=wants_english(request))

    # --- partners ----------------------------------------------------------------------------------

    @api.get("/partner/referrals", response_model=list[PartnerReferralOut], tags=["partner"])
    async def partner_referrals(principal: PartnerDep, request: Request, state: str | None = None) -> Any:
        """The caller's referrals (status only), e.g. ``state=sent`` for those awaiting an answer."""
        async with request.app.state.runtime.unit_of_work() as uow:
            found = await uow.referrals.visible(partner_id=_partner_id(principal), state=state)
        return [PartnerReferralOut.of(r) for r in found]

    @api.get("/partner/referrals/{referral_id}", response_model=PartnerReferralOut, tags=["partner"])
    async def partner_referral(referral_id: uuid.UUID, principal: PartnerDep, request: Request) -> Any:
        async with request.app.state.runtime.unit_of_work() as uow:
            referral = await uow.referrals.get(referral_id)
        if referral is None or referral.partner_id != _partner_id(principal):
            return problem(request, 404, f"referral {referral_id}")
        return PartnerReferralOut.of(referral)

    @api.post("/partner/referrals/{referral_id}/feedback", response_model=FeedbackOut, tags=["partner"])
    async def feedback(
        referral_id: uuid.UUID,
        body: FeedbackIn,
        principal: PartnerDep,
        request: Request,
        idempotency_key: Annotated[uuid.UUID | None, Header()] = None,
    ) -> Any:
        """Answer a referral: accepted, declined (with reason), started, completed, dropped. Idempotent."""
        feedback_id = (
            body.feedback_id
            or idempotency_key
            or uuid.uuid5(FEEDBACK_NAMESPACE, f"{referral_id}:{body.outcome}:{body.reason}:{body.started_on}")
        )
        state = request.app.state
        try:
            result = await answer_referral(
                RecordFeedback(
                    partner_id=_partner_id(principal),
                    referral_id=referral_id,
                    feedback_id=feedback_id,
                    outcome=body.outcome,
                    reason=body.reason,
                    started_on=body.started_on,
                ),
                uow=state.runtime.unit_of_work(),
                policy=state.policy,
            )
        except ReferralNotFound:
            return problem(request, 404, f"referral {referral_id}")
        except InvalidTransition as exc:
            return _invalid(request, exc)
        return FeedbackOut(
            referral_id=referral_id,
            state=result.referral.state,
            changed=result.changed,
            duplicate=result.duplicate,
        )

    return api


def _mismatch(field: str) -> dict[str, str]:
    return {"field": field, "message": "must match the path", "type": "value_error"}


def _partner_id(principal: Principal) -> str:
    if not principal.partner_id:
        raise Forbidden("partner token without partner_id")
    return principal.partner_id


def _staff_may_see(principal: Principal, referral: Referral) -> bool:
    """Provider AND municipality, never municipality alone (docs/architecture.md)."""
    if "admin" in principal.roles:
        return True
    return principal.provider_id == referral.provider_id and referral.ags in principal.ags
