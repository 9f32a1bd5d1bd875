"""Referrals in the web UI: the referral form and the live status fragment of the case page."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.domain.model import Case, Referral
from wegweiser.casework.programmes import PROGRAMME_NAMES, person_fields_for
from wegweiser.casework.web.case_forms import (
    CaseForm,
    form_texts,
    handler_args,
    partner_field,
    partners,
    persons,
    required_select,
)
from wegweiser.casework.web.forms import Field
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import PageDep, WebContext, programme_name
from wegweiser.common.events import Programme

router = APIRouter(include_in_schema=False)


class ReferralForm(BaseModel):
    person_id: uuid.UUID
    programme: Programme
    partner_id: str | None = None
    note_for_partner: str | None = None


async def referral_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    return [
        required_select("person_id", persons(case, lang), lang),
        required_select("programme", [(p, programme_name(p, lang)) for p in PROGRAMME_NAMES], lang),
        partner_field(list((await partners(ctx)).values()), lang),
        Field(
            "note_for_partner",
            t("field.note_for_partner", lang),
            "textarea",
            hint=t("field.note_for_partner.hint", lang),
            attrs={"maxlength": "2000"},
        ),
    ]


async def request_referral(ctx: WebContext, case: Case, v: dict[str, Any]) -> Referral:
    command = ReferralForm.model_validate(
        form_texts(v, "person_id", "programme", "partner_id", "note_for_partner")
    )
    return await h.request_referral(
        h.RequestReferral(case_id=case.case_id, principal=ctx.principal, **command.model_dump()),
        **handler_args(ctx),
    )


async def fields_sent(ctx: WebContext, values: dict[str, Any]) -> str | None:
    """Which of the person's details the chosen programme will receive, shown above the fields."""
    programme = values.get("programme")
    if not programme:
        return None
    async with ctx.uow as uow:
        entry = await uow.catalogue.programme(programme)
    wanted = person_fields_for(programme, entry)
    names = ", ".join(t(f"pf.{f}", ctx.lang) for f in sorted(wanted))
    return t("referral.fields_sent", ctx.lang, fields=names)


REFERRAL = CaseForm(
    "referrals/new",
    "referral.title",
    referral_fields,
    request_referral,
    "referral",
    "#referrals",
    info=fields_sent,
)


@router.get("/cases/{case_id}/referral-status", response_class=HTMLResponse)
async def referral_status_fragment(case_id: uuid.UUID, ctx: PageDep) -> Response:
    try:
        case, referrals = await views.referral_statuses(case_id, ctx.principal, uow=ctx.uow)
    except h.CaseNotFound:
        return HTMLResponse("", status_code=404)
    return ctx.render("_referrals.html", case=case, referrals=referrals, partners=await partners(ctx))


REFERRAL.mount(router)
