"""Typed dependencies of statistics' routes: the only place that reads ``app.state``.

``app.build`` puts the settings, the workers and the published-cells reader on ``app.state``; the
runtime adds the token validator (``app.state.auth``) when it starts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from wegweiser.common.auth import Forbidden, JwksValidator, Principal, Role, Unauthorized, require_role
from wegweiser.common.http import from_app_state, wants_english
from wegweiser.statistics.ops.workers import Workers
from wegweiser.statistics.read.published import Published
from wegweiser.statistics.settings import StatisticsSettings

DASHBOARD_COOKIE = "wegweiser_token"
READER_ROLES: tuple[Role, ...] = ("statistics_reader", "admin")


SettingsDep = Annotated[StatisticsSettings, from_app_state("settings")]
WorkersDep = Annotated[Workers, from_app_state("workers")]
PublishedDep = Annotated[Published, from_app_state("published")]
ValidatorDep = Annotated[JwksValidator, from_app_state("auth")]
EnglishDep = Annotated[bool, Depends(wants_english)]
"""True when the caller prefers English (Accept-Language); German otherwise."""

ReaderDep = Annotated[Principal, require_role(*READER_ROLES)]
AdminDep = Annotated[Principal, require_role("admin")]


def dashboard_caller(request: Request, validator: JwksValidator) -> Principal:
    """The caller from the Authorization header, else from the dashboard's cookie; 401/403 otherwise.

    Browsers cannot send a bearer header on their own, so the dashboard also accepts the token from the
    HttpOnly cookie its sign-in form sets (behind an OpenID Connect proxy, the header arrives as usual).
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        token = request.cookies.get(DASHBOARD_COOKIE, "")
    if not token:
        raise Unauthorized("missing token", de="Token fehlt")
    principal = validator.validate(token.strip())
    if not principal.has_any(*READER_ROLES):
        raise Forbidden(
            f"requires one of the roles: {', '.join(READER_ROLES)}",
            de=f"erfordert eine dieser Rollen: {', '.join(READER_ROLES)}",
        )
    return principal


def _dashboard_principal(request: Request, validator: ValidatorDep) -> Principal:
    return dashboard_caller(request, validator)


DashboardReaderDep = Annotated[Principal, Depends(_dashboard_principal)]
"""A statistics reader by header or cookie (the dashboard's downloads and progress bar)."""
