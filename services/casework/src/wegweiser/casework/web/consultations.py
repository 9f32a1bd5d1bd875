"""Consultations in the web UI: the form that records one on the case's timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from wegweiser.casework import handlers as h
from wegweiser.casework.domain.model import Case, Consultation
from wegweiser.casework.web.case_forms import HANDLUNGSFELDER, CaseForm, as_list, code_select, codes, persons
from wegweiser.casework.web.forms import Field, blank_to_none
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
            "held_on": blank_to_none(v.get("held_on")),
            "duration_minutes": blank_to_none(v.get("duration_minutes")),
            "type": blank_to_none(v.get("type")),
            "channel": blank_to_none(v.get("channel")),
            "interpreter_used": v.get("interpreter_used") == "on",
            "interpreter_language": (blank_to_none(v.get("interpreter_language")) or "").lower() or None,
            "handlungsfelder": as_list(v.get("handlungsfelder")),
            "present_person_ids": present,
            "persons_present": max(1, len(present)),
            "note": blank_to_none(v.get("note")),
        }
    )
    return await h.record_consultation(
        h.RecordConsultation(case.case_id, consultation, ctx.principal),
        uow=ctx.uow,
        today=ctx.today,
        pseudonym_key=ctx.settings.pseudonym_key,
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
