"""Sign-in for web pages: a session cookie holding a JWT, validated on every request like a bearer token.

In development a login page mints the token for a development user (``DevUser``, ``dev_sign_in``); in
production the cookie is set after an OpenID Connect login. Also the language choice (``?lang=``, then a
cookie, German by default) and a CSRF token bound to the session.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from wegweiser.common import devtokens
from wegweiser.common.auth import JwksValidator, Principal, Unauthorized
from wegweiser.common.settings import ServiceSettings
from wegweiser.common.web import STATIC, STATIC_URL

LANGUAGES = ("de", "en")


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class WebSettings(ServiceSettings):
    """Settings of a service with web pages, read with its prefix (``INTAKE_DEV_LOGIN``...).

    The development sign-in is on by default only while tokens are checked against the local
    development key set (a file JWKS); with an OpenID Connect provider it is off.
    """

    dev_login: bool | None = None
    session_cookie_secure: bool = False
    session_cookie_name: str = "wegweiser_session"

    @property
    def dev_key_dir(self) -> Path | None:
        """The development key pair's folder when the JWKS is a local file, else None (production)."""
        url = urlparse(self.auth_jwks_url)
        return Path(unquote(url.path)).parent if url.scheme == "file" else None

    @property
    def dev_login_enabled(self) -> bool:
        if self.dev_login is None:
            return self.dev_key_dir is not None
        return self.dev_login and self.dev_key_dir is not None


def language(request: Request) -> str:
    """``?lang=`` wins, then the cookie; German by default."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or "de"
    return wanted if wanted in LANGUAGES else "de"


def csrf_token(session_token: str) -> str:
    """Bound to the session; a cross-site form cannot know it (the cookie is also SameSite=Lax)."""
    return hashlib.sha256(f"csrf:{session_token}".encode()).hexdigest()[:32]


def csrf_ok(given: object, session_token: str) -> bool:
    return hmac.compare_digest(str(given or ""), csrf_token(session_token))


def session_principal(request: Request, settings: WebSettings) -> tuple[Principal, str]:
    """The signed-in caller and their session token, or ``LoginRequired``."""
    token = request.cookies.get(settings.session_cookie_name)
    if not token:
        raise LoginRequired()
    validator: JwksValidator = request.app.state.auth
    try:
        return validator.validate(token), token
    except Unauthorized as exc:
        raise LoginRequired() from exc


@dataclass(frozen=True, slots=True)
class PageUser:
    """Who is signed in on a service's pages, for the one role they are for: the token's principal, the
    organisation the role acts for (a reception authority, a partner), the name shown, the CSRF token of
    the session's forms and the page language."""

    principal: Principal
    org_id: str
    name: str
    csrf: str
    lang: str


def page_user(
    request: Request,
    settings: WebSettings,
    *,
    role: str,
    org_of: Callable[[Principal], str | None],
    name_of: Callable[[str], str],
) -> PageUser:
    """The signed-in user if the session holds ``role`` for an organisation; else the login page."""
    principal, token = session_principal(request, settings)
    org_id = org_of(principal)
    if not principal.has_any(role) or not org_id:
        raise LoginRequired()
    return PageUser(principal, org_id, name_of(principal.subject), csrf_token(token), language(request))


def render_page(
    templates: Jinja2Templates,
    request: Request,
    template: str,
    *,
    user: PageUser | None,
    frame: Callable[[str], Mapping[str, Any]],
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page in the shared KERN frame; ``frame(lang)`` gives the service's brand, home and navigation."""
    lang = user.lang if user else language(request)
    context = {"lang": lang, "user": user, "path": request.url.path, **frame(lang), **values}
    return templates.TemplateResponse(request, template, context, status_code=status)


def safe_next(target: str, default: str) -> str:
    """Only paths of this site: an open redirect would let a link send the user anywhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def signed_in(token: str, target: str, settings: WebSettings) -> Response:
    """Redirect to ``target`` with the session cookie set."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        settings.session_cookie_name,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
        max_age=8 * 3600,
    )
    return response


@dataclass(frozen=True, slots=True)
class DevUser:
    """A development user as the login page lists them (``kern/login.html``) and the token claims they get."""

    subject: str
    display_name: str
    role: str
    org: str
    claims: Mapping[str, Any] = field(default_factory=dict)


def dev_sign_in(user: DevUser | None, target: str, settings: WebSettings) -> Response:
    """Sign in as a development user with a token of the local development key, or back to ``/login``.

    Refused for an unknown user (``None``) and whenever the development sign-in is off.
    """
    if user is None or not settings.dev_login_enabled or settings.dev_key_dir is None:
        return RedirectResponse("/login", status_code=303)
    token = devtokens.mint(
        subject=user.subject,
        roles=[user.role],
        key_dir=settings.dev_key_dir,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        **user.claims,
    )
    return signed_in(token, target, settings)


def signed_out(target: str, settings: WebSettings) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(settings.session_cookie_name)
    return response


def login_page_values(settings: WebSettings, users: Sequence[object], next: str, home: str) -> dict[str, Any]:
    """What ``kern/login.html`` needs: the development users (none when the sign-in is off), ``next``."""
    enabled = settings.dev_login_enabled
    return {"users": users if enabled else (), "enabled": enabled, "next": safe_next(next, home)}


async def dev_login_form(
    request: Request, settings: WebSettings, users: Sequence[DevUser], home: str
) -> Response:
    """The development login page's form posted: sign in as the listed user it names, then go on."""
    form = await request.form()
    user = next((u for u in users if u.subject == form.get("subject")), None)
    return dev_sign_in(user, safe_next(str(form.get("next", home)), home), settings)


async def sign_out_form(request: Request, settings: WebSettings, home: str) -> Response:
    """The frame's sign-out form posted: only with this session's CSRF token (else back to ``home``)."""
    form = await request.form()
    token = request.cookies.get(settings.session_cookie_name, "")
    if token and not csrf_ok(form.get("csrf"), token):
        return RedirectResponse(home, status_code=303)
    return signed_out("/login", settings)


def install_pages(app: FastAPI, static: Path, static_url: str) -> None:
    """Mount the shared frame's static files and the service's own, and the session handling."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="static-common")
    app.mount(static_url, StaticFiles(directory=static), name=f"static{static_url.replace('/', '-')}")
    install_session(app)


def install_session(app: FastAPI) -> None:
    """Send requests without a session to ``/login?next=...``; remember ``?lang=`` in a cookie."""

    async def to_login(request: Request, exc: Exception) -> Response:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)

    async def remember_language(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        wanted = request.query_params.get("lang")
        if wanted in LANGUAGES:
            response.set_cookie("lang", wanted, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response

    app.add_exception_handler(LoginRequired, to_login)
    app.middleware("http")(remember_language)
