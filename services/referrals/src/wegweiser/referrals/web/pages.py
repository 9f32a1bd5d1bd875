"""What every page of the partner inbox needs: templates, the signed-in partner staff, and ``render``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wegweiser.common import localtime
from wegweiser.common import web as common_web
from wegweiser.common.auth import Principal
from wegweiser.common.regions import catalogue
from wegweiser.common.web.session import LoginRequired, csrf_token, language, session_principal
from wegweiser.referrals.deps import SettingsDep
from wegweiser.referrals.domain.lifecycle import STATE_NAMES
from wegweiser.referrals.web.messages import t
from wegweiser.referrals.web.staff import ORGANISATIONS, display_name

WEB = Path(__file__).parent
STATIC_URL = "/static/referrals"
HOME = "/inbox"
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


TEMPLATES.env.globals.update(t=t, state_name=state_name, municipality_name=municipality_name)
TEMPLATES.env.filters["local"] = local_time
TEMPLATES.env.filters["de_date"] = lambda d: d.strftime("%d.%m.%Y") if isinstance(d, dt.date) else "–"


@dataclass(frozen=True, slots=True)
class PartnerStaff:
    """A signed-in member of a partner's staff: sees and answers only their partner's referrals."""

    principal: Principal
    partner_id: str
    name: str
    csrf: str
    lang: str

    @property
    def organisation(self) -> str:
        return ORGANISATIONS.get(self.partner_id, self.partner_id)


def _partner_staff(request: Request, settings: SettingsDep) -> PartnerStaff:
    principal, token = session_principal(request, settings)
    if not principal.has_any("partner") or not principal.partner_id:
        raise LoginRequired()
    return PartnerStaff(
        principal,
        principal.partner_id,
        display_name(principal.subject),
        csrf_token(token),
        language(request),
    )


PartnerStaffDep = Annotated[PartnerStaff, Depends(_partner_staff)]


def render(
    request: Request, template: str, *, staff: PartnerStaff | None, status: int = 200, **values: Any
) -> HTMLResponse:
    lang = staff.lang if staff else language(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "user": staff,
            "home": HOME,
            "nav": [(HOME, t("nav.inbox", lang))],
            "path": request.url.path,
            "static": STATIC_URL,
            **values,
        },
        status_code=status,
    )


def error_page(
    request: Request, staff: PartnerStaff, status: int, title_key: str, message: str
) -> HTMLResponse:
    """The German (or English) error page: a title, the reason, and the way back to the inbox."""
    return render(
        request, "error.html", staff=staff, status=status, title=t(title_key, staff.lang), message=message
    )
