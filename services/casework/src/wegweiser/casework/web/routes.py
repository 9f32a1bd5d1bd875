"""The counsellors' web UI (server-rendered, Jinja2 + KERN); routes only translate, like the API.

Sign-in: the session cookie holds a JWT that is validated on every request exactly like an API bearer
token. In development the login page mints one for a development user; in production the cookie is set
after an OpenID Connect login at the organisation's identity provider (see README).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.db import PartnerRow, StaffRow
from wegweiser.casework.domain.model import Case, CasePerson, CaseRefused, Consent, Consultation, Goal
from wegweiser.casework.programmes import PROGRAMME_NAMES, person_fields_for
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.web.forms import Field, apply, blank_to_none, field_errors, required_label
from wegweiser.casework.web.messages import LANGUAGES, t
from wegweiser.common import devtokens, localtime
from wegweiser.common.auth import Forbidden, Principal, Unauthorized
from wegweiser.common.events import GoalStatus, Programme
from wegweiser.common.regions import catalogue

WEB = Path(__file__).parent
HANDLUNGSFELDER = [
    "sprache", "arbeit_ausbildung", "bildung_schule_kita", "wohnen", "gesundheit_psychosozial",
    "aufenthalt_recht", "finanzen_leistungen", "familie", "gesellschaftliche_teilhabe", "rueckkehr",
]  # fmt: skip
CONSULTATION_TYPES = ["erstgespraech", "folgeberatung", "kurzberatung", "verweisberatung"]
CHANNELS = ["persoenlich", "hausbesuch", "telefon", "video", "schriftlich"]
GOAL_STATES = ["open", "in_progress", "achieved", "dropped"]
CLOSURE_REASONS = ["goals_met", "time_limit", "relocated", "moved_away", "declined", "no_contact", "other"]
STAFF_ROLES = ("counsellor", "supervisor", "admin")


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class WebContext:
    """What every page needs: the caller, their language, their staff record, the CSRF token."""

    def __init__(self, request: Request, principal: Principal, member: StaffRow | None, token: str) -> None:
        self.request = request
        self.principal = principal
        self.member = member
        self.lang = language(request)
        self.csrf = csrf_token(token)

    @property
    def name(self) -> str:
        return self.member.display_name if self.member else self.principal.subject

    @property
    def is_supervisor(self) -> bool:
        return "supervisor" in self.principal.roles


def language(request: Request) -> str:
    """``?lang=`` wins, then the cookie; German by default."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or "de"
    return wanted if wanted in LANGUAGES else "de"


def csrf_token(session_token: str) -> str:
    """Bound to the session; a cross-site form cannot know it (the cookie is also SameSite=Lax)."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:32]


def local_time(value: dt.datetime) -> str:
    """Stored in UTC (naive means UTC); shown in Europe/Berlin."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(localtime.BERLIN).strftime("%d.%m.%Y %H:%M:%S")


def municipality_name(ags: str) -> str:
    m = catalogue().get(ags)
    return f"{m.name} ({ags})" if m else ags


def programme_name(code: str, lang: str) -> str:
    if code == "case_transfer":
        return t("purpose.case_transfer", lang)
    de, en = PROGRAMME_NAMES.get(code, (code, code))
    return en if lang == "en" else de


def install(app: FastAPI, settings: CaseworkSettings) -> None:
    """Mount static files and the UI routes; register the redirect for missing sessions."""
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    templates.env.filters["local"] = local_time
    templates.env.globals.update(
        t=t, municipality_name=municipality_name, programme_name=programme_name, required_label=required_label
    )
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")

    async def to_login(request: Request, exc: Exception) -> Response:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
    app.include_router(_router(settings, templates))

    @app.middleware("http")
    async def remember_language(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            response.set_cookie("lang", wanted, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response


def _router(settings: CaseworkSettings, templates: Jinja2Templates) -> APIRouter:
    web = APIRouter(include_in_schema=False)

    def runtime(request: Request) -> Any:
        return request.app.state.runtime

    def today() -> dt.date:
        return localtime.today()

    async def context(request: Request) -> WebContext:
        token = request.cookies.get(settings.session_cookie_name)
        if not token:
            raise LoginRequired()
        try:
            principal = request.app.state.auth.validate(token)
        except Unauthorized as exc:
            raise LoginRequired() from exc
        if not principal.has_any(*STAFF_ROLES):
            raise LoginRequired()
        async with runtime(request).unit_of_work() as uow:
            member = await uow.org.member(principal.subject)
        return WebContext(request, principal, member, token)

    def render(
        ctx: WebContext | None, request: Request, template: str, status: int = 200, **values: Any
    ) -> HTMLResponse:
        lang = ctx.lang if ctx else language(request)
        response = templates.TemplateResponse(
            request,
            template,
            {"ctx": ctx, "lang": lang, "path": request.url.path, "today": today(), **values},
            status_code=status,
        )
        return response

    def not_found(ctx: WebContext, request: Request) -> HTMLResponse:
        return render(
            ctx,
            request,
            "error.html",
            404,
            title=t("error.not_found.title", ctx.lang),
            message=t("error.not_found", ctx.lang),
        )

    def forbidden(ctx: WebContext, request: Request) -> HTMLResponse:
        return render(
            ctx,
            request,
            "error.html",
            403,
            title=t("error.forbidden.title", ctx.lang),
            message=t("error.forbidden", ctx.lang),
        )

    def refused(ctx: WebContext, request: Request, exc: CaseRefused, *, back: str) -> HTMLResponse:
        """A rule of the case refused an action that has no form to show the reason beside (409)."""
        return render(
            ctx,
            request,
            "error.html",
            409,
            title=t("form.errors_title", ctx.lang),
            message=t(f"r.{exc.code}", ctx.lang, **exc.params),
            back=back,
        )

    async def form_data(ctx: WebContext, request: Request) -> FormData | None:
        form = await request.form()
        given = str(form.get("csrf", ""))
        return form if hmac.compare_digest(given, ctx.csrf) else None

    def csrf_failed(ctx: WebContext, request: Request) -> HTMLResponse:
        return render(
            ctx,
            request,
            "error.html",
            400,
            title=t("form.errors_title", ctx.lang),
            message=t("error.csrf", ctx.lang),
        )

    # --- sign-in ---------------------------------------------------------------------------------------

    @web.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/cases") -> Response:
        users: list[tuple[StaffRow, str]] = []
        if settings.dev_login_enabled:
            async with runtime(request).unit_of_work() as uow:
                providers = {p.provider_id: p.name for p in await uow.org.providers()}
                users = [
                    (s, providers.get(s.provider_id or "", "")) for s in await uow.org.staff() if s.active
                ]
        return render(
            None,
            request,
            "login.html",
            users=users,
            enabled=settings.dev_login_enabled,
            next=_safe_next(next),
        )

    @web.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        if not settings.dev_login_enabled or settings.dev_key_dir is None:
            return RedirectResponse("/login", status_code=303)
        async with runtime(request).unit_of_work() as uow:
            member = await uow.org.member(str(form.get("subject", "")))
            provider = await uow.org.provider(member.provider_id) if member and member.provider_id else None
        if member is None or not member.active:
            return RedirectResponse("/login", status_code=303)
        token = devtokens.mint(
            subject=member.subject,
            roles=[member.role],
            key_dir=settings.dev_key_dir,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            provider_id=member.provider_id,
            ags=list(provider.ags) if provider else None,
        )
        response = RedirectResponse(_safe_next(str(form.get("next", "/cases"))), status_code=303)
        response.set_cookie(
            settings.session_cookie_name,
            token,
            httponly=True,
            samesite="lax",
            secure=settings.session_cookie_secure,
            max_age=8 * 3600,
        )
        return response

    @web.post("/logout")
    async def logout(request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(settings.session_cookie_name)
        return response

    @web.get("/")
    async def home() -> Response:
        return RedirectResponse("/cases", status_code=303)

    # --- caseload and search ---------------------------------------------------------------------------

    @web.get("/cases", response_class=HTMLResponse)
    async def caseload_page(request: Request) -> Response:
        ctx = await context(request)
        q = request.query_params
        view = q.get("view") or ("mine" if "counsellor" in ctx.principal.roles else "all")
        status = q.get("status", "open")
        ags = q.get("ags") if q.get("ags") in ctx.principal.ags else None
        filters = views.CaseloadFilter(
            view=view if view in ("mine", "team", "unassigned", "all") else "all",
            status=status if status in ("open", "closed") else None,
            ags=ags,
            warning_only=q.get("warning") == "1",
        )
        rows = await views.caseload(
            ctx.principal, filters, uow=runtime(request).unit_of_work(), today=today()
        )
        return render(ctx, request, "caseload.html", rows=rows, filters=filters, status_value=status)

    @web.get("/search", response_class=HTMLResponse)
    async def search_page(request: Request) -> Response:
        ctx = await context(request)
        name = (request.query_params.get("name") or "").strip()
        dob = (request.query_params.get("dob") or "").strip()
        errors: dict[str, str] = {}
        rows: list[views.CaseloadRow] | None = None
        if "name" in request.query_params or "dob" in request.query_params:
            if dob and not _dob_ok(dob):
                errors["dob"] = t("v.dob", ctx.lang)
            elif not name and not dob:
                errors["name"] = t("search.need_term", ctx.lang)
            else:
                filters = views.CaseloadFilter(
                    view="all", status=None, name=name or None, date_of_birth=dob or None
                )
                rows = await views.caseload(
                    ctx.principal, filters, uow=runtime(request).unit_of_work(), today=today()
                )
        return render(
            ctx,
            request,
            "search.html",
            rows=rows,
            name=name,
            dob=dob,
            errors=errors,
            status=422 if errors else 200,
        )

    # --- walk-in ---------------------------------------------------------------------------------------

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
            Field("opened_on", t("field.opened_on", lang), "date", value=today().isoformat(), required=True),
            Field("family_name", t("field.family_name", lang), required=True, attrs={"autocomplete": "off"}),
            Field("given_names", t("field.given_names", lang), required=True, attrs={"autocomplete": "off"}),
            Field("date_of_birth", t("field.date_of_birth", lang), hint=t("field.date_of_birth.hint", lang)),
            Field("languages", t("field.languages", lang), hint=t("field.languages.hint", lang)),
            Field("phone", t("field.phone", lang), "tel"),
            Field("email", t("field.email", lang), "email"),
            Field("address", t("field.address", lang)),
        ]

    @web.get("/cases/new", response_class=HTMLResponse)
    async def walk_in_form(request: Request) -> Response:
        ctx = await context(request)
        return render(
            ctx,
            request,
            "form.html",
            title=t("walkin.title", ctx.lang),
            intro=t("walkin.intro", ctx.lang),
            fields=walk_in_fields(ctx),
            action="/cases/new",
            back="/cases",
        )

    @web.post("/cases/new", response_class=HTMLResponse)
    async def walk_in_submit(request: Request) -> Response:
        ctx = await context(request)
        form = await form_data(ctx, request)
        if form is None:
            return csrf_failed(ctx, request)
        values = {k: str(v) for k, v in form.items() if k != "csrf"}
        errors: dict[str, str] = {}
        for required in ("family_name", "given_names", "opened_on", "ags"):
            if not values.get(required, "").strip():
                errors[required] = t("v.missing", ctx.lang)
        dob = blank_to_none(values.get("date_of_birth"))
        if dob and not _dob_ok(dob):
            errors["date_of_birth"] = t("v.dob", ctx.lang)
        opened_on = _date(values.get("opened_on"))
        if values.get("opened_on") and opened_on is None:
            errors["opened_on"] = t("v.date", ctx.lang)
        case: Case | None = None
        if not errors and opened_on is not None:
            try:
                person = CasePerson(
                    person_id=uuid.uuid4(),
                    role="head",
                    family_name=values["family_name"].strip(),
                    given_names=values["given_names"].strip(),
                    date_of_birth=dob,
                    languages=tuple(
                        x.strip().lower() for x in values.get("languages", "").split(",") if x.strip()
                    ),
                    phone=blank_to_none(values.get("phone")),
                    email=blank_to_none(values.get("email")),
                    address=blank_to_none(values.get("address")),
                )
                case = await h.open_walk_in_case(
                    h.OpenWalkInCase(
                        ags=values["ags"], opened_on=opened_on, persons=(person,), principal=ctx.principal
                    ),
                    uow=runtime(request).unit_of_work(),
                    today=today(),
                    pseudonym_key=settings.pseudonym_key,
                )
            except ValidationError as exc:
                errors = field_errors(exc, ctx.lang)
            except CaseRefused as exc:
                errors[exc.field or "form"] = t(f"r.{exc.code}", ctx.lang, **exc.params)
        if case is None:
            fields = apply(walk_in_fields(ctx), values, errors)
            return render(
                ctx,
                request,
                "form.html",
                422,
                title=t("walkin.title", ctx.lang),
                intro=t("walkin.intro", ctx.lang),
                fields=fields,
                action="/cases/new",
                back="/cases",
                form_error=errors.get("form"),
            )
        return RedirectResponse(f"/cases/{case.case_id}?done=opened", status_code=303)

    # --- the case page ---------------------------------------------------------------------------------

    @web.get("/cases/{case_id}", response_class=HTMLResponse)
    async def case_page(case_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        try:
            view = await views.case_view(
                case_id, ctx.principal, uow=runtime(request).unit_of_work(), today=today()
            )
        except h.CaseNotFound:
            return not_found(ctx, request)
        partners = await _partners(request)
        done = request.query_params.get("done")
        return render(
            ctx,
            request,
            "case.html",
            view=view,
            case=view.case,
            partners=partners,
            done=done if done and _known_done(done) else None,
            goal_states=GOAL_STATES,
        )

    @web.get("/cases/{case_id}/referral-status", response_class=HTMLResponse)
    async def referral_status_fragment(case_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        try:
            case, referrals = await views.referral_statuses(
                case_id, ctx.principal, uow=runtime(request).unit_of_work()
            )
        except h.CaseNotFound:
            return HTMLResponse("", status_code=404)
        partners = await _partners(request)
        return render(ctx, request, "_referrals.html", case=case, referrals=referrals, partners=partners)

    async def _partners(request: Request) -> dict[str, PartnerRow]:
        async with runtime(request).unit_of_work() as uow:
            return {p.partner_id: p for p in await uow.catalogue.partners()}

    async def _case_for_form(request: Request, ctx: WebContext, case_id: uuid.UUID) -> Case | None:
        async with runtime(request).unit_of_work() as uow:
            try:
                case = await h.load_case(uow, case_id, ctx.principal)
            except h.CaseNotFound:
                return None
            h.audit(uow, ctx.principal, "read", case, form=True)
            await uow.commit()
        return case

    FormBuilder = Callable[[WebContext, Case, Request], Awaitable[list[Field]]]
    Parser = Callable[[WebContext, Case, dict[str, Any]], Awaitable[Any]]

    def case_form(
        slug: str, title_key: str, build: FormBuilder, submit: Parser, done: str, anchor: str = ""
    ) -> None:
        """GET shows the form; POST validates, runs the handler, or re-renders with inline messages."""

        @web.get(f"/cases/{{case_id}}/{slug}", response_class=HTMLResponse, name=f"form_{slug}")
        async def show(case_id: uuid.UUID, request: Request) -> Response:
            ctx = await context(request)
            case = await _case_for_form(request, ctx, case_id)
            if case is None:
                return not_found(ctx, request)
            fields = await build(ctx, case, request)
            return render(
                ctx,
                request,
                "form.html",
                title=t(title_key, ctx.lang),
                fields=fields,
                case=case,
                action=f"/cases/{case_id}/{slug}",
                back=f"/cases/{case_id}",
                info=await _info(slug, ctx, case, request, {}),
            )

        @web.post(f"/cases/{{case_id}}/{slug}", response_class=HTMLResponse, name=f"submit_{slug}")
        async def post(case_id: uuid.UUID, request: Request) -> Response:
            ctx = await context(request)
            form = await form_data(ctx, request)
            if form is None:
                return csrf_failed(ctx, request)
            case = await _case_for_form(request, ctx, case_id)
            if case is None:
                return not_found(ctx, request)
            values: dict[str, Any] = {}
            for key in form:
                if key == "csrf":
                    continue
                many = form.getlist(key)
                values[key] = [str(v) for v in many] if len(many) > 1 or key in MULTI else str(many[0])
            errors: dict[str, str] = {}
            try:
                await submit(ctx, case, values)
            except ValidationError as exc:
                # Cross-field rules run only once every field parses: show them in the same round.
                errors = {**_cross_field(values, ctx.lang), **field_errors(exc, ctx.lang)}
            except CaseRefused as exc:
                errors[exc.field or "form"] = t(f"r.{exc.code}", ctx.lang, **exc.params)
            except h.CaseNotFound:
                return not_found(ctx, request)
            if not errors:
                return RedirectResponse(f"/cases/{case_id}?done={done}{anchor}", status_code=303)
            fields = apply(await build(ctx, case, request), values, errors)
            form_error = errors.get("form") or next(
                (m for k, m in errors.items() if k not in {f.name for f in fields}), None
            )
            return render(
                ctx,
                request,
                "form.html",
                422,
                title=t(title_key, ctx.lang),
                fields=fields,
                case=case,
                action=f"/cases/{case_id}/{slug}",
                back=f"/cases/{case_id}",
                form_error=form_error,
                info=await _info(slug, ctx, case, request, values),
            )

    async def _info(
        slug: str, ctx: WebContext, case: Case, request: Request, values: dict[str, Any]
    ) -> str | None:
        if slug != "referrals/new":
            return None
        programme = values.get("programme")
        if not programme:
            return None
        async with runtime(request).unit_of_work() as uow:
            entry = await uow.catalogue.programme(programme)
        wanted = person_fields_for(programme, entry)
        names = ", ".join(t(f"pf.{f}", ctx.lang) for f in sorted(wanted))
        return t("referral.fields_sent", ctx.lang, fields=names)

    def persons(case: Case, lang: str) -> list[tuple[str, str]]:
        return [
            (str(p.person_id), f"{p.display_name} ({t('person.role.' + p.role, lang)})") for p in case.persons
        ]

    def codes(prefix: str, values: list[str], lang: str) -> list[tuple[str, str]]:
        return [(v, t(f"{prefix}.{v}", lang)) for v in values]

    # consultation
    async def consultation_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        return [
            Field("held_on", t("field.held_on", lang), "date", value=today().isoformat(), required=True),
            Field(
                "duration_minutes",
                t("field.duration_minutes", lang),
                "number",
                required=True,
                attrs={"min": "1", "max": "600", "inputmode": "numeric"},
            ),
            Field(
                "type",
                t("field.type", lang),
                "select",
                options=codes("ct", CONSULTATION_TYPES, lang),
                required=True,
            ),
            Field(
                "channel",
                t("field.channel", lang),
                "select",
                options=codes("ch", CHANNELS, lang),
                required=True,
            ),
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

    async def consultation_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        present = _list(v.get("present_person_ids"))
        consultation = Consultation.model_validate(
            {
                "held_on": blank_to_none(v.get("held_on")),
                "duration_minutes": blank_to_none(v.get("duration_minutes")),
                "type": blank_to_none(v.get("type")),
                "channel": blank_to_none(v.get("channel")),
                "interpreter_used": v.get("interpreter_used") == "on",
                "interpreter_language": (blank_to_none(v.get("interpreter_language")) or "").lower() or None,
                "handlungsfelder": _list(v.get("handlungsfelder")),
                "present_person_ids": present,
                "persons_present": max(1, len(present)),
                "note": blank_to_none(v.get("note")),
            }
        )
        await h.record_consultation(
            h.RecordConsultation(case.case_id, consultation, ctx.principal),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
            pseudonym_key=settings.pseudonym_key,
        )

    # goal
    async def goal_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        return [
            Field(
                "handlungsfeld",
                t("field.handlungsfeld", lang),
                "select",
                options=codes("hf", HANDLUNGSFELDER, lang),
                required=True,
            ),
            Field("description", t("field.description", lang), "textarea", required=True),
            Field(
                "person_id",
                t("field.person_id", lang),
                "select",
                options=[("", t("field.person_id.household", lang)), *persons(case, lang)],
            ),
            Field("set_on", t("field.set_on", lang), "date", value=today().isoformat(), required=True),
            Field("target_date", t("field.target_date", lang), "date"),
        ]

    async def goal_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        goal = Goal.model_validate(
            {
                k: blank_to_none(v.get(k))
                for k in ("handlungsfeld", "description", "person_id", "set_on", "target_date")
            }
        )
        await h.set_goal(
            h.SetGoal(case.case_id, goal, ctx.principal),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
            pseudonym_key=settings.pseudonym_key,
        )

    # consent
    async def consent_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        partners = list((await _partners(request)).values())
        purposes = [(p, programme_name(p, lang)) for p in PROGRAMME_NAMES] + [
            ("case_transfer", t("purpose.case_transfer", lang))
        ]
        return [
            Field(
                "person_id", t("field.person_id", lang), "select", options=persons(case, lang), required=True
            ),
            Field(
                "purpose",
                t("field.purpose", lang),
                "select",
                options=purposes,
                required=True,
                hint=t("field.purpose.hint", lang),
            ),
            _partner_field(partners, lang, hint=t("field.partner_id.consent_hint", lang)),
            Field(
                "granted_on", t("field.granted_on", lang), "date", value=today().isoformat(), required=True
            ),
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

    async def consent_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        consent = Consent.model_validate(
            {
                "person_id": blank_to_none(v.get("person_id")),
                "purpose": blank_to_none(v.get("purpose")),
                "partner_id": blank_to_none(v.get("partner_id")),
                "granted_on": blank_to_none(v.get("granted_on")),
                "language": (blank_to_none(v.get("language")) or "").lower() or None,
                "by_guardian": v.get("by_guardian") == "on",
                "guardian_name": blank_to_none(v.get("guardian_name")),
            }
        )
        await h.grant_consent(
            h.GrantConsent(case.case_id, consent, ctx.principal),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
            pseudonym_key=settings.pseudonym_key,
        )

    # referral
    async def referral_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        partners = list((await _partners(request)).values())
        return [
            Field(
                "person_id", t("field.person_id", lang), "select", options=persons(case, lang), required=True
            ),
            Field(
                "programme",
                t("field.programme", lang),
                "select",
                options=[(p, programme_name(p, lang)) for p in PROGRAMME_NAMES],
                required=True,
            ),
            _partner_field(partners, lang),
            Field(
                "note_for_partner",
                t("field.note_for_partner", lang),
                "textarea",
                hint=t("field.note_for_partner.hint", lang),
                attrs={"maxlength": "2000"},
            ),
        ]

    async def referral_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        command = _ReferralForm.model_validate(
            {k: blank_to_none(v.get(k)) for k in ("person_id", "programme", "partner_id", "note_for_partner")}
        )
        await h.request_referral(
            h.RequestReferral(case_id=case.case_id, principal=ctx.principal, **command.model_dump()),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
            pseudonym_key=settings.pseudonym_key,
        )

    # assignment
    async def assign_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        async with runtime(request).unit_of_work() as uow:
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

    async def assign_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        await h.assign_case(
            h.AssignCase(
                case.case_id,
                blank_to_none(v.get("counsellor_id")),
                blank_to_none(v.get("team_id")),
                ctx.principal,
            ),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
        )

    # closure
    async def close_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        lang = ctx.lang
        return [
            Field(
                "reason",
                t("field.reason", lang),
                "select",
                options=codes("cr", CLOSURE_REASONS, lang),
                required=True,
            ),
            Field("closed_on", t("field.closed_on", lang), "date", value=today().isoformat(), required=True),
        ]

    async def close_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        form = _CloseForm.model_validate({k: blank_to_none(v.get(k)) for k in ("reason", "closed_on")})
        await h.close_case(
            h.CloseCase(case.case_id, form.reason, form.closed_on, ctx.principal),
            uow=runtime(ctx.request).unit_of_work(),
            today=today(),
        )

    # extension
    async def extend_fields(ctx: WebContext, case: Case, request: Request) -> list[Field]:
        return [
            Field(
                "justification",
                t("field.justification", ctx.lang),
                "textarea",
                value=case.extension_justification,
                required=True,
            )
        ]

    async def extend_submit(ctx: WebContext, case: Case, v: dict[str, Any]) -> None:
        await h.extend_case(
            h.ExtendCase(case.case_id, str(v.get("justification") or ""), ctx.principal),
            uow=runtime(ctx.request).unit_of_work(),
        )

    case_form(
        "consultations/new",
        "consultation.title",
        consultation_fields,
        consultation_submit,
        "consultation",
        "#timeline",
    )
    case_form("goals/new", "goal.title", goal_fields, goal_submit, "goal", "#plan")
    case_form("consents/new", "consent.title", consent_fields, consent_submit, "consent", "#consents")
    case_form("referrals/new", "referral.title", referral_fields, referral_submit, "referral", "#referrals")
    case_form("assign", "assign.title", assign_fields, assign_submit, "assigned")
    case_form("close", "close.title", close_fields, close_submit, "closed")
    case_form("extend", "extend.title", extend_fields, extend_submit, "extended")

    @web.get("/cases/{case_id}/persons/{person_id}/contact", response_class=HTMLResponse)
    async def contact_form(case_id: uuid.UUID, person_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        case = await _case_for_form(request, ctx, case_id)
        person = next((p for p in case.persons if p.person_id == person_id), None) if case else None
        if case is None or person is None:
            return not_found(ctx, request)
        lang = ctx.lang
        fields = [
            Field("phone", t("field.phone", lang), "tel", value=person.phone),
            Field("email", t("field.email", lang), "email", value=person.email),
            Field("address", t("field.address", lang), value=person.address),
        ]
        return render(
            ctx,
            request,
            "form.html",
            title=t("person.edit_contact", lang, name=person.display_name),
            fields=fields,
            case=case,
            action=request.url.path,
            back=f"/cases/{case_id}",
        )

    @web.post("/cases/{case_id}/persons/{person_id}/contact", response_class=HTMLResponse)
    async def contact_submit(case_id: uuid.UUID, person_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        form = await form_data(ctx, request)
        if form is None:
            return csrf_failed(ctx, request)
        try:
            await h.update_contact(
                h.UpdateContact(
                    case_id,
                    person_id,
                    blank_to_none(form.get("phone")),
                    blank_to_none(form.get("email")),
                    blank_to_none(form.get("address")),
                    ctx.principal,
                ),
                uow=runtime(request).unit_of_work(),
            )
        except (h.CaseNotFound, CaseRefused):
            return not_found(ctx, request)
        return RedirectResponse(f"/cases/{case_id}?done=contact", status_code=303)

    @web.post("/cases/{case_id}/goals/{goal_id}/status", response_class=HTMLResponse)
    async def goal_status(case_id: uuid.UUID, goal_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        form = await form_data(ctx, request)
        if form is None:
            return csrf_failed(ctx, request)
        status = str(form.get("status", ""))
        if status not in GOAL_STATES:
            return RedirectResponse(f"/cases/{case_id}#plan", status_code=303)
        try:
            await h.change_goal_status(
                h.ChangeGoalStatus(case_id, goal_id, cast(GoalStatus, status), ctx.principal),
                uow=runtime(request).unit_of_work(),
                today=today(),
            )
        except h.CaseNotFound:
            return not_found(ctx, request)
        except CaseRefused as exc:
            return refused(ctx, request, exc, back=f"/cases/{case_id}")
        return RedirectResponse(f"/cases/{case_id}?done=goal_status#plan", status_code=303)

    @web.post("/cases/{case_id}/consents/{consent_id}/withdraw", response_class=HTMLResponse)
    async def consent_withdraw(case_id: uuid.UUID, consent_id: uuid.UUID, request: Request) -> Response:
        ctx = await context(request)
        form = await form_data(ctx, request)
        if form is None:
            return csrf_failed(ctx, request)
        try:
            await h.withdraw_consent(
                h.WithdrawConsent(case_id, consent_id, ctx.principal),
                uow=runtime(request).unit_of_work(),
                today=today(),
            )
        except h.CaseNotFound:
            return not_found(ctx, request)
        except CaseRefused as exc:
            return refused(ctx, request, exc, back=f"/cases/{case_id}")
        return RedirectResponse(f"/cases/{case_id}?done=withdrawn#consents", status_code=303)

    # --- supervisors -----------------------------------------------------------------------------------

    @web.get("/team", response_class=HTMLResponse)
    async def team_page(request: Request) -> Response:
        ctx = await context(request)
        try:
            teams = await views.team_caseloads(ctx.principal, uow=runtime(request).unit_of_work())
        except Forbidden:
            return forbidden(ctx, request)
        return render(ctx, request, "team.html", teams=teams)

    @web.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request) -> Response:
        ctx = await context(request)
        case_filter = (request.query_params.get("case") or "").strip()
        actor = (request.query_params.get("actor") or "").strip() or None
        errors: dict[str, str] = {}
        case_id: uuid.UUID | None = None
        if case_filter:
            try:
                case_id = uuid.UUID(case_filter)
            except ValueError:
                errors["case"] = t("v.pattern", ctx.lang)
        try:
            entries = (
                []
                if errors
                else await views.audit_entries(
                    ctx.principal, uow=runtime(request).unit_of_work(), case_id=case_id, actor=actor
                )
            )
        except Forbidden:
            return forbidden(ctx, request)
        except h.CaseNotFound:
            return not_found(ctx, request)
        return render(
            ctx,
            request,
            "audit.html",
            422 if errors else 200,
            entries=entries,
            case_filter=case_filter,
            actor=actor or "",
            errors=errors,
        )

    return web


MULTI = {"handlungsfelder", "present_person_ids"}
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


class _ReferralForm(BaseModel):
    person_id: uuid.UUID
    programme: Programme
    partner_id: str | None = None
    note_for_partner: str | None = None


class _CloseForm(BaseModel):
    reason: h.ClosureReason
    closed_on: dt.date


def _partner_field(partners: list[PartnerRow], lang: str, *, hint: str | None = None) -> Field:
    return Field(
        "partner_id",
        t("field.partner_id", lang),
        "select",
        options=[("", t("field.partner_id.any", lang)), *((p.partner_id, p.name) for p in partners)],
        hint=hint,
    )


def _cross_field(values: dict[str, Any], lang: str) -> dict[str, str]:
    errors = {}
    if values.get("interpreter_used") == "on" and not str(values.get("interpreter_language") or "").strip():
        errors["interpreter_language"] = t("v.interpreter_language", lang)
    if values.get("by_guardian") == "on" and not str(values.get("guardian_name") or "").strip():
        errors["guardian_name"] = t("v.guardian_name", lang)
    return errors


def _known_done(key: str) -> bool:
    return key in DONE_KEYS


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _dob_ok(value: str) -> bool:
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


def _safe_next(target: str) -> str:
    """Only local paths: an open redirect after sign-in would help phishing."""
    return target if target.startswith("/") and not target.startswith("//") else "/cases"
