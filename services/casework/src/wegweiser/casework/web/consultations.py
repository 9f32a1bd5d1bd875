"""Consultations in the web UI: the form that records one on the case's timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wegweiser.casework import handlers as h
from wegweiser.casework.domain.model import Case, Consultation
from wegweiser.casework.web.case_forms import (
    HANDLUNGSFELDER,
    CaseForm,
    as_list,
    code_select,
    codes,
    form_texts,
    handler_args,
    language_code,
    persons,
)
from wegweiser.casework.web.forms import Field
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import WebContext

router = APIRouter(include_in_schema=False)

CONSULTATION_TYPES = ["erstgespraech", "folgeberatung", "kurzberatung", "verweisberatung"]
CHANNELS = ["persoenlich", "hausbesuch", "telefon", "video", "schriftlich"]


async def consultation_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    return [
        Field("held_on", t("field.held_on", lang), "date", value=ctx.today.isoformat(), required=True),
        Field(
            "duration_minutes",
            t("field.duration_minutes", lang),
            "number",
            required=True,
            attrs={"min": "1", "max": "600", "inputmode": "numeric"},
        ),
        code_select("type", "ct", CONSULTATION_TYPES, lang),
        code_select("channel", "ch", CHANNELS, lang),
        Field("interpreter_used", t("field.interpreter_used", lang), "checkbox"),
        Field(
            "interpreter_language",
            t("field.interpreter_language", lang),
            hint=t("field.interpreter_language.hint", lang),
            attrs={"maxlength": "3"},
        ),
        Field(
            "handlungsfelder",
            t("field.handlungsfelder", lang),
            "checkboxes",
            options=codes("hf", HANDLUNGSFELDER, lang),
        ),
        Field(
            "present_person_ids",
            t("field.present_person_ids", lang),
            "checkboxes",
            options=persons(case, lang),
        ),
        Field("note", t("field.note", lang), "textarea", hint=t("field.note.hint", lang)),
    ]


async def record_consultation(ctx: WebContext, case: Case, v: dict[str, Any]) -> Consultation:
    present = as_list(v.get("present_person_ids"))
    consultation = Consultation.model_validate(
        {
            **form_texts(v, "held_on", "duration_minutes", "type", "channel", "note"),
            "interpreter_used": v.get("interpreter_used") == "on",
            "interpreter_language": language_code(v.get("interpreter_language")),
            "handlungsfelder": as_list(v.get("handlungsfelder")),
            "present_person_ids": present,
            "persons_present": max(1, len(present)),
        }
    )
    return await h.record_consultation(
        h.RecordConsultation(case.case_id, consultation, ctx.principal), **handler_args(ctx)
    )


CONSULTATION = CaseForm(
    "consultations/new",
    "consultation.title",
    consultation_fields,
    record_consultation,
    "consultation",
    "#timeline",
)
CONSULTATION.mount(router)
