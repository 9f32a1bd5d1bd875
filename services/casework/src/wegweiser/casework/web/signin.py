"""Signing in and out of the web UI.

In development the login page mints a session token for a development user; in production the cookie
is set after an OpenID Connect login at the organisation's identity provider (see README).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.casework.db import StaffRow
from wegweiser.casework.deps import SettingsDep, UnitOfWorkDep
from wegweiser.casework.web.pages import render
from wegweiser.common import devtokens

router = APIRouter(include_in_schema=False)
SESSION_HOURS = 8
FIRST_TRY = ("counsellor", "supervisor", "admin")
"""The order a newcomer should try the development users in: the admin sees no case at all."""


def newcomer_order(staff: list[StaffRow], open_cases: dict[str, int]) -> list[StaffRow]:
    """Counsellors, then supervisors, then the rest; within a role, providers with open cases first."""

    def key(s: StaffRow) -> tuple[int, int, str, str]:
        rank = FIRST_TRY.index(s.role) if s.role in FIRST_TRY else len(FIRST_TRY)
        provider = s.provider_id or ""
        return rank, -open_cases.get(provider, 0), provider, s.display_name

    return sorted(staff, key=key)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, settings: SettingsDep, uow: UnitOfWorkDep, next: str = "/cases"
) -> Response:
    users: list[tuple[StaffRow, str]] = []
    if settings.dev_login_enabled:
        async with uow:
            providers = {p.provider_id: p.name for p in await uow.org.providers()}
            active = [s for s in await uow.org.staff() if s.active]
            staff = newcomer_order(active, await uow.cases.open_by_provider())
            users = [(s, providers.get(s.provider_id or "", "")) for s in staff]
    return render(
        request,
        None,
        "login.html",
        users=users,
        enabled=settings.dev_login_enabled,
        next=safe_next(next),
    )


@router.post("/login")
async def login(request: Request, settings: SettingsDep, uow: UnitOfWorkDep) -> Response:
    form = await request.form()
    if not settings.dev_login_enabled or settings.dev_key_dir is None:
        return RedirectResponse("/login", status_code=303)
    async with uow:
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
    response = RedirectResponse(safe_next(str(form.get("next", "/cases"))), status_code=303)
    response.set_cookie(
        settings.session_cookie_name,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        max_age=SESSION_HOURS * 3600,
    )
    return response


@router.post("/logout")
async def logout(settings: SettingsDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie_name)
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/cases", status_code=303)


def safe_next(target: str) -> str:
    """Only local paths: an open redirect after sign-in would help phishing."""
    return target if target.startswith("/") and not target.startswith("//") else "/cases"
