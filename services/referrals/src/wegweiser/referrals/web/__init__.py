"""Referrals' pages (server-rendered, Jinja2 + KERN, German first): a partner's staff answer referrals,
the platform's admins look after the partners and the stuck records.

``signin`` (development login, as in casework and intake), ``inbox`` (referrals by state, due reminders,
accept / decline / started / completed / dropped out), ``admin`` (partners with their delivery health,
stuck Kafka records and their retry, as casework's admin desk). Every answer goes through ``answer_referral``,
the partner API's handler, so it publishes the same events. The frame, KERN and the session plumbing
are shared in ``wegweiser.common.web``. Routes only translate, like the API's.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from wegweiser.common.web.session import install_pages
from wegweiser.referrals.web import admin, inbox, signin
from wegweiser.referrals.web.messages import t
from wegweiser.referrals.web.pages import ADMIN_HOME, STATIC_URL, WEB, AdminElsewhere, NotAdmin, error_page


def install(app: FastAPI) -> None:
    """Mount the static files and the pages; requests without a session go to ``/login``; an admin's
    inbox is the admin desk, and the desk refuses everyone else (403)."""
    install_pages(app, WEB / "static", STATIC_URL)
    app.include_router(signin.router)
    app.include_router(inbox.router)
    app.include_router(admin.router)

    async def to_admin_desk(request: Request, exc: Exception) -> Response:
        return RedirectResponse(ADMIN_HOME, status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotAdmin)
        lang = exc.user.lang
        return error_page(request, exc.user, 403, "error.forbidden.title", t("error.forbidden", lang))

    app.add_exception_handler(AdminElsewhere, to_admin_desk)
    app.add_exception_handler(NotAdmin, forbidden)
