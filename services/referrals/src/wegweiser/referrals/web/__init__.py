"""The partner inbox (server-rendered, Jinja2 + KERN, German first): a partner's staff answer referrals.

``signin`` (development login, as in casework and intake), ``inbox`` (referrals by state, due reminders,
accept / decline / started / completed / dropped out). Every answer goes through ``answer_referral``,
the partner API's handler, so it publishes the same events. The frame, KERN and the session plumbing
are shared in ``wegweiser.common.web``. Routes only translate, like the API's.
"""

from __future__ import annotations

from fastapi import FastAPI

from wegweiser.common.web.session import install_pages
from wegweiser.referrals.web import inbox, signin
from wegweiser.referrals.web.pages import STATIC_URL, WEB


def install(app: FastAPI) -> None:
    """Mount the static files and the pages; requests without a session go to ``/login``."""
    install_pages(app, WEB / "static", STATIC_URL)
    app.include_router(signin.router)
    app.include_router(inbox.router)
