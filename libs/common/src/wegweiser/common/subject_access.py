"""The one shape of a subject access export (GDPR Art. 15), shared by every service that holds a person.

Each service answers ``GET /v1/admin/persons/{person_id}/export`` with this document for what it holds
itself; a full export is one call per service (docs/security.md, section 4). Section titles are German,
English when the request asks for ``Accept-Language: en``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

SCHEMA = "wegweiser.subject-access.v1"


def wants_english(accept_language: str | None) -> bool:
    """English only when it is the first language asked for; German is the default."""
    first = (accept_language or "").split(",")[0].strip().lower()
    return first == "en" or first.startswith("en-") or first.startswith("en;")


def document(
    *,
    service: str,
    person_id: uuid.UUID | None,
    sections: Mapping[str, Any],
    titles: Mapping[str, tuple[str, str]],
    english: bool,
    now: dt.datetime,
    case_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """``sections`` keyed by a stable id; ``titles`` maps each id to its (German, English) title.

    A service that knows the person only by case (referrals) names the case and leaves ``person_id`` null.
    """
    subject = {"case_id": str(case_id)} if case_id is not None else {}
    return {
        "schema": SCHEMA,
        "service": service,
        "person_id": str(person_id) if person_id is not None else None,
        **subject,
        "generated_at": now.isoformat(),
        "language": "en" if english else "de",
        "sections": {titles[key][english]: value for key, value in sections.items()},
    }
