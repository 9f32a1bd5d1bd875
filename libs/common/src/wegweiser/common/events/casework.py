"""Events of the casework service.

On cases.v1 (pseudonymous: no names, no notes, persons only as HMAC pseudonyms; staff as opaque ids):
the case lifecycle. On referrals.requests.v1 (personal, consented): ``referral.requested``, carrying only
the minimum data of the programme and the consent as granted, so referrals never joins the consent stream.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common import topics
from wegweiser.common.events.base import (
    Channel,
    ClosureReason,
    ConsultationType,
    GoalStatus,
    Handlungsfeld,
    MunicipalEvent,
    Programme,
)
from wegweiser.common.personal_data import Personal


class _CaseEvent(MunicipalEvent):
    source: ClassVar[str] = "casework"
    topic: ClassVar[topics.TopicSpec] = topics.CASES

    case_id: uuid.UUID

    def subject(self) -> str:
        return str(self.case_id)


class CaseOpened(_CaseEvent):
    name: ClassVar[str] = "case.opened"

    provider_id: str
    arrival_id: uuid.UUID | None = Field(None, description="None for a walk-in case")
    walk_in: bool = False
    allocation_date: dt.date | None = Field(None, description="of the arrival; days-to-first-consultation")
    opened_on: dt.date
    household_size: int
    person_pseudonyms: tuple[str, ...] = ()


class CaseAssigned(_CaseEvent):
    name: ClassVar[str] = "case.assigned"

    provider_id: str
    counsellor_id: str | None = None
    team_id: str | None = None
    assigned_on: dt.date


class ConsultationRecorded(_CaseEvent):
    name: ClassVar[str] = "consultation.recorded"

    consultation_id: uuid.UUID
    held_on: dt.date
    duration_minutes: int
    type: ConsultationType
    channel: Channel
    interpreter_used: bool = False
    interpreter_language: str | None = None
    handlungsfelder: tuple[Handlungsfeld, ...] = ()
    persons_present: int = 1
    person_pseudonyms: tuple[str, ...] = Field((), description="who was present")
    counsellor_id: str | None = None


class GoalSet(_CaseEvent):
    name: ClassVar[str] = "plan.goal_set"

    goal_id: uuid.UUID
    handlungsfeld: Handlungsfeld
    set_on: dt.date
    target_date: dt.date | None = None
    person_pseudonym: str | None = None


class GoalStatusChanged(_CaseEvent):
    name: ClassVar[str] = "plan.goal_status_changed"

    goal_id: uuid.UUID
    handlungsfeld: Handlungsfeld
    status: GoalStatus
    changed_on: dt.date


class ConsentGranted(_CaseEvent):
    name: ClassVar[str] = "consent.granted"

    consent_id: uuid.UUID
    programme: Programme
    partner_id: str | None = Field(None, description="set when the consent is restricted to one partner")
    granted_on: dt.date
    person_pseudonym: str
    by_guardian: bool = False
    language: str = "de"


class ConsentWithdrawn(_CaseEvent):
    name: ClassVar[str] = "consent.withdrawn"

    consent_id: uuid.UUID
    withdrawn_on: dt.date


class CaseTransferred(_CaseEvent):
    """Keyed by the new AGS; from here on the case's events carry the new key."""

    name: ClassVar[str] = "case.transferred"

    from_ags: str
    from_provider_id: str
    to_provider_id: str
    transferred_on: dt.date
    notes_transferred: bool = Field(False, description="notes and Art. 9 data follow only with consent")


class CaseClosed(_CaseEvent):
    name: ClassVar[str] = "case.closed"

    closed_on: dt.date
    reason: ClosureReason


class CaseErased(_CaseEvent):
    """Casework erased the case's personal data (retention period over, or on request): consumers
    that hold personal data about the case erase theirs now. The case id stays as a tombstone."""

    name: ClassVar[str] = "case.erased"

    erased_on: dt.date
    reason: Literal["retention", "request"]
    arrival_id: uuid.UUID | None = Field(
        None, description="the arrival the case was opened for (intake erases it too); None for a walk-in"
    )


# --- referral requests (referrals.requests.v1, personal, consented) -------------------------------


class ConsentScope(BaseModel):
    """The consent as granted, carried along so referrals can check it without another stream."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    consent_id: uuid.UUID
    programme: Programme
    partner_id: str | None = None
    granted_on: dt.date


class ReferralPerson(BaseModel):
    """Only what the programme needs (its catalogue entry lists the fields); everything else stays None."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    person_pseudonym: str
    family_name: str | None = None
    given_names: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None
    languages: tuple[str, ...] | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class ReferralRequested(MunicipalEvent):
    source: ClassVar[str] = "casework"
    name: ClassVar[str] = "referral.requested"
    topic: ClassVar[topics.TopicSpec] = topics.REFERRAL_REQUESTS
    personal: ClassVar[tuple[Personal, ...]] = (
        Personal(at=None, person="person.person_pseudonym", fields=("note_for_partner",), scope="case_id"),
        Personal(at="person", person="person_pseudonym", keep=("person_pseudonym",), scope="case_id"),
    )

    referral_id: uuid.UUID
    case_id: uuid.UUID
    provider_id: str
    programme: Programme
    partner_id: str | None = Field(None, description="the partner the person chose, if any")
    requested_on: dt.date
    consent: ConsentScope
    person: ReferralPerson
    note_for_partner: str | None = Field(None, max_length=2000)

    def subject(self) -> str:
        return str(self.referral_id)
