"""The counsellors' web UI (server-rendered, Jinja2 + KERN); routes only translate, like the API.

One module per business area; ``pages`` holds what they share. ``install`` mounts it on the app. The
page frame, KERN and the session plumbing are shared with intake in ``wegweiser.common.web``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wegweiser.casework.web import (
    admin,
    cases,
    consent,
    consultations,
    plan,
    referrals,
    signin,
    staff,
    supervision,
)
from wegweiser.casework.web.pages import WEB
from wegweiser.common import web as common_web
from wegweiser.common.web.session import install_session

# ``cases`` first: its /cases/new must come before /cases/{case_id}.
ROUTERS = (signin, cases, consultations, plan, consent, referrals, supervision, admin, staff)


def install(app: FastAPI) -> None:
    """Mount the static files and the UI routes; requests without a session go to ``/login``.

    The shared frame and KERN are mounted before ``/static`` so that their longer prefix wins.
    """
    app.mount(common_web.STATIC_URL, StaticFiles(directory=common_web.STATIC), name="static-common")
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    install_session(app)
    for area in ROUTERS:
        app.include_router(area.router)
