"""Development sign-in of referrals' pages, as in casework: pick a partner's staff member (the inbox) or
the platform's admin (the admin desk), get a session.

In production the session cookie comes from an OpenID Connect login (the ``partner`` role and a
``partner_id`` claim, or the ``admin`` role) and these routes refuse.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.common.web.session import DevUser, dev_login_form, login_page_values, sign_out_form
from wegweiser.referrals.deps import SettingsDep
from wegweiser.referrals.web.pages import HOME, render
from wegweiser.referrals.web.staff import DEV_ADMIN, DEV_PARTNER_STAFF, DevPartnerStaff

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep, next: str = HOME) -> Response:
    values = login_page_values(settings, dev_users(), next, HOME)
    return render(request, "kern/login.html", staff=None, **values)


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    return await dev_login_form(request, settings, dev_users(), HOME)


def dev_user(member: DevPartnerStaff) -> DevUser:
    """A development staff member signs in for their partner (the ``partner_id`` claim)."""
    claims = {"partner_id": member.partner_id}
    return DevUser(member.subject, member.display_name, member.role, member.org, claims)


def dev_users() -> list[DevUser]:
    """The partners' staff first (the inbox is what most people here use), then the admin."""
    return [*(dev_user(s) for s in DEV_PARTNER_STAFF), DEV_ADMIN]


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> Response:
    return await sign_out_form(request, settings, HOME)


@router.get("/")
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)
