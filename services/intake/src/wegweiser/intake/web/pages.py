"""What every page of intake's web UI needs: templates, the signed-in clerk, and ``render``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wegweiser.common import web as common_web
from wegweiser.common.auth import Principal
from wegweiser.common.regions import catalogue
from wegweiser.common.web.session import LoginRequired, csrf_token, language, session_principal
from wegweiser.intake.deps import SettingsDep
from wegweiser.intake.web.clerks import display_name
from wegweiser.intake.web.messages import t

WEB = Path(__file__).parent
STATIC_URL = "/static/intake"
TEMPLATES = Jinja2Templates(directory=[WEB / "templates", common_web.TEMPLATES])


def municipality_name(ags: str) -> str:
    m = catalogue().get(ags)
    return f"{m.name} ({ags})" if m else ags


TEMPLATES.env.globals.update(t=t, municipality_name=municipality_name)
TEMPLATES.env.filters["de_date"] = lambda d: d.strftime("%d.%m.%Y") if isinstance(d, dt.date) else d


@dataclass(frozen=True, slots=True)
class Clerk:
    """The signed-in clerk of a reception authority, with the CSRF token of their session."""

    principal: Principal
    authority_id: str
    name: str
    csrf: str
    lang: str


def _clerk(request: Request, settings: SettingsDep) -> Clerk:
    principal, token = session_principal(request, settings)
    if not principal.has_any("reception_authority") or principal.authority_id is None:
        raise LoginRequired()
    return Clerk(
        principal,
        principal.authority_id,
        display_name(principal.subject),
        csrf_token(token),
        language(request),
    )


ClerkDep = Annotated[Clerk, Depends(_clerk)]


def render(
    request: Request, template: str, *, clerk: Clerk | None, status: int = 200, **values: Any
) -> HTMLResponse:
    lang = clerk.lang if clerk else language(request)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "user": clerk,
            "brand": t("app.name", lang),
            "home": "/upload",
            "nav": [("/upload", t("nav.upload", lang))],
            "path": request.url.path,
            "static": STATIC_URL,
            **values,
        },
        status_code=status,
    )
