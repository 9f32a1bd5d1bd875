"""Webhook signatures as the Standard Webhooks specification defines them (https://www.standardwebhooks.com).

Signed content: ``<webhook-id>.<webhook-timestamp>.<body>``, HMAC-SHA256 with the bytes of the base64
text after the secret's ``whsec_`` prefix, sent as ``webhook-signature: v1,<base64 digest>`` (several,
space-separated, during a secret rotation). The id is signed, so a captured delivery cannot be passed
off under a new id; the body is the whole CloudEvent (structured mode), so its type and subject are
signed too. A receiver refuses a timestamp outside its tolerance and an id it has already seen within
that tolerance (a replay): ``ReplayGuard``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64 text after ``whsec_``. Older secrets in URL-safe base64 decode too."""
    text = secret.removeprefix(SECRET_PREFIX).translate(str.maketrans("-_", "+/"))
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def sign(secret: str, *, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id=webhook_id, timestamp=timestamp, body=body),
    }


def verify(
    *, secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: int = TOLERANCE_S
) -> bool:
    """What a receiver checks first: a signature over id, timestamp and body, and a fresh timestamp.

    ``headers`` with lower-case names. Replays of a valid request are the ``ReplayGuard``'s part.
    """
    webhook_id = headers.get("webhook-id", "")
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if not webhook_id or abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
    candidates = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


class ReplayGuard:
    """Remembers the ids of verified requests for twice the tolerance; a second sight is a replay."""

    def __init__(self, tolerance_s: int = TOLERANCE_S) -> None:
        self._tolerance_s = tolerance_s
        self._seen: dict[str, float] = {}

    def first_time(self, webhook_id: str, now: float) -> bool:
        """True once per id; call it only after ``verify`` succeeded."""
        for old in [k for k, at in self._seen.items() if now - at > 2 * self._tolerance_s]:
            del self._seen[old]
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = now
        return True
