"""What every page of the web UI shares: the signed-in caller, rendering, error pages and the CSRF check.

Sign-in: the session cookie holds a JWT that is validated on every request exactly like an API bearer
token (``PageDep``); without a valid one the browser is sent to the login page (``LoginRequired``).
"""

from __future__ import annotations

import datetime as dt
import hmac
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from wegweiser.casework.db import StaffRow
from wegweiser.casework.deps import SettingsDep, TodayDep, TokenValidatorDep, UnitOfWorkDep
from wegweiser.casework.domain.model import CaseRefused
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.programmes import PROGRAMME_NAMES
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.web.forms import required_label
from wegweiser.casework.web.messages import refusal_text, t
from wegweiser.common import localtime
from wegweiser.common import web as common_web
from wegweiser.common.auth import Principal, Unauthorized
from wegweiser.common.regions import catalogue
from wegweiser.common.web.session import LoginRequired, csrf_token, language

WEB = Path(__file__).parent
STAFF_ROLES = ("counsellor", "supervisor", "admin")


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


templates = Jinja2Templates(directory=[WEB / "templates", common_web.TEMPLATES])
templates.env.filters["local"] = local_time
templates.env.globals.update(
    t=t,
    municipality_name=municipality_name,
    programme_name=programme_name,
    required_label=required_label,
    home="/cases",  # where the frame's brand link leads
)


def render(
    request: Request,
    ctx: WebContext | None,
    template: str,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = ctx.lang if ctx else language(request)
    return templates.TemplateResponse(
        request,
        template,
        {"ctx": ctx, "lang": lang, "path": request.url.path, "today": localtime.today(), **values},
        status_code=status,
    )


class WebContext:
    """A signed-in page: the caller, their language, staff record and CSRF token, and what routes use."""

    def __init__(
        self,
        request: Request,
        principal: Principal,
        member: StaffRow | None,
        token: str,
        *,
        uow: CaseworkUnitOfWork,
        settings: CaseworkSettings,
        today: dt.date,
    ) -> None:
        self.request = request
        self.principal = principal
        self.member = member
        self.lang = language(request)
        self.csrf = csrf_token(token)
        self.uow = uow
        self.settings = settings
        self.today = today

    @property
    def name(self) -> str:
        return self.member.display_name if self.member else self.principal.subject

    @property
    def is_supervisor(self) -> bool:
        return "supervisor" in self.principal.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.principal.roles

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, self, template, status, **values)

    def error(self, status: int, title_key: str, message: str, **values: Any) -> HTMLResponse:
        return self.render("error.html", status, title=t(title_key, self.lang), message=message, **values)

    def not_found(self) -> HTMLResponse:
        return self.error(404, "error.not_found.title", t("error.not_found", self.lang))

    def forbidden(self) -> HTMLResponse:
        return self.error(403, "error.forbidden.title", t("error.forbidden", self.lang))

    def refused(self, exc: CaseRefused, *, back: str) -> HTMLResponse:
        """A rule of the case refused an action that has no form to show the reason beside (409)."""
        return self.error(409, "form.errors_title", refusal_text(exc, self.lang), back=back)

    def csrf_failed(self) -> HTMLResponse:
        return self.error(400, "form.errors_title", t("error.csrf", self.lang))

    async def form(self) -> FormData | None:
        """The posted form, or None when its CSRF token is not this session's."""
        form = await self.request.form()
        given = str(form.get("csrf", ""))
        return form if hmac.compare_digest(given, self.csrf) else None


async def signed_in(
    request: Request,
    settings: SettingsDep,
    validator: TokenValidatorDep,
    uow: UnitOfWorkDep,
    today: TodayDep,
) -> WebContext:
    """The page's caller from the session cookie, or ``LoginRequired``."""
    token = request.cookies.get(settings.session_cookie_name)
    if not token:
        raise LoginRequired()
    try:
        principal = validator.validate(token)
    except Unauthorized as exc:
        raise LoginRequired() from exc
    if not principal.has_any(*STAFF_ROLES):
        raise LoginRequired()
    async with uow:
        member = await uow.org.member(principal.subject)
    return WebContext(request, principal, member, token, uow=uow, settings=settings, today=today)


PageDep = Annotated[WebContext, Depends(signed_in)]
