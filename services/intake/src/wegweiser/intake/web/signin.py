"""Development sign-in of the upload page, as in casework: pick a development clerk, get a session.

The development clerks are listed here (intake keeps no staff records); in production the session
cookie comes from an OpenID Connect login and these routes refuse.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.common.web.session import DevUser, csrf_ok, dev_sign_in, safe_next, signed_out
from wegweiser.intake.deps import SettingsDep
from wegweiser.intake.web.clerks import DEV_CLERKS, DevClerk
from wegweiser.intake.web.pages import render

router = APIRouter(include_in_schema=False)
HOME = "/upload"


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep, next: str = HOME) -> Response:
    enabled = settings.dev_login_enabled
    return render(
        request,
        "kern/login.html",
        clerk=None,
        users=DEV_CLERKS if enabled else (),
        enabled=enabled,
        next=safe_next(next, HOME),
    )


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    clerk = next((c for c in DEV_CLERKS if c.subject == form.get("subject")), None)
    target = safe_next(str(form.get("next", HOME)), HOME)
    return dev_sign_in(dev_user(clerk) if clerk else None, target, settings)


def dev_user(clerk: DevClerk) -> DevUser:
    """A development clerk signs in as a clerk of their reception authority."""
    claims = {"authority_id": clerk.authority_id, "ags": list(clerk.ags)}
    return DevUser(clerk.subject, clerk.display_name, clerk.role, clerk.org, claims)


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    token = request.cookies.get(settings.session_cookie_name, "")
    if token and not csrf_ok(form.get("csrf"), token):
        return RedirectResponse(HOME, status_code=303)
    return signed_out("/login", settings)
