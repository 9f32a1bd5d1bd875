"""One name for a referral's status in the public API: ``status``, as in casework and the events.

Why: referrals said ``state`` where casework's API, the events (``referral.status``) and the domain
words say ``status`` (issue 14). The contract is public, so the change is additive: ``status`` is added
everywhere ``state`` was, and ``state`` stays, marked deprecated in the OpenAPI document, until clients
have moved. The service's own code and tables keep ``state`` inside.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

DEPRECATED: dict[str, Any] = {"deprecated": True}
STATE_DEPRECATED = Field(
    description="deprecated: the same as `status`, kept for existing clients", json_schema_extra=DEPRECATED
)
STATUS = Field(description="the referral's status (sent, accepted, declined, started, completed, ...)")
PATTERN = r"^[a-z_]{1,40}$"

StatusQuery = Annotated[str | None, Query(pattern=PATTERN, description="only referrals in this status")]
StateQuery = Annotated[
    str | None, Query(pattern=PATTERN, deprecated=True, description="deprecated: use `status`")
]


def wanted_status(status: str | None, state: str | None) -> str | None:
    """The filter asked for: ``status``, else the deprecated ``state``."""
    return status if status is not None else state
