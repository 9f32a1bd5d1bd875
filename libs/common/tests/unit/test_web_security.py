"""Security headers: HTML pages get the policy, every response nosniff, HSTS only over https."""

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from wegweiser.common.web_security import API_DOCS_POLICY, PAGE_POLICY, SecurityHeaders


def app() -> FastAPI:
    application = FastAPI()

    @application.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<!doctype html><title>x</title>"

    @application.get("/own-policy", response_class=HTMLResponse)
    async def own_policy() -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'none'"})

    @application.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    application.add_middleware(SecurityHeaders)
    return application


async def get(path: str, *, base_url: str = "http://test") -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return await client.get(path)


async def test_an_html_page_gets_a_policy_without_inline_script_and_may_not_be_framed() -> None:
    headers = (await get("/page")).headers
    policy = headers["content-security-policy"]
    assert policy == PAGE_POLICY
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers  # plain http: a browser would ignore it anyway


async def test_hsts_only_over_https() -> None:
    headers = (await get("/page", base_url="https://test")).headers
    assert headers["strict-transport-security"].startswith("max-age=")


async def test_json_gets_nosniff_only_and_a_route_keeps_its_own_policy() -> None:
    data = (await get("/data")).headers
    assert data["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in data
    assert (await get("/own-policy")).headers["content-security-policy"] == "default-src 'none'"


async def test_the_api_documentation_may_load_its_cdn_but_not_be_framed() -> None:
    headers = (await get("/docs")).headers
    assert headers["content-security-policy"] == API_DOCS_POLICY
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
