"""The case aggregate: one per household, owned by exactly one provider organisation.

Pure: the standard library and pydantic only. Every rule a counsellor can run into lives here, so the
web UI, the API and the consumers refuse the same things for the same reasons (``CaseRefused.code``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wegweiser.common.events import (
    Channel,
    ClosureReason,
    ConsultationType,
    GoalStatus,
    Handlungsfeld,
    Programme,
)
from wegweiser.common.retention import RetentionPeriod

CaseStatus = Literal["open", "closed", "erased"]
"""``erased``: closed, and its personal data erased after the retention period or on request; the row
stays as a tombstone (ids, municipality, provider, dates, closure reason) so late events find it."""
ReferralStatus = Literal[
    "requested", "sent", "accepted", "declined", "started", "completed", "dropped", "expired", "unroutable"
]
TERMINAL_REFERRAL_STATES: frozenset[str] = frozenset(
    {"declined", "completed", "dropped", "expired", "unroutable"}
)
ConsentPurpose = Literal[
    "integrationskurs", "berufssprachkurs", "mbe", "jmd", "agentur_fuer_arbeit", "jobcenter",
    "anerkennungsberatung", "kita_schule", "psychosozial", "sonstige", "case_transfer",
]  # fmt: skip
"""A programme (consent to a referral) or ``case_transfer`` (notes and Art. 9 data may follow a move)."""

ART9_FIELDS: frozenset[str] = frozenset({"gesundheit_psychosozial"})
"""Handlungsfelder whose free text is Art. 9 data (health): it follows a transfer only with consent."""

TIME_LIMIT_YEARS = 3
EXTENDED_LIMIT_YEARS = 4
WARN_DAYS_BEFORE_LIMIT = 90
LANGUAGE_CODE = r"^[a-z]{2,3}$"


class CaseRefused(ValueError):
    """The case's state forbids the operation; ``code`` names the reason for the message catalogue."""

    def __init__(self, code: str, message: str, *, field: str | None = None, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.params = params


class CasePerson(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: uuid.UUID
    role: str
    family_name: str
    given_names: str
    date_of_birth: str | None = None
    sex: str = "unknown"
    languages: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_names}"

    def is_minor(self, *, today: dt.date) -> bool:
        """Unknown or partial dates count conservatively: a year alone assumes the 31 December birthday."""
        born = _latest_birthday(self.date_of_birth)
        if born is None:
            return False
        adult_on = (
            born.replace(year=born.year + 18)
            if not (born.month == 2 and born.day == 29)
            else (dt.date(born.year + 18, 3, 1))
        )
        return today < adult_on


def _latest_birthday(value: str | None) -> dt.date | None:
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        following = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return dt.date(parts[0], parts[1], parts[2])


class Consultation(BaseModel):
    model_config = ConfigDict(frozen=True)

    consultation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    held_on: dt.date
    duration_minutes: int = Field(gt=0, le=600)
    type: ConsultationType
    channel: Channel
    interpreter_used: bool = False
    interpreter_language: str | None = Field(None, pattern=LANGUAGE_CODE)
    handlungsfelder: tuple[Handlungsfeld, ...] = ()
    persons_present: int = Field(1, ge=1, le=30)
    present_person_ids: tuple[uuid.UUID, ...] = Field((), description="household members who were there")
    note: str | None = Field(None, max_length=10_000, description="Restricted; never leaves casework")

    @model_validator(mode="after")
    def _interpreter_needs_language(self) -> Consultation:
        if self.interpreter_used and not self.interpreter_language:
            raise ValueError("interpreter_language is required when an interpreter was used")
        return self


class Goal(BaseModel):
    """A goal of the Integrationsplan, agreed with the person, per Handlungsfeld."""

    model_config = ConfigDict(frozen=True)

    goal_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    handlungsfeld: Handlungsfeld
    description: str = Field(min_length=3, max_length=2000)
    person_id: uuid.UUID | None = None
    set_on: dt.date
    target_date: dt.date | None = None
    status: GoalStatus = "open"
    status_changed_on: dt.date | None = None

    @model_validator(mode="after")
    def _target_after_start(self) -> Goal:
        if self.target_date is not None and self.target_date < self.set_on:
            raise ValueError("target_date lies before set_on")
        return self


GOAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "achieved", "dropped"}),
    "in_progress": frozenset({"open", "achieved", "dropped"}),
    "achieved": frozenset({"in_progress"}),
    "dropped": frozenset({"open"}),
}


class Consent(BaseModel):
    """Per purpose (a programme), optionally restricted to one partner; minors consent through a guardian."""

    model_config = ConfigDict(frozen=True)

    consent_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    person_id: uuid.UUID
    purpose: ConsentPurpose
    partner_id: str | None = Field(None, max_length=100)
    granted_on: dt.date
    by_guardian: bool = False
    guardian_name: str | None = Field(None, max_length=200)
    language: str = Field("de", pattern=LANGUAGE_CODE, description="language of the consent text")
    withdrawn_on: dt.date | None = None

    @field_validator("partner_id", "guardian_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _guardian_named(self) -> Consent:
        if self.by_guardian and not self.guardian_name:
            raise ValueError("guardian_name is required when a guardian consented")
        return self

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None

    def covers(self, *, person_id: uuid.UUID, programme: str, partner_id: str | None) -> bool:
        """Programme must match; a consent restricted to one partner covers only that partner."""
        if not self.active or self.person_id != person_id or self.purpose != programme:
            return False
        return self.partner_id is None or self.partner_id == partner_id


class Referral(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    person_id: uuid.UUID
    programme: Programme
    partner_id: str | None = None
    consent_id: uuid.UUID
    requested_on: dt.date
    status: ReferralStatus = "requested"
    status_at: dt.datetime | None = None
    status_reason: str | None = None
    status_reason_de: str | None = None
    status_reason_en: str | None = None


class Assignment(BaseModel):
    model_config = ConfigDict(frozen=True)

    counsellor_id: str | None = None
    team_id: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: uuid.UUID
    ags: str
    provider_id: str
    arrival_id: uuid.UUID | None = None  # None: a walk-in case, intake never saw it
    walk_in: bool = False
    opened_on: dt.date
    status: CaseStatus = "open"
    persons: tuple[CasePerson, ...] = ()
    assignment: Assignment = Assignment()
    closed_on: dt.date | None = None
    closure_reason: ClosureReason | None = None
    extension_justification: str | None = None
    notes_from_provider: str | None = Field(None, description="set after a transfer; whose notes are shown")

    def person(self, person_id: uuid.UUID) -> CasePerson:
        for p in self.persons:
            if p.person_id == person_id:
                return p
        raise CaseRefused("unknown_person", "person is not a member of this household", field="person_id")

    def check_open(self) -> None:
        if self.status != "open":
            raise CaseRefused("case_closed", "case is closed")

    def check_can_record(self, consultation: Consultation, *, today: dt.date) -> None:
        self.check_open()
        if consultation.held_on > today:
            raise CaseRefused("future_date", "consultation date lies in the future", field="held_on")
        if consultation.held_on < self.opened_on - dt.timedelta(days=366):
            raise CaseRefused("too_early", "consultation date lies before the case", field="held_on")
        for person_id in consultation.present_person_ids:
            self.person(person_id)

    def check_goal(self, goal: Goal, *, today: dt.date) -> None:
        self.check_open()
        if goal.person_id is not None:
            self.person(goal.person_id)
        if goal.set_on > today:
            raise CaseRefused("future_date", "date lies in the future", field="set_on")

    def check_consent(self, consent: Consent, *, today: dt.date) -> None:
        self.check_open()
        person = self.person(consent.person_id)
        if consent.granted_on > today:
            raise CaseRefused("future_date", "date lies in the future", field="granted_on")
        if person.is_minor(today=consent.granted_on) and not consent.by_guardian:
            raise CaseRefused("guardian_required", "a minor consents through a guardian", field="by_guardian")

    def close(self, *, reason: ClosureReason, on: dt.date, today: dt.date) -> Case:
        self.check_open()
        if on > today:
            raise CaseRefused("future_date", "date lies in the future", field="closed_on")
        if on < self.opened_on:
            raise CaseRefused("before_opening", "closure date lies before the case opened", field="closed_on")
        return self.model_copy(update={"status": "closed", "closed_on": on, "closure_reason": reason})

    def due_for_erasure(self, period: RetentionPeriod, *, today: dt.date) -> bool:
        """Closed longer ago than the retention period (counted from the closure date)."""
        if self.status != "closed" or self.closed_on is None:
            return False
        return period.is_due(self.closed_on, today=today)

    def erase(self) -> Case:
        """The tombstone: no person, no free text, no assignment; what statistics and audit need stays.

        Only a closed case: an open one is still being counselled, and statistics must see it close.
        """
        if self.status == "open":
            raise CaseRefused("case_open", "close the case before erasing it")
        return self.model_copy(
            update={
                "status": "erased",
                "persons": (),
                "assignment": Assignment(),
                "extension_justification": None,
                "notes_from_provider": None,
            }
        )

    def assign(self, assignment: Assignment) -> Case:
        self.check_open()
        if assignment.counsellor_id is None and assignment.team_id is None:
            raise CaseRefused("assignment_empty", "name a counsellor or a team", field="counsellor_id")
        return self.model_copy(update={"assignment": assignment})

    def extend(self, justification: str) -> Case:
        """Counselling may last a 4th year in a justified individual case (VwV Integrationsmanagement)."""
        self.check_open()
        if len(justification.strip()) < 10:
            raise CaseRefused("justification_short", "give a justification", field="justification")
        return self.model_copy(update={"extension_justification": justification.strip()})

    def time_limit(self, *, today: dt.date) -> TimeLimit:
        years = EXTENDED_LIMIT_YEARS if self.extension_justification else TIME_LIMIT_YEARS
        ends_on = _add_years(self.opened_on, years)
        days_left = (ends_on - today).days
        if self.status != "open":
            state = "closed"
        elif days_left < 0:
            state = "exceeded"
        elif days_left <= WARN_DAYS_BEFORE_LIMIT:
            state = "approaching"
        else:
            state = "ok"
        return TimeLimit(
            ends_on=ends_on, days_left=days_left, state=state, extended=bool(self.extension_justification)
        )


class TimeLimit(BaseModel):
    model_config = ConfigDict(frozen=True)

    ends_on: dt.date
    days_left: int
    state: Literal["ok", "approaching", "exceeded", "closed"]
    extended: bool


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_referral(
    case: Case, consents: list[Consent], *, person_id: uuid.UUID, programme: str, partner_id: str | None
) -> Consent:
    """The consent that covers this referral, or a refusal saying why none does."""
    case.check_open()
    case.person(person_id)
    candidates = [c for c in consents if c.person_id == person_id and c.purpose == programme and c.active]
    for consent in candidates:
        if consent.covers(person_id=person_id, programme=programme, partner_id=partner_id):
            return consent
    restricted = sorted({c.partner_id for c in candidates if c.partner_id})
    if restricted:
        raise refusal_naming(
            "consent_other_partner",
            "the consent covers only the partner {}",
            restricted,
            "partner_id",
            "partners",
        )
    raise CaseRefused(
        "consent_missing", "no valid consent of this person for this programme", field="programme"
    )


def refusal_naming(code: str, message: str, names: list[str], field: str, param: str) -> CaseRefused:
    """A refusal that lists what is at fault: in the message (at ``{}``) and as the parameter ``param``."""
    listed = ", ".join(names)
    return CaseRefused(code, message.format(listed), field=field, **{param: listed})


def notes_may_follow(consents: list[Consent]) -> bool:
    """Notes and Art. 9 data follow a move only with an active ``case_transfer`` consent (our rule: one
    member's consent suffices, since notes are kept per household)."""
    return any(c.purpose == "case_transfer" and c.active for c in consents)


def default_provider(kreis_ags: str) -> str:
    """Until an admin sets a rule for an AGS, new arrivals go to the Landratsamt / Stadtkreis (our choice)."""
    return f"kreis-{kreis_ags}"
