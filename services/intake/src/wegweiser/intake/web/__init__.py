"""The upload page of reception authorities (server-rendered, Jinja2 + KERN, German first).

``signin`` (development login, as in casework), ``upload`` (check, error report, failed rows, import,
progress). The frame, KERN and the session plumbing are shared with casework in
``wegweiser.common.web``. Routes only translate, like the API's.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wegweiser.common import web as common_web
from wegweiser.common.web.session import install_session
from wegweiser.intake.web import signin, upload
from wegweiser.intake.web.pages import STATIC_URL, WEB


def install(app: FastAPI) -> None:
    """Mount the static files and the pages; requests without a session go to ``/login``."""
    app.mount(common_web.STATIC_URL, StaticFiles(directory=common_web.STATIC), name="static-common")
    app.mount(STATIC_URL, StaticFiles(directory=WEB / "static"), name="static-intake")
    install_session(app)
    app.include_router(signin.router)
    app.include_router(upload.router)
