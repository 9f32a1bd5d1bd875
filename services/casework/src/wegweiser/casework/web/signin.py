"""Signing in and out of the web UI.

In development the login page mints a session token for a development user; in production the cookie
is set after an OpenID Connect login at the organisation's identity provider (see README).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.casework.db import ProviderRow, StaffRow
from wegweiser.casework.deps import SettingsDep, UnitOfWorkDep
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.web.pages import render
from wegweiser.common.web.session import DevUser, dev_sign_in, safe_next, signed_out

router = APIRouter(include_in_schema=False)
HOME = "/cases"
FIRST_TRY = ("counsellor", "supervisor", "admin")
"""The order a newcomer should try the development users in: the admin sees no case at all."""


def newcomer_order(staff: list[StaffRow], open_cases: dict[str, int]) -> list[StaffRow]:
    """Counsellors, then supervisors, then the rest; within a role, providers with open cases first."""

    def key(s: StaffRow) -> tuple[int, int, str, str]:
        rank = FIRST_TRY.index(s.role) if s.role in FIRST_TRY else len(FIRST_TRY)
        provider = s.provider_id or ""
        return rank, -open_cases.get(provider, 0), provider, s.display_name

    return sorted(staff, key=key)


def dev_user(member: StaffRow, provider: ProviderRow | None) -> DevUser:
    """A staff member as a development user: signed in for their provider and its municipalities."""
    claims = {"provider_id": member.provider_id, "ags": list(provider.ags) if provider else None}
    org = provider.name if provider else ""
    return DevUser(member.subject, member.display_name, member.role, org, claims)


async def staff_users(uow: CaseworkUnitOfWork) -> list[DevUser]:
    """The active staff, in the order a newcomer should try them, with their provider's name."""
    async with uow:
        providers = {p.provider_id: p for p in await uow.org.providers()}
        active = [s for s in await uow.org.staff() if s.active]
        staff = newcomer_order(active, await uow.cases.open_by_provider())
    return [dev_user(s, providers.get(s.provider_id or "")) for s in staff]


async def staff_user(uow: CaseworkUnitOfWork, subject: str) -> DevUser | None:
    """The active staff member to sign in as, or None for an unknown or inactive one."""
    async with uow:
        member = await uow.org.member(subject)
        provider = await uow.org.provider(member.provider_id) if member and member.provider_id else None
    if member is None or not member.active:
        return None
    return dev_user(member, provider)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, settings: SettingsDep, uow: UnitOfWorkDep, next: str = HOME
) -> Response:
    enabled = settings.dev_login_enabled
    return render(
        request,
        None,
        "login.html",
        users=await staff_users(uow) if enabled else [],
        enabled=enabled,
        next=safe_next(next, HOME),
    )


@router.post("/login")
async def login(request: Request, settings: SettingsDep, uow: UnitOfWorkDep) -> Response:
    form = await request.form()
    enabled = settings.dev_login_enabled
    user = await staff_user(uow, str(form.get("subject", ""))) if enabled else None
    return dev_sign_in(user, safe_next(str(form.get("next", HOME)), HOME), settings)


@router.post("/logout")
async def logout(settings: SettingsDep) -> Response:
    return signed_out("/login", settings)


@router.get("/")
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)
