"""Development sign-in: a local key pair (outside git) and signed JWTs for the roles of docs/architecture.md.

Never used in production, where an OpenID Connect provider (Keycloak in docker-compose) signs tokens.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wegweiser.common.settings import AUDIENCE, DEV_ISSUER, DEV_KEY_DIR

KID = "wegweiser-dev-1"


def ensure_key_pair(key_dir: Path = DEV_KEY_DIR) -> Path:
    """Create the key pair and its JWKS once; returns the private key path."""
    private_path = key_dir / "private.pem"
    if private_path.exists():
        return private_path
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private_path.chmod(0o600)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    (key_dir / "jwks.json").write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return private_path


@functools.lru_cache(maxsize=8)
def _private_key(path: Path, modified_ns: int) -> Any:
    """The parsed key, once per file version: parsing (with its RSA checks) costs milliseconds, and the
    system-day benchmark mints a token for every counsellor it plays."""
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def mint(
    *,
    subject: str,
    roles: list[str],
    ttl_s: int = 8 * 3600,
    key_dir: Path = DEV_KEY_DIR,
    issuer: str = DEV_ISSUER,
    audience: str = AUDIENCE,
    **claims: Any,
) -> str:
    """A signed development token; extra claims (authority_id, provider_id, partner_id, ags) pass through."""
    path = ensure_key_pair(key_dir)
    private_key = _private_key(path, path.stat().st_mtime_ns)
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
        "roles": roles,
        **{k: v for k, v in claims.items() if v is not None},
    }
    return jwt.encode(payload, private_key, algorithm="RS256", headers={"kid": KID})
