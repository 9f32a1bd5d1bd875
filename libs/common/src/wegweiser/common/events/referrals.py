"""Events of the referrals service on referrals.status.v1 (pseudonymous): every lifecycle transition.

requested → sent → accepted / declined → started → completed / dropped; expired when the partner
never answers; unroutable when no partner serves the programme there (ARCHITECTURE §3, DOMAIN.md).
Catalogue and partner-topic messages live beside these as the referrals service adds them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from pydantic import Field

from wegweiser.common import topics
from wegweiser.common.events.base import MunicipalEvent, Programme


class _ReferralStatus(MunicipalEvent):
    source: ClassVar[str] = "referrals"
    topic: ClassVar[topics.TopicSpec] = topics.REFERRAL_STATUS

    referral_id: uuid.UUID
    case_id: uuid.UUID
    programme: Programme
    partner_id: str | None = None
    requested_on: dt.date = Field(description="when casework requested it; for durations")
    occurred_at: dt.datetime

    def subject(self) -> str:
        return str(self.referral_id)


class ReferralSent(_ReferralStatus):
    name: ClassVar[str] = "referral.sent"


class ReferralAccepted(_ReferralStatus):
    name: ClassVar[str] = "referral.accepted"


class ReferralDeclined(_ReferralStatus):
    name: ClassVar[str] = "referral.declined"

    reason: str


class ReferralStarted(_ReferralStatus):
    name: ClassVar[str] = "referral.started"

    started_on: dt.date


class ReferralCompleted(_ReferralStatus):
    name: ClassVar[str] = "referral.completed"


class ReferralDropped(_ReferralStatus):
    name: ClassVar[str] = "referral.dropped"

    reason: str | None = None


class ReferralExpired(_ReferralStatus):
    name: ClassVar[str] = "referral.expired"


class ReferralUnroutable(_ReferralStatus):
    """Refused before sending: no partner, unknown programme, or consent not covering it."""

    name: ClassVar[str] = "referral.unroutable"

    reason: str
