"""Pseudonymous person ids (ARCHITECTURE §3): HMAC-SHA256 with a key that statistics never holds.

Intake, casework and referrals share the key so one person has one pseudonym across their facts.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid


def pseudonym(person_id: uuid.UUID, key: str) -> str:
    return hmac.new(key.encode(), person_id.bytes, hashlib.sha256).hexdigest()
