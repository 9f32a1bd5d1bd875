"""Security headers for a service's responses (OWASP Secure Headers), as an ASGI middleware.

Every HTML page gets a Content-Security-Policy that allows scripts, styles and fonts from the service
itself only (no inline script or ``style=``: they belong in static files), may not be framed
(clickjacking), and leaks no URL to other sites. Every response gets ``nosniff``; HSTS only when the
request came over https (behind a proxy: uvicorn's ``--proxy-headers`` sets the scheme), since a
browser ignores it over http and a development server on http must stay reachable.

FastAPI's own API documentation (``/docs``, ``/redoc``) loads Swagger UI and ReDoc from a CDN with an
inline start-up script; those pages alone get ``API_DOCS_POLICY``, still unframeable.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # KERN's icons are data: SVGs inside its stylesheet
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
API_DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
API_DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """ASGI middleware: ``app.add_middleware(SecurityHeaders)``; headers a route set itself are kept."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        page_policy: str = PAGE_POLICY,
        path_policies: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.page_policy = page_policy
        docs = dict.fromkeys(API_DOCS_PATHS, API_DOCS_POLICY)
        self.path_policies = docs if path_policies is None else dict(path_policies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.path_policies.get(scope.get("path", ""), self.page_policy)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), policy=policy, https=https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_security_headers(headers: MutableHeaders, *, policy: str, https: bool) -> None:
    """The headers for one response; HTML pages get the policy, every response nosniff (and HSTS)."""
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP level 2
