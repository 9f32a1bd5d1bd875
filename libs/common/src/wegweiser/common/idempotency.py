"""What intake and casework share about ``Idempotency-Key``: the header, its limits, the request digest.

Each service stores the first answer to a key in its own database, beside the change it reports; the
same key and body replays that answer, the same key with another body is refused.
"""

from __future__ import annotations

import hashlib
from typing import Any

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_HEADER: dict[str, Any] = {
    "parameters": [
        {
            "name": IDEMPOTENCY_KEY,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": "Repeat a request safely: the first answer is replayed for the same key and body",
        }
    ]
}
REPLAYED = "Idempotent-Replayed"


def valid_key(key: str) -> bool:
    """1 to 200 printable characters."""
    return 1 <= len(key) <= 200 and key.isprintable()


def request_digest(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same" for one key: method, path and body."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
