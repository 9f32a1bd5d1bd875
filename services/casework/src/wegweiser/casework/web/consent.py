"""Consent in the web UI: the form that records a person's consent, and its withdrawal."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework.domain.model import Case, Consent
from wegweiser.casework.programmes import PROGRAMME_NAMES
from wegweiser.casework.web.case_forms import (
    CaseForm,
    case_action,
    form_texts,
    handler_args,
    language_code,
    partner_field,
    partners,
    persons,
    required_select,
)
from wegweiser.casework.web.forms import Field
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import PageDep, WebContext, programme_name

router = APIRouter(include_in_schema=False)


async def consent_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    purposes = [(p, programme_name(p, lang)) for p in PROGRAMME_NAMES] + [
        ("case_transfer", t("purpose.case_transfer", lang))
    ]
    return [
        required_select("person_id", persons(case, lang), lang),
        required_select("purpose", purposes, lang, hint=t("field.purpose.hint", lang)),
        partner_field(
            list((await partners(ctx)).values()), lang, hint=t("field.partner_id.consent_hint", lang)
        ),
        Field("granted_on", t("field.granted_on", lang), "date", value=ctx.today.isoformat(), required=True),
        Field(
            "language",
            t("field.language", lang),
            value="de",
            required=True,
            hint=t("field.language.hint", lang),
            attrs={"maxlength": "3"},
        ),
        Field("by_guardian", t("field.by_guardian", lang), "checkbox"),
        Field("guardian_name", t("field.guardian_name", lang)),
    ]


async def grant_consent(ctx: WebContext, case: Case, v: dict[str, Any]) -> Consent:
    consent = Consent.model_validate(
        {
            **form_texts(v, "person_id", "purpose", "partner_id", "granted_on", "guardian_name"),
            "language": language_code(v.get("language")),
            "by_guardian": v.get("by_guardian") == "on",
        }
    )
    return await h.grant_consent(h.GrantConsent(case.case_id, consent, ctx.principal), **handler_args(ctx))


CONSENT = CaseForm("consents/new", "consent.title", consent_fields, grant_consent, "consent", "#consents")
CONSENT.mount(router)


@router.post("/cases/{case_id}/consents/{consent_id}/withdraw", response_class=HTMLResponse)
async def consent_withdraw(case_id: uuid.UUID, consent_id: uuid.UUID, ctx: PageDep) -> Response:
    if await ctx.form() is None:
        return ctx.csrf_failed()
    withdraw = h.withdraw_consent(
        h.WithdrawConsent(case_id, consent_id, ctx.principal), uow=ctx.uow, today=ctx.today
    )
    return await case_action(ctx, case_id, withdraw, done="withdrawn", anchor="#consents")
