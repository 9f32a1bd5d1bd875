"""Development sign-in of the partner inbox, as in casework: pick a partner's staff member, get a session.

In production the session cookie comes from an OpenID Connect login (the ``partner`` role and a
``partner_id`` claim) and these routes refuse.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.common.web.session import DevUser, csrf_ok, dev_sign_in, safe_next, signed_out
from wegweiser.referrals.deps import SettingsDep
from wegweiser.referrals.web.pages import HOME, render
from wegweiser.referrals.web.staff import DEV_PARTNER_STAFF, DevPartnerStaff

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep, next: str = HOME) -> Response:
    enabled = settings.dev_login_enabled
    return render(
        request,
        "kern/login.html",
        staff=None,
        users=DEV_PARTNER_STAFF if enabled else (),
        enabled=enabled,
        next=safe_next(next, HOME),
    )


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    member = next((s for s in DEV_PARTNER_STAFF if s.subject == form.get("subject")), None)
    target = safe_next(str(form.get("next", HOME)), HOME)
    return dev_sign_in(dev_user(member) if member else None, target, settings)


def dev_user(member: DevPartnerStaff) -> DevUser:
    """A development staff member signs in for their partner (the ``partner_id`` claim)."""
    return DevUser(
        member.subject, member.display_name, member.role, member.org, {"partner_id": member.partner_id}
    )


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    token = request.cookies.get(settings.session_cookie_name, "")
    if token and not csrf_ok(form.get("csrf"), token):
        return RedirectResponse(HOME, status_code=303)
    return signed_out("/login", settings)
