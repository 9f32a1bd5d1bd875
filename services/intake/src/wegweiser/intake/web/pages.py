"""What every page of intake's web UI needs: templates, the signed-in clerk, and ``render``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wegweiser.common import web as common_web
from wegweiser.common.regions import catalogue
from wegweiser.common.web.session import PageUser, page_user, render_page
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


def _clerk(request: Request, settings: SettingsDep) -> PageUser:
    """A clerk of a reception authority: uploads for that authority only."""
    return page_user(
        request,
        settings,
        role="reception_authority",
        org_of=lambda principal: principal.authority_id,
        name_of=display_name,
    )


ClerkDep = Annotated[PageUser, Depends(_clerk)]


def _frame(lang: str) -> dict[str, Any]:
    return {
        "brand": t("app.name", lang),
        "home": "/upload",
        "nav": [("/upload", t("nav.upload", lang))],
        "static": STATIC_URL,
    }


def render(
    request: Request, template: str, *, clerk: PageUser | None, status: int = 200, **values: Any
) -> HTMLResponse:
    return render_page(TEMPLATES, request, template, user=clerk, frame=_frame, status=status, **values)
