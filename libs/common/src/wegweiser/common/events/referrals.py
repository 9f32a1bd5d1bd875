"""Events of the referrals service: lifecycle status, the catalogue, and the messages partners exchange.

On referrals.status.v1 (pseudonymous): every lifecycle transition, requested → sent → accepted /
declined → started → completed / dropped; expired when the partner never answers; unroutable when the
request cannot go anywhere (docs/architecture.md, docs/domain.md). Reasons are codes, never free
text, because the status topic is kept long and read by statistics.
On referrals.catalogue.v1 (compacted, keyed ``programme:<code>`` / ``partner:<id>``): programmes and
partners as published; a removed partner gets ``partner.removed`` and then a tombstone.
On ``wegweiser.partner.<id>.referrals.v1`` (personal, that partner only): the referral with only the
programme's minimum personal data, reminders, withdrawals and rejected feedback. On
``wegweiser.partner.<id>.feedback.v1`` (written by that partner only): the partner's answers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common import topics
from wegweiser.common.events.base import Event, MunicipalEvent, Programme

DeliveryMode = Literal["kafka", "webhook"]
PersonField = Literal[
    "family_name", "given_names", "date_of_birth", "sex", "languages", "phone", "email", "address"
]  # fmt: skip
"""Fields of ``ReferralPerson`` a programme may receive; its catalogue entry names the subset."""
DeclineReason = Literal[
    "no_capacity", "not_eligible", "outside_service_area", "person_unreachable", "duplicate", "other"
]  # fmt: skip
DropReason = Literal["person_withdrew", "no_show", "moved_away", "not_eligible", "consent_withdrawn", "other"]
FeedbackOutcome = Literal["accepted", "declined", "started", "completed", "dropped"]
ReferralStatus = Literal[
    "sent", "accepted", "declined", "started", "completed", "dropped", "expired", "unroutable"
]
UnroutableReason = Literal[
    "programme_unavailable", "consent_programme_mismatch", "consent_partner_mismatch", "unknown_partner",
    "partner_lacks_programme", "no_partner", "incomplete_person_data",
]  # fmt: skip

PARTNER_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
"""Lower-case letters, digits and '-': a partner id becomes part of topic, user and Kubernetes names."""


def partner_referrals_topic(partner_id: str) -> topics.TopicSpec:
    """The partner's inbound topic: referrals with personal data, readable by that partner only."""
    return topics.TopicSpec(
        f"wegweiser.partner.{partner_id}.referrals.v1", topics.PERSONAL_RETENTION_MS, personal_data=True
    )


def partner_feedback_topic(partner_id: str) -> topics.TopicSpec:
    """The partner's outbound topic: its answers, writable by that partner only."""
    return topics.TopicSpec(
        f"wegweiser.partner.{partner_id}.feedback.v1", topics.PERSONAL_RETENTION_MS, personal_data=True
    )


PARTNER_REFERRALS = partner_referrals_topic("{partner_id}")
"""Template of the per-partner topics; the referrals service creates one pair per partner."""
PARTNER_FEEDBACK = partner_feedback_topic("{partner_id}")


class _ReferralStatus(MunicipalEvent):
    source: ClassVar[str] = "referrals"
    topic: ClassVar[topics.TopicSpec] = topics.REFERRAL_STATUS
    # The referral's status after this event; None: the event changes no status (a reminder).
    referral_status: ClassVar[ReferralStatus | None] = None

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
    referral_status: ClassVar[ReferralStatus | None] = "sent"


class ReferralAccepted(_ReferralStatus):
    name: ClassVar[str] = "referral.accepted"
    referral_status: ClassVar[ReferralStatus | None] = "accepted"


class ReferralDeclined(_ReferralStatus):
    name: ClassVar[str] = "referral.declined"
    referral_status: ClassVar[ReferralStatus | None] = "declined"

    reason: str = Field(description="a DeclineReason code, e.g. no_capacity")


class ReferralStarted(_ReferralStatus):
    name: ClassVar[str] = "referral.started"
    referral_status: ClassVar[ReferralStatus | None] = "started"

    started_on: dt.date


class ReferralCompleted(_ReferralStatus):
    name: ClassVar[str] = "referral.completed"
    referral_status: ClassVar[ReferralStatus | None] = "completed"


class ReferralDropped(_ReferralStatus):
    name: ClassVar[str] = "referral.dropped"
    referral_status: ClassVar[ReferralStatus | None] = "dropped"

    reason: str | None = None


class ReferralExpired(_ReferralStatus):
    name: ClassVar[str] = "referral.expired"
    referral_status: ClassVar[ReferralStatus | None] = "expired"


class ReferralUnroutable(_ReferralStatus):
    """Refused before sending: no partner, unknown programme, or consent not covering it."""

    name: ClassVar[str] = "referral.unroutable"
    referral_status: ClassVar[ReferralStatus | None] = "unroutable"

    reason: str = Field(description="a code (UnroutableReason), e.g. no_partner")
    reason_de: str | None = Field(None, description="the reason for the counsellor, in German")
    reason_en: str | None = Field(None, description="the reason for the counsellor, in English")


class ReferralReminded(_ReferralStatus):
    """The partner has not answered within the reminder period; it was reminded once."""

    name: ClassVar[str] = "referral.reminded"

    expires_at: dt.datetime = Field(description="when the referral expires without an answer")


REFERRAL_STATUS_OF: dict[type[Event], ReferralStatus] = {
    cls: status for cls in _ReferralStatus.__subclasses__() if (status := cls.referral_status) is not None
}
"""The referral's status after each lifecycle event (casework's case view, statistics' outcomes)."""


# --- catalogue (referrals.catalogue.v1, compacted) --------------------------------------------------


class _CatalogueEvent(Event):
    source: ClassVar[str] = "referrals"
    namespace: ClassVar[str] = "catalogue"
    topic: ClassVar[topics.TopicSpec] = topics.REFERRAL_CATALOGUE

    published_at: dt.datetime


class ProgrammePublished(_CatalogueEvent):
    """A programme as offered, with the personal fields a referral to it may carry."""

    name: ClassVar[str] = "programme.published"

    programme: Programme
    name_de: str
    name_en: str
    description_de: str = ""
    description_en: str = ""
    legal_basis: str | None = None
    person_fields: tuple[PersonField, ...] = Field(description="the only personal fields sent to partners")
    required_fields: tuple[PersonField, ...] = Field((), description="without these a request is refused")
    active: bool = True

    def subject(self) -> str:
        return f"programme:{self.programme}"

    def key(self) -> str:
        return self.subject()


class PartnerPublished(_CatalogueEvent):
    """A partner agency: what it offers, where, and how it receives referrals."""

    name: ClassVar[str] = "partner.published"

    partner_id: str
    organisation: str = Field(description="the organisation's name as shown to counsellors")
    programmes: tuple[Programme, ...]
    ags: tuple[str, ...] = Field((), description="municipalities served")
    kreise: tuple[str, ...] = Field((), description="Kreise served as a whole")
    laender: tuple[str, ...] = Field((), description="Länder served as a whole")
    delivery: DeliveryMode
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None
    capacity_note: str | None = None
    active: bool = True

    def subject(self) -> str:
        return f"partner:{self.partner_id}"

    def key(self) -> str:
        return self.subject()


class PartnerRemoved(_CatalogueEvent):
    """The partner no longer receives referrals; a tombstone for its key follows on the compacted topic."""

    name: ClassVar[str] = "partner.removed"

    partner_id: str

    def subject(self) -> str:
        return f"partner:{self.partner_id}"

    def key(self) -> str:
        return self.subject()


# --- partner topics (wegweiser.partner.<id>.referrals.v1 / .feedback.v1) -----------------------------


class PartnerPerson(BaseModel):
    """The person as a partner sees them: only the programme's fields are set, no pseudonym, no case id."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    family_name: str | None = None
    given_names: str | None = None
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    sex: str | None = None
    languages: tuple[str, ...] | None = Field(None, description="ISO 639 codes, preferred first")
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class _PartnerMessage(MunicipalEvent):
    source: ClassVar[str] = "referrals"
    namespace: ClassVar[str] = "partner"
    topic: ClassVar[topics.TopicSpec] = PARTNER_REFERRALS

    referral_id: uuid.UUID = Field(description="quote it in every answer")
    partner_id: str

    def subject(self) -> str:
        return str(self.referral_id)


class PartnerReferralOffered(_PartnerMessage):
    """A referral for the partner: answer with accepted or declined before ``respond_by``."""

    name: ClassVar[str] = "referral.offered"

    programme: Programme
    municipality: str | None = Field(None, description="name of the municipality (ags)")
    requested_on: dt.date
    respond_by: dt.datetime = Field(description="without an answer by then the referral expires")
    referring_provider_id: str = Field(description="the counselling provider organisation")
    person: PartnerPerson = Field(
        default_factory=PartnerPerson, description="empty on Kafka topics: read it from ``person_url``"
    )
    note_for_partner: str | None = None
    person_url: str | None = Field(
        None,
        description="Kafka partners (since 1.2.0): the person and the note are not on the topic; GET this "
        "path of the partner API with your partner token while the referral is live (then 410 or 404)",
    )

    def claim_check(self) -> PartnerReferralOffered:
        """The offer as a Kafka partner's topic holds it: no personal data, only where to read it."""
        return self.model_copy(
            update={
                "person": PartnerPerson(),
                "note_for_partner": None,
                "person_url": f"/v1/partner/referrals/{self.referral_id}/person",
            }
        )


class PartnerReferralReminder(_PartnerMessage):
    """No answer yet: the referral expires at ``respond_by``."""

    name: ClassVar[str] = "referral.reminder"

    respond_by: dt.datetime


class PartnerReferralWithdrawn(_PartnerMessage):
    """The referral is withdrawn or expired: stop, and delete the personal data received for it."""

    name: ClassVar[str] = "referral.withdrawn"

    reason: Literal["consent_withdrawn", "expired"]


class PartnerReferralErased(_PartnerMessage):
    """The person's data was erased on our side (retention over, or at the person's request): delete
    now everything received for this referral, whatever its state. Answers to it are refused from now."""

    name: ClassVar[str] = "referral.erased"

    reason: Literal["retention", "request"]


class PartnerFeedbackRejected(_PartnerMessage):
    """An answer on the feedback topic could not be applied; nothing changed."""

    name: ClassVar[str] = "feedback.rejected"

    feedback_id: uuid.UUID
    code: str = Field(description="e.g. unknown_referral, invalid_transition, reason_required")
    detail_de: str
    detail_en: str


class PartnerFeedback(MunicipalEvent):
    """A partner's answer on its own feedback topic; ``feedback_id`` makes a resend a no-op."""

    source: ClassVar[str] = "partner"
    name: ClassVar[str] = "referral.feedback"
    topic: ClassVar[topics.TopicSpec] = PARTNER_FEEDBACK

    referral_id: uuid.UUID
    feedback_id: uuid.UUID = Field(description="chosen by the partner, unique per answer; resends reuse it")
    outcome: FeedbackOutcome
    reason: DeclineReason | DropReason | None = Field(None, description="required for declined")
    started_on: dt.date | None = Field(None, description="for started; defaults to the day received")
    occurred_at: dt.datetime | None = None

    def subject(self) -> str:
        return str(self.referral_id)
