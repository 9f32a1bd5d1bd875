"""What every page of referrals needs: templates, the signed-in partner staff or admin, and ``render``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wegweiser.common import localtime
from wegweiser.common import web as common_web
from wegweiser.common.regions import catalogue
from wegweiser.common.web.session import (
    PageUser,
    csrf_token,
    language,
    page_user,
    render_page,
    session_principal,
)
from wegweiser.referrals.deps import SettingsDep
from wegweiser.referrals.domain.lifecycle import STATE_NAMES
from wegweiser.referrals.web.messages import t
from wegweiser.referrals.web.staff import ORGANISATIONS, PLATFORM, display_name

WEB = Path(__file__).parent
STATIC_URL = "/static/referrals"
HOME = "/inbox"
ADMIN_HOME = "/admin"
TEMPLATES = Jinja2Templates(directory=[WEB / "templates", common_web.TEMPLATES])


def state_name(state: str, lang: str) -> str:
    de, en = STATE_NAMES.get(state, (state, state))  # type: ignore[call-overload]
    return en if lang == "en" else de


def local_time(value: dt.datetime | None) -> str:
    """Stored in UTC; shown in Europe/Berlin."""
    if value is None:
        return "–"
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(localtime.BERLIN).strftime("%d.%m.%Y %H:%M")


def municipality_name(ags: str) -> str:
    """The municipality's name from the public catalogue: also once the offer's copy is erased."""
    found = catalogue().get(ags)
    return found.name if found else ags


TEMPLATES.env.globals.update(
    t=t, state_name=state_name, municipality_name=municipality_name, organisations=ORGANISATIONS
)
TEMPLATES.env.filters["local"] = local_time
TEMPLATES.env.filters["de_date"] = lambda d: d.strftime("%d.%m.%Y") if isinstance(d, dt.date) else "–"


class AdminElsewhere(Exception):
    """An admin asked for the partners' inbox: their pages are the admin desk (``install`` redirects)."""


class NotAdmin(Exception):
    """Someone signed in but not as an admin asked for the admin desk (``install`` answers 403)."""

    def __init__(self, user: PageUser) -> None:
        self.user = user


def _partner_staff(request: Request, settings: SettingsDep) -> PageUser:
    """A member of a partner's staff: sees and answers only their partner's referrals."""
    principal, _ = session_principal(request, settings)
    if principal.has_any("admin") and not principal.has_any("partner"):
        raise AdminElsewhere()
    return page_user(
        request, settings, role="partner", org_of=lambda principal: principal.partner_id, name_of=display_name
    )


def _admin(request: Request, settings: SettingsDep) -> PageUser:
    """The platform's admin: sees every partner and referrals' stuck records, never a person's data."""
    principal, token = session_principal(request, settings)
    if not principal.has_any("admin"):
        name = display_name(principal.subject)
        raise NotAdmin(
            PageUser(principal, principal.partner_id or "", name, csrf_token(token), language(request))
        )
    return page_user(request, settings, role="admin", org_of=lambda _: PLATFORM, name_of=display_name)


PartnerStaffDep = Annotated[PageUser, Depends(_partner_staff)]
AdminPageDep = Annotated[PageUser, Depends(_admin)]


def _frame(lang: str) -> dict[str, Any]:
    return {"home": HOME, "nav": [(HOME, t("nav.inbox", lang))], "static": STATIC_URL}


def _admin_frame(lang: str) -> dict[str, Any]:
    nav = [(ADMIN_HOME, t("nav.partners", lang)), ("/admin/dlq", t("nav.dlq", lang))]
    return {"home": ADMIN_HOME, "nav": nav, "static": STATIC_URL, "brand": t("admin.app_name", lang)}


def is_admin(user: PageUser | None) -> bool:
    return user is not None and user.principal.has_any("admin") and not user.principal.has_any("partner")


def render(
    request: Request, template: str, *, staff: PageUser | None, status: int = 200, **values: Any
) -> HTMLResponse:
    frame = _admin_frame if is_admin(staff) else _frame
    return render_page(TEMPLATES, request, template, user=staff, frame=frame, status=status, **values)


def error_page(request: Request, staff: PageUser, status: int, title_key: str, message: str) -> HTMLResponse:
    """The German (or English) error page: a title, the reason, and the way back to the inbox."""
    return render(
        request, "error.html", staff=staff, status=status, title=t(title_key, staff.lang), message=message
    )
