"""Pseudonymous person ids (docs/architecture.md): HMAC-SHA256 with a key that statistics never holds.

Intake, casework and referrals share the key so one person has one pseudonym across their facts.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from functools import lru_cache


@lru_cache(maxsize=16)
def _keyed(key: str) -> hmac.HMAC:
    """The HMAC state after the key: copied for each id instead of hashing the key again."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def pseudonym(person_id: uuid.UUID, key: str) -> str:
    mac = _keyed(key).copy()
    mac.update(person_id.bytes)
    return mac.hexdigest()
