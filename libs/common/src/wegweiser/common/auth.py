"""JWT validation against a JWKS (docs/architecture.md): OIDC in production, the dev key pair locally.

Roles: reception_authority (authority_id, ags), counsellor and supervisor (provider_id, ags),
partner (partner_id), statistics_reader, admin. Keycloak puts roles in ``realm_access.roles``;
our development tokens put them in ``roles``; both are accepted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import httpx
import jwt
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

Role = Literal["reception_authority", "counsellor", "supervisor", "partner", "statistics_reader", "admin"]
ROLES: tuple[Role, ...] = (
    "reception_authority",
    "counsellor",
    "supervisor",
    "partner",
    "statistics_reader",
    "admin",
)


class AccessRefused(Exception):
    """A refusal of access with an English text (``str()``, for logs) and a German one for people.

    Why: the problem+json of a 401 or 403 had a German title over an English detail (issue 14); the
    handler now gives ``text(english=...)`` in the caller's language.
    """

    def __init__(self, en: str, *, de: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.de = de or en  # every raise gives ``de`` (a test checks); never crash a 403 for want of it

    def text(self, *, english: bool) -> str:
        return self.en if english else self.de


class Unauthorized(AccessRefused):
    """No token, or one that fails validation: HTTP 401."""


class Forbidden(AccessRefused):
    """A valid token without the role or scope the operation needs: HTTP 403."""


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[str]
    authority_id: str | None = None
    provider_id: str | None = None
    partner_id: str | None = None
    ags: frozenset[str] = frozenset()

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def may_access_ags(self, ags: str) -> bool:
        return "admin" in self.roles or ags in self.ags


class JwksValidator:
    """Validates issuer, audience, expiry and signature; re-reads the JWKS when it sees an unknown key id."""

    def __init__(self, *, jwks_url: str, issuer: str, audience: str, refresh_after_s: float = 300) -> None:
        self._jwks_url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._refresh_after_s = refresh_after_s
        self._keys: dict[str, Any] = {}
        self._loaded_at = 0.0

    def _load(self) -> None:
        url = urlparse(self._jwks_url)
        if url.scheme == "file":
            document = json.loads(Path(url.path).read_text())
        else:
            response = httpx.get(self._jwks_url, timeout=5)
            response.raise_for_status()
            document = response.json()
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in document.get("keys", []) if "kid" in k}
        self._loaded_at = time.monotonic()

    def _key(self, kid: str) -> Any:
        stale = time.monotonic() - self._loaded_at > self._refresh_after_s
        if kid not in self._keys or stale:
            try:
                self._load()
            except (OSError, httpx.HTTPError, ValueError) as exc:
                raise Unauthorized(
                    f"signing keys unavailable: {exc}", de=f"Signaturschlüssel nicht verfügbar: {exc}"
                ) from exc
        if kid not in self._keys:
            raise Unauthorized(
                "token signed with an unknown key", de="Token mit unbekanntem Schlüssel signiert"
            )
        return self._keys[kid]

    def validate(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self._key(header.get("kid", "")),
                algorithms=["RS256", "ES256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", de=f"ungültiges Token: {exc}") from exc
        roles = set(claims.get("roles", [])) | set(claims.get("realm_access", {}).get("roles", []))
        return Principal(
            subject=claims["sub"],
            roles=frozenset(r for r in roles if r in ROLES),
            authority_id=claims.get("authority_id"),
            provider_id=claims.get("provider_id"),
            partner_id=claims.get("partner_id"),
            ags=frozenset(claims.get("ags", [])),
        )


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the validated caller, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing bearer token", de="Bearer-Token fehlt")
    validator: JwksValidator = request.app.state.auth
    return validator.validate(token.strip())


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Any:
    """Dependency factory: the caller must hold one of ``roles``."""

    def check(principal: PrincipalDep) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(
                f"requires one of the roles: {', '.join(roles)}",
                de=f"erfordert eine dieser Rollen: {', '.join(roles)}",
            )
        return principal

    return Depends(check)
