"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body`` with the partner's secret.

Headers: ``Webhook-Id`` (unique per delivery; deduplicate by it), ``Webhook-Timestamp`` (Unix seconds
when this attempt was signed) and ``Webhook-Signature: v1=<hex digest>``. A receiver recomputes the
digest, compares in constant time, and refuses timestamps outside its replay window (we document five
minutes) and ids it has already seen within that window.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_VERSION = "v1"
REPLAY_WINDOW_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(*, secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Webhook-Id": delivery_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, timestamp, body),
    }


def verify(
    *, secret: str, timestamp: str, signature_header: str, body: bytes, now: float,
    window_s: int = REPLAY_WINDOW_S,
) -> bool:  # fmt: skip
    """What a partner's receiver does: a valid signature and a timestamp inside the replay window."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > window_s:
        return False
    expected = signature(secret, ts, body)
    # Several signatures may be sent, space-separated (e.g. during a secret rotation).
    return any(hmac.compare_digest(expected, candidate) for candidate in signature_header.split())
