"""Cases in the web UI: the caseload, search, walk-in cases, the case page and its contact details."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.domain.model import Case, CasePerson, CaseRefused
from wegweiser.casework.web.case_forms import (
    FORM_TOKEN,
    CaseForm,
    case_for_form,
    code_select,
    form_once,
    form_texts,
    new_form_token,
    partners,
)
from wegweiser.casework.web.forms import Field, apply, blank_to_none, field_errors
from wegweiser.casework.web.messages import refusal_text, t
from wegweiser.casework.web.pages import PageDep, WebContext, municipality_name
from wegweiser.casework.web.plan import GOAL_STATES
from wegweiser.common import names

router = APIRouter(include_in_schema=False)

DONE_KEYS = {
    "consultation",
    "goal",
    "goal_status",
    "consent",
    "withdrawn",
    "referral",
    "closed",
    "assigned",
    "extended",
    "opened",
    "contact",
}


@router.get("/cases", response_class=HTMLResponse)
async def caseload_page(ctx: PageDep) -> Response:
    if ctx.is_admin and not ctx.principal.has_any("counsellor", "supervisor"):
        return RedirectResponse("/admin", status_code=303)  # an admin holds no caseload: the desk instead
    q = ctx.request.query_params
    view = q.get("view") or ("mine" if "counsellor" in ctx.principal.roles else "all")
    status = q.get("status", "open")
    ags = q.get("ags") if q.get("ags") in ctx.principal.ags else None
    filters = views.CaseloadFilter(
        view=view if view in ("mine", "team", "unassigned", "all") else "all",
        status=status if status in ("open", "closed") else None,
        ags=ags,
        warning_only=q.get("warning") == "1",
    )
    rows = await views.caseload(ctx.principal, filters, uow=ctx.uow, today=ctx.today)
    waiting: list[views.CaseloadRow] = []
    if "view" not in q and filters.view == "mine":
        # The first view: new cases nobody has taken yet, so that "assigned to me" is not all one sees.
        unassigned = views.CaseloadFilter(view="unassigned", status="open", ags=None)
        waiting = await views.caseload(ctx.principal, unassigned, uow=ctx.uow, today=ctx.today)
    return ctx.render("caseload.html", rows=rows, waiting=waiting, filters=filters, status_value=status)


@router.get("/search", response_class=HTMLResponse)
async def search_page(ctx: PageDep) -> Response:
    q = ctx.request.query_params
    name = (q.get("name") or "").strip()
    dob = (q.get("dob") or "").strip()
    errors: dict[str, str] = {}
    rows: list[views.CaseloadRow] | None = None
    if "name" in q or "dob" in q:
        if dob and not dob_ok(dob):
            errors["dob"] = t("v.dob", ctx.lang)
        elif not name and not dob:
            errors["name"] = t("search.need_term", ctx.lang)
        else:
            filters = views.CaseloadFilter(
                view="all", status=None, name=name or None, date_of_birth=dob or None
            )
            rows = await views.caseload(ctx.principal, filters, uow=ctx.uow, today=ctx.today)
    return ctx.render(
        "search.html", rows=rows, name=name, dob=dob, errors=errors, status=422 if errors else 200
    )


# --- walk-in ---------------------------------------------------------------------------------------------


def walk_in_fields(ctx: WebContext) -> list[Field]:
    lang = ctx.lang
    return [
        Field(
            "ags",
            t("field.ags", lang),
            "select",
            options=[(a, municipality_name(a)) for a in sorted(ctx.principal.ags)],
            required=True,
        ),
        Field("opened_on", t("field.opened_on", lang), "date", value=ctx.today.isoformat(), required=True),
        Field("family_name", t("field.family_name", lang), required=True, attrs={"autocomplete": "off"}),
        Field("given_names", t("field.given_names", lang), required=True, attrs={"autocomplete": "off"}),
        Field("date_of_birth", t("field.date_of_birth", lang), hint=t("field.date_of_birth.hint", lang)),
        Field("languages", t("field.languages", lang), hint=t("field.languages.hint", lang)),
        Field("phone", t("field.phone", lang), "tel"),
        Field("email", t("field.email", lang), "email"),
        Field("address", t("field.address", lang)),
    ]


def walk_in_page(ctx: WebContext, fields: list[Field], status: int = 200, **values: object) -> Response:
    return ctx.render(
        "form.html",
        status,
        title=t("walkin.title", ctx.lang),
        intro=t("walkin.intro", ctx.lang),
        fields=fields,
        action="/cases/new",
        back="/cases",
        form_token=new_form_token(),
        **values,
    )


@router.get("/cases/new", response_class=HTMLResponse)
async def walk_in_form(ctx: PageDep) -> Response:
    return walk_in_page(ctx, walk_in_fields(ctx))


@router.post("/cases/new", response_class=HTMLResponse)
async def walk_in_submit(ctx: PageDep) -> Response:
    form = await ctx.form()
    if form is None:
        return ctx.csrf_failed()
    values = {k: str(v) for k, v in form.items() if k not in ("csrf", FORM_TOKEN)}
    return await form_once(ctx, str(form.get(FORM_TOKEN, "")), lambda: open_walk_in(ctx, values), "/cases")


async def open_walk_in(ctx: WebContext, values: dict[str, str]) -> str | Response:
    """The new case's page, or the form again with its errors."""
    errors = walk_in_errors(values, ctx.lang)
    opened_on = parse_date(values.get("opened_on"))
    case: Case | None = None
    if not errors and opened_on is not None:
        try:
            case = await h.open_walk_in_case(
                h.OpenWalkInCase(
                    ags=values["ags"],
                    opened_on=opened_on,
                    persons=(walk_in_person(values),),
                    principal=ctx.principal,
                ),
                uow=ctx.uow,
                today=ctx.today,
                pseudonym_key=ctx.settings.pseudonym_key,
            )
        except ValidationError as exc:
            errors = field_errors(exc, ctx.lang)
        except CaseRefused as exc:
            errors[exc.field or "form"] = refusal_text(exc, ctx.lang)
    if case is None:
        fields = apply(walk_in_fields(ctx), values, errors)
        return walk_in_page(ctx, fields, 422, form_error=errors.get("form"))
    return f"/cases/{case.case_id}?done=opened"


def walk_in_errors(values: dict[str, str], lang: str) -> dict[str, str]:
    """What the form can tell before the case is built: missing fields, malformed dates."""
    errors: dict[str, str] = {}
    for required in ("family_name", "given_names", "opened_on", "ags"):
        if not values.get(required, "").strip():
            errors[required] = t("v.missing", lang)
    for name in ("family_name", "given_names", "address"):
        found = names.invisible_character(values.get(name, ""))
        if found is not None:
            errors[name] = t("v.invisible_character", lang, code_point=f"U+{ord(found):04X}")
    dob = blank_to_none(values.get("date_of_birth"))
    if dob and not dob_ok(dob):
        errors["date_of_birth"] = t("v.dob", lang)
    if values.get("opened_on") and parse_date(values.get("opened_on")) is None:
        errors["opened_on"] = t("v.date", lang)
    return errors


def walk_in_person(values: dict[str, str]) -> CasePerson:
    """The head of the household as entered; raises ``ValidationError`` for what the model refuses."""
    return CasePerson(
        person_id=uuid.uuid4(),
        role="head",
        family_name=names.normalised(values["family_name"].strip()),
        given_names=names.normalised(values["given_names"].strip()),
        date_of_birth=blank_to_none(values.get("date_of_birth")),
        languages=tuple(x.strip().lower() for x in values.get("languages", "").split(",") if x.strip()),
        phone=blank_to_none(values.get("phone")),
        email=blank_to_none(values.get("email")),
        address=blank_to_none(names.normalised(values.get("address", ""))),
    )


# --- the case page -----------------------------------------------------------------------------------------


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: uuid.UUID, ctx: PageDep) -> Response:
    try:
        view = await views.case_view(case_id, ctx.principal, uow=ctx.uow, today=ctx.today)
    except h.CaseNotFound:
        return ctx.not_found()
    done = ctx.request.query_params.get("done")
    return ctx.render(
        "case.html",
        view=view,
        case=view.case,
        partners=await partners(ctx),
        done=done if done in DONE_KEYS else None,
        goal_states=GOAL_STATES,
    )


@router.get("/cases/{case_id}/persons/{person_id}/contact", response_class=HTMLResponse)
async def contact_form(case_id: uuid.UUID, person_id: uuid.UUID, ctx: PageDep) -> Response:
    case = await case_for_form(ctx, case_id)
    person = next((p for p in case.persons if p.person_id == person_id), None) if case else None
    if case is None or person is None:
        return ctx.not_found()
    lang = ctx.lang
    fields = [
        Field("phone", t("field.phone", lang), "tel", value=person.phone),
        Field("email", t("field.email", lang), "email", value=person.email),
        Field("address", t("field.address", lang), value=person.address),
    ]
    return ctx.render(
        "form.html",
        title=t("person.edit_contact", lang, name=person.display_name),
        fields=fields,
        case=case,
        action=ctx.request.url.path,
        back=f"/cases/{case_id}",
    )


@router.post("/cases/{case_id}/persons/{person_id}/contact", response_class=HTMLResponse)
async def contact_submit(case_id: uuid.UUID, person_id: uuid.UUID, ctx: PageDep) -> Response:
    form = await ctx.form()
    if form is None:
        return ctx.csrf_failed()
    address = names.normalised(str(form.get("address") or ""))
    found = names.invisible_character(address)
    if found is not None:
        message = t("v.invisible_character", ctx.lang, code_point=f"U+{ord(found):04X}")
        return ctx.error(422, "form.errors_title", message, back=f"/cases/{case_id}")
    try:
        await h.update_contact(
            h.UpdateContact(
                case_id,
                person_id,
                blank_to_none(form.get("phone")),
                blank_to_none(form.get("email")),
                blank_to_none(address),
                ctx.principal,
            ),
            uow=ctx.uow,
        )
    except (h.CaseNotFound, CaseRefused):
        return ctx.not_found()
    return RedirectResponse(f"/cases/{case_id}?done=contact", status_code=303)


# --- assignment, closure, extension ------------------------------------------------------------------------

CLOSURE_REASONS = ["goals_met", "time_limit", "relocated", "moved_away", "declined", "no_contact", "other"]


class CloseForm(BaseModel):
    reason: h.ClosureReason
    closed_on: dt.date


async def assign_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    async with ctx.uow as uow:
        staff = await uow.org.staff(case.provider_id, roles=["counsellor", "supervisor"])
        teams = await uow.org.teams(case.provider_id)
    counsellors = [(s.subject, s.display_name) for s in staff if s.active]
    if not ctx.is_supervisor:
        counsellors = [c for c in counsellors if c[0] == ctx.principal.subject] or [
            (ctx.principal.subject, ctx.name)
        ]
    return [
        Field(
            "counsellor_id",
            t("field.counsellor_id", lang),
            "select",
            value=case.assignment.counsellor_id,
            options=[("", t("unassigned", lang)), *counsellors],
        ),
        Field(
            "team_id",
            t("field.team_id", lang),
            "select",
            value=case.assignment.team_id,
            options=[("", t("none", lang)), *((x.team_id, x.name) for x in teams)],
        ),
    ]


async def assign(ctx: WebContext, case: Case, v: dict[str, Any]) -> Case:
    return await h.assign_case(
        h.AssignCase(
            case.case_id,
            blank_to_none(v.get("counsellor_id")),
            blank_to_none(v.get("team_id")),
            ctx.principal,
        ),
        uow=ctx.uow,
        today=ctx.today,
    )


async def close_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    return [
        code_select("reason", "cr", CLOSURE_REASONS, lang),
        Field("closed_on", t("field.closed_on", lang), "date", value=ctx.today.isoformat(), required=True),
    ]


async def close(ctx: WebContext, case: Case, v: dict[str, Any]) -> Case:
    form = CloseForm.model_validate(form_texts(v, "reason", "closed_on"))
    return await h.close_case(
        h.CloseCase(case.case_id, form.reason, form.closed_on, ctx.principal), uow=ctx.uow, today=ctx.today
    )


async def extend_fields(ctx: WebContext, case: Case) -> list[Field]:
    return [
        Field(
            "justification",
            t("field.justification", ctx.lang),
            "textarea",
            value=case.extension_justification,
            required=True,
        )
    ]


async def extend(ctx: WebContext, case: Case, v: dict[str, Any]) -> Case:
    return await h.extend_case(
        h.ExtendCase(case.case_id, str(v.get("justification") or ""), ctx.principal), uow=ctx.uow
    )


ASSIGN = CaseForm("assign", "assign.title", assign_fields, assign, "assigned")
CLOSE = CaseForm("close", "close.title", close_fields, close, "closed")
EXTEND = CaseForm("extend", "extend.title", extend_fields, extend, "extended")
for case_form in (ASSIGN, CLOSE, EXTEND):
    case_form.mount(router)


def parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def dob_ok(value: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD, as intake sends them."""
    parts = value.split("-")
    try:
        if len(parts) == 1 and len(parts[0]) == 4:
            return 1900 <= int(parts[0]) <= 2100
        if len(parts) == 2:
            return 1900 <= int(parts[0]) <= 2100 and 1 <= int(parts[1]) <= 12
        if len(parts) == 3:
            dt.date.fromisoformat(value)
            return True
    except ValueError:
        return False
    return False
