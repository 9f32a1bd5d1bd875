"""The shared web sign-in plumbing: language choice, CSRF tokens, safe redirects, when dev login is on."""

from __future__ import annotations

from pathlib import Path

import jwt
from starlette.requests import Request

from wegweiser.common.web.session import (
    DevUser,
    WebSettings,
    csrf_ok,
    csrf_token,
    dev_sign_in,
    language,
    safe_next,
)


def request(query: str = "", cookie: str = "") -> Request:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers}
    )


def test_language_is_german_unless_chosen() -> None:
    assert language(request()) == "de"
    assert language(request("lang=en")) == "en"
    assert language(request(cookie="lang=en")) == "en"
    assert language(request("lang=de", cookie="lang=en")) == "de"
    assert language(request("lang=fr")) == "de"


def test_csrf_token_is_bound_to_the_session() -> None:
    assert csrf_ok(csrf_token("session-a"), "session-a")
    assert not csrf_ok(csrf_token("session-a"), "session-b")
    assert not csrf_ok(None, "session-a")


def test_only_local_paths_are_followed_after_sign_in() -> None:
    assert safe_next("/upload?x=1", "/") == "/upload?x=1"
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "upload"):
        assert safe_next(target, "/home") == "/home"


def test_development_login_only_with_the_local_key_set(tmp_path: Path) -> None:
    local = (tmp_path / "jwks.json").as_uri()
    assert WebSettings(auth_jwks_url=local).dev_login_enabled
    assert WebSettings(auth_jwks_url=local).dev_key_dir == tmp_path
    assert not WebSettings(auth_jwks_url=local, dev_login=False).dev_login_enabled
    oidc = "https://login.example/realms/w/protocol/openid-connect/certs"
    assert not WebSettings(auth_jwks_url=oidc).dev_login_enabled
    assert not WebSettings(auth_jwks_url=oidc, dev_login=True).dev_login_enabled


def test_development_sign_in_only_for_a_known_user_while_it_is_on(tmp_path: Path) -> None:
    local = WebSettings(auth_jwks_url=(tmp_path / "jwks.json").as_uri())
    clerk = DevUser("sb-1", "Sabine Keller", "reception_authority", "UAB", {"authority_id": "uab-1"})
    response = dev_sign_in(clerk, "/upload", local)
    assert response.status_code == 303 and response.headers["location"] == "/upload"
    cookie = response.headers["set-cookie"]
    token = cookie.split(";")[0].removeprefix(f"{local.session_cookie_name}=")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["authority_id"]) == (
        "sb-1",
        ["reception_authority"],
        "uab-1",
    )
    for user, settings in ((None, local), (clerk, local.model_copy(update={"dev_login": False}))):
        refused = dev_sign_in(user, "/upload", settings)
        assert refused.headers["location"] == "/login" and "set-cookie" not in refused.headers
