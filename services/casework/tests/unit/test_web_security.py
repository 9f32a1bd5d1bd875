"""Casework's pages carry the security headers (tests/test_web_templates.py: no inline script or style)."""

from pathlib import Path

import httpx

from wegweiser.casework.app import build
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common.web_security import PAGE_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "wegweiser" / "casework" / "web" / "templates"


async def test_every_kind_of_page_carries_the_security_headers(tmp_path: Path) -> None:
    settings = CaseworkSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/casework.db", dev_login=False)
    transport = httpx.ASGITransport(app=build(settings))
    async with httpx.AsyncClient(transport=transport, base_url="https://casework.example") as client:
        login = await client.get("/login")
        redirect = await client.get("/cases", follow_redirects=False)  # no session: to the login page
        style = await client.get("/static/app.css")
        kern = await client.get("/static/common/vendor/kern/kern.min.css")  # common.web's frame links it
        api = await client.get("/v1/cases")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert login.headers["content-security-policy"] == PAGE_POLICY
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["referrer-policy"] == "same-origin"
    assert login.headers["permissions-policy"]
    assert redirect.status_code == 303
    assert style.status_code == kern.status_code == 200
    for response in (login, redirect, style, kern, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"].startswith("max-age=")  # came over https
