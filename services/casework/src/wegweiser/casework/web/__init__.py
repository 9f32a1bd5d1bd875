"""The counsellors' web UI (server-rendered, Jinja2 + KERN); routes only translate, like the API.

One module per business area; ``pages`` holds what they share. ``install`` mounts it on the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from wegweiser.casework.web import (
    cases,
    consent,
    consultations,
    plan,
    referrals,
    signin,
    supervision,
)
from wegweiser.casework.web.messages import LANGUAGES
from wegweiser.casework.web.pages import WEB, LoginRequired
from wegweiser.common import web as common_web

# ``cases`` first: its /cases/new must come before /cases/{case_id}.
ROUTERS = (signin, cases, consultations, plan, consent, referrals, supervision)
LANGUAGE_COOKIE_DAYS = 365


async def to_login(request: Request, exc: Exception) -> Response:
    """A page without a valid session: to the login page, and back here afterwards."""
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


async def remember_language(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """``?lang=`` also sets the language cookie, so the choice holds on the next pages."""
    response = await call_next(request)
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        response.set_cookie(
            "lang", wanted, max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600, samesite="lax", httponly=True
        )
    return response


def install(app: FastAPI) -> None:
    """Mount static files and the UI routes; send missing sessions to the login page.

    The vendored KERN styles and fonts are the one copy in ``wegweiser.common.web`` (intake's pages use
    it too); mounted before ``/static`` so that its prefix wins.
    """
    kern = common_web.STATIC / "kern"
    app.mount("/static/kern", StaticFiles(directory=str(kern)), name="static-kern")
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.add_exception_handler(LoginRequired, to_login)
    for area in ROUTERS:
        app.include_router(area.router)
    app.middleware("http")(remember_language)
