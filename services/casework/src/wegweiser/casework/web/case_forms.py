"""The forms that change a case (consultation, goal, consent, referral, assignment, closure, extension).

Each is a ``CaseForm``: GET shows it, POST validates, runs the handler and goes back to the case, or
re-renders it with a message beside each field. Each business area mounts its forms on its own router;
``case_action`` serves the changes made by one button on the case page, without a form of their own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict, get_args

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from wegweiser.casework import handlers as h
from wegweiser.casework.db import IdempotencyRow, PartnerRow
from wegweiser.casework.domain.model import Case, CaseRefused
from wegweiser.casework.idempotency import once, remembered
from wegweiser.casework.web.forms import Field, Options, apply, blank_to_none, field_errors
from wegweiser.casework.web.messages import refusal_text, t
from wegweiser.casework.web.pages import PageDep, WebContext
from wegweiser.common.events import Handlungsfeld
from wegweiser.common.idempotency import request_digest, valid_key

HANDLUNGSFELDER: list[str] = list(get_args(Handlungsfeld))
MULTI = {"handlungsfelder", "present_person_ids"}
FORM_TOKEN = "form_token"

FieldsOf = Callable[[WebContext, Case], Awaitable[list[Field]]]
Submit = Callable[[WebContext, Case, dict[str, Any]], Awaitable[object]]
InfoOf = Callable[[WebContext, dict[str, Any]], Awaitable[str | None]]


class HandlerArgs(TypedDict):
    """What a handler that records personal data takes from the page besides its command."""

    uow: h.CaseworkUnitOfWork
    today: dt.date
    pseudonym_key: str


def handler_args(ctx: WebContext) -> HandlerArgs:
    return HandlerArgs(uow=ctx.uow, today=ctx.today, pseudonym_key=ctx.settings.pseudonym_key)


async def no_info(ctx: WebContext, values: dict[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class CaseForm:
    """One form on a case: its fields, what a valid submission does, and where the case page shows it."""

    slug: str  # the path after /cases/{case_id}/
    title_key: str
    fields: FieldsOf
    submit: Submit
    done: str  # the ?done= message on the case page
    anchor: str = ""
    info: InfoOf = no_info  # a note above the fields, from what was entered so far

    def mount(self, router: APIRouter) -> None:
        """GET shows the form and POST submits it, both at ``/cases/{case_id}/<slug>``; the endpoints
        are the two methods below, so every form's routes are found as this class's."""
        path = f"/cases/{{case_id}}/{self.slug}"
        for endpoint, method, name in ((self.show, "GET", "form"), (self.post, "POST", "submit")):
            router.add_api_route(
                path, endpoint, methods=[method], response_class=HTMLResponse, name=f"{name}_{self.slug}"
            )

    async def show(self, case_id: uuid.UUID, ctx: PageDep) -> Response:
        case = await case_for_form(ctx, case_id)
        if case is None:
            return ctx.not_found()
        return await self._render(ctx, case, await self.fields(ctx, case), {}, status=200)

    async def post(self, case_id: uuid.UUID, ctx: PageDep) -> Response:
        form = await ctx.form()
        if form is None:
            return ctx.csrf_failed()
        case = await case_for_form(ctx, case_id)
        if case is None:
            return ctx.not_found()
        return await form_once(
            ctx,
            str(form.get(FORM_TOKEN, "")),
            lambda: self._submit(ctx, case, form_values(form)),
            f"/cases/{case_id}",
        )

    async def _submit(self, ctx: WebContext, case: Case, values: dict[str, Any]) -> str | Response:
        """Where the browser goes after the change, or the form again with its errors."""
        case_id = case.case_id
        errors: dict[str, str] = {}
        try:
            await self.submit(ctx, case, values)
        except ValidationError as exc:
            # Cross-field rules run only once every field parses: show them in the same round.
            errors = {**cross_field_errors(values, ctx.lang), **field_errors(exc, ctx.lang)}
        except CaseRefused as exc:
            errors[exc.field or "form"] = refusal_text(exc, ctx.lang)
        except h.CaseNotFound:
            return ctx.not_found()
        if not errors:
            return f"/cases/{case_id}?done={self.done}{self.anchor}"
        fields = apply(await self.fields(ctx, case), values, errors)
        form_error = errors.get("form") or next(
            (m for k, m in errors.items() if k not in {f.name for f in fields}), None
        )
        return await self._render(ctx, case, fields, values, status=422, form_error=form_error)

    async def _render(
        self,
        ctx: WebContext,
        case: Case,
        fields: list[Field],
        values: dict[str, Any],
        *,
        status: int,
        **extra: Any,
    ) -> Response:
        return ctx.render(
            "form.html",
            status,
            title=t(self.title_key, ctx.lang),
            fields=fields,
            case=case,
            action=f"/cases/{case.case_id}/{self.slug}",
            back=f"/cases/{case.case_id}",
            form_token=new_form_token(),
            **extra,
            info=await self.info(ctx, values),
        )


async def case_for_form(ctx: WebContext, case_id: uuid.UUID) -> Case | None:
    """The case within the caller's scope (its reading audited), or None."""
    async with ctx.uow as uow:
        try:
            case = await h.load_case(uow, case_id, ctx.principal)
        except h.CaseNotFound:
            return None
        h.audit(uow, ctx.principal, "read", case, form=True)
        await uow.commit()
    return case


def new_form_token() -> str:
    """A form's one-time token: a second submit of the same form changes nothing (``form_once``)."""
    return uuid.uuid4().hex


async def form_once(
    ctx: WebContext, token: str, submit: Callable[[], Awaitable[str | Response]], pending: str
) -> Response:
    """Submit a form once per token; a repeat (double click, resend after a slow answer) goes where the
    first went, or to ``pending`` while that one still runs. Errors re-render with a fresh token."""
    if not valid_key(token):  # none (a page from before tokens), or not one this service gave out
        outcome = await submit()
        return outcome if isinstance(outcome, Response) else RedirectResponse(outcome, status_code=303)
    owner = f"web:{ctx.principal.subject}"
    earlier = await remembered(ctx.uow, owner, token)
    if earlier is None:
        claim = IdempotencyRow(
            owner=owner, key=token, request_hash=request_digest("POST", ctx.request.url.path, b"")
        )
        outcome, earlier = await once(ctx.uow, claim, submit, _page_led_to)
        if earlier is None:
            return outcome if isinstance(outcome, Response) else RedirectResponse(outcome, status_code=303)
    return RedirectResponse(earlier.body.decode() if earlier.status_code else pending, status_code=303)


def _page_led_to(outcome: str | Response) -> tuple[int, bytes]:
    """What a repeat of the form is sent to: the first one's redirect; for a page of its own, nothing
    to go to (0: the repeat lands on the pending page)."""
    return (303, outcome.encode()) if isinstance(outcome, str) else (0, b"")


async def case_action(
    ctx: WebContext, case_id: uuid.UUID, change: Awaitable[object], *, done: str, anchor: str
) -> Response:
    """Await a change made by one button on the case page: back to the case with the ``?done=`` message,
    or an error page when the case is out of reach or its rules refuse the change."""
    try:
        await change
    except h.CaseNotFound:
        return ctx.not_found()
    except CaseRefused as exc:
        return ctx.refused(exc, back=f"/cases/{case_id}")
    return RedirectResponse(f"/cases/{case_id}?done={done}{anchor}", status_code=303)


def form_values(form: FormData) -> dict[str, Any]:
    """Submitted values without the CSRF and form tokens; a list where a field was given more than once."""
    values: dict[str, Any] = {}
    for key in form:
        if key in ("csrf", FORM_TOKEN):
            continue
        many = form.getlist(key)
        values[key] = [str(v) for v in many] if len(many) > 1 or key in MULTI else str(many[0])
    return values


def cross_field_errors(values: dict[str, Any], lang: str) -> dict[str, str]:
    errors = {}
    if values.get("interpreter_used") == "on" and not str(values.get("interpreter_language") or "").strip():
        errors["interpreter_language"] = t("v.interpreter_language", lang)
    if values.get("by_guardian") == "on" and not str(values.get("guardian_name") or "").strip():
        errors["guardian_name"] = t("v.guardian_name", lang)
    return errors


def persons(case: Case, lang: str) -> list[tuple[str, str]]:
    return [
        (str(p.person_id), f"{p.display_name} ({t('person.role.' + p.role, lang)})") for p in case.persons
    ]


def codes(prefix: str, values: list[str], lang: str) -> list[tuple[str, str]]:
    return [(v, t(f"{prefix}.{v}", lang)) for v in values]


def required_select(name: str, options: Options, lang: str, *, hint: str | None = None) -> Field:
    """A choice the form cannot do without, labelled by the catalogue's ``field.<name>``."""
    return Field(name, t(f"field.{name}", lang), "select", options=options, required=True, hint=hint)


def code_select(name: str, prefix: str, values: list[str], lang: str) -> Field:
    """A required choice from a code list, each code shown by its catalogue text ``<prefix>.<code>``."""
    return required_select(name, codes(prefix, values, lang), lang)


def form_texts(values: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named fields as entered, a blank one as None: what the domain model validates."""
    return {name: blank_to_none(values.get(name)) for name in names}


def language_code(value: Any) -> str | None:
    """An ISO 639 code as entered, in lower case; None when blank."""
    return (blank_to_none(value) or "").lower() or None


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


async def partners(ctx: WebContext) -> dict[str, PartnerRow]:
    async with ctx.uow as uow:
        return {p.partner_id: p for p in await uow.catalogue.partners()}


def partner_field(partners: list[PartnerRow], lang: str, *, hint: str | None = None) -> Field:
    return Field(
        "partner_id",
        t("field.partner_id", lang),
        "select",
        options=[("", t("field.partner_id.any", lang)), *((p.partner_id, p.name) for p in partners)],
        hint=hint,
    )
