"""The API's request and response bodies; domain models serve as bodies where they fit as they are."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from wegweiser.casework.domain.model import (
    Case,
    CasePerson,
    Consent,
    Consultation,
    Goal,
    Referral,
    TimeLimit,
)
from wegweiser.common import names
from wegweiser.common.events import ClosureReason, GoalStatus, Handlungsfeld, Programme
from wegweiser.common.localtime import today


class CaseOut(BaseModel):
    case_id: uuid.UUID
    ags: str
    provider_id: str
    arrival_id: uuid.UUID | None
    walk_in: bool
    opened_on: dt.date
    status: str
    household_size: int
    counsellor_id: str | None
    team_id: str | None
    closed_on: dt.date | None
    closure_reason: str | None
    time_limit: TimeLimit

    @classmethod
    def of(cls, case: Case, limit: TimeLimit | None = None) -> CaseOut:
        return cls(
            **case.model_dump(
                include={"case_id", "ags", "provider_id", "arrival_id", "walk_in", "opened_on"}
            ),
            status=case.status,
            household_size=len(case.persons),
            counsellor_id=case.assignment.counsellor_id,
            team_id=case.assignment.team_id,
            closed_on=case.closed_on,
            closure_reason=case.closure_reason,
            time_limit=limit or case.time_limit(today=today()),
        )


class ConsultationOut(Consultation):
    recorded_by: str
    note_restricted: bool = Field(False, description="a note exists but the caller may not read it")


class GoalOut(Goal):
    description_transferred: bool = True


class CaseDetail(CaseOut):
    persons: list[CasePerson]
    extension_justification: str | None
    consultations: list[ConsultationOut]
    goals: list[GoalOut]
    consents: list[Consent]
    referrals: list[Referral]


def as_written(value: Any) -> Any:
    """NFC, and no bidi control or other invisible character: a name must read as it is stored."""
    if not isinstance(value, str):
        return value  # the str validation answers
    found = names.invisible_character(value)
    if found is not None:
        raise PydanticCustomError(
            "invisible_character",
            "Invisible control character {code_point} is not allowed in a name.",
            {"code_point": f"U+{ord(found):04X}"},
        )
    return names.normalised(value)


Name = Annotated[str, BeforeValidator(as_written), Field(min_length=1, max_length=200)]


class WalkInPerson(BaseModel):
    family_name: Name
    given_names: Name
    role: Literal["head", "partner", "child", "other"] = "head"
    date_of_birth: str | None = Field(None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    sex: Literal["female", "male", "diverse", "unknown"] = "unknown"
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], ...] = ()
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)


class WalkInCase(BaseModel):
    ags: str = Field(pattern=r"^\d{8}$")
    opened_on: dt.date
    persons: list[WalkInPerson] = Field(min_length=1, max_length=30)


class AssignmentIn(BaseModel):
    counsellor_id: str | None = Field(None, max_length=200)
    team_id: str | None = Field(None, max_length=100)


class GoalIn(BaseModel):
    handlungsfeld: Handlungsfeld
    description: str = Field(min_length=3, max_length=2000)
    person_id: uuid.UUID | None = None
    set_on: dt.date
    target_date: dt.date | None = None


class GoalStatusIn(BaseModel):
    status: GoalStatus


class WithdrawalIn(BaseModel):
    withdrawn_on: dt.date | None = None


class ReferralIn(BaseModel):
    person_id: uuid.UUID
    programme: Programme
    partner_id: str | None = Field(None, max_length=100)
    note_for_partner: str | None = Field(None, max_length=2000)


class ClosureIn(BaseModel):
    reason: ClosureReason
    closed_on: dt.date


class ExtensionIn(BaseModel):
    justification: str = Field(min_length=10, max_length=4000)


class ContactIn(BaseModel):
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    # The length applies to the text only: on ``str | None`` it would fail on null with a 500.
    address: Annotated[Annotated[str, Field(max_length=300)] | None, BeforeValidator(as_written)] = None


class ProviderIn(BaseModel):
    name: str = Field(min_length=2, max_length=300)
    kind: Literal["municipality", "landratsamt", "welfare"]
    ags: list[Annotated[str, Field(pattern=r"^\d{8}$")]] = Field(min_length=1)


class TeamIn(BaseModel):
    provider_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=2, max_length=300)


class StaffIn(BaseModel):
    display_name: str = Field(min_length=2, max_length=300)
    role: Literal["counsellor", "supervisor", "admin"]
    provider_id: str | None = Field(None, max_length=100)
    team_id: str | None = Field(None, max_length=100)
    active: bool = True


class RuleIn(BaseModel):
    provider_id: str = Field(min_length=1, max_length=100)


class ProgrammeOut(BaseModel):
    code: str
    name_de: str
    name_en: str
    person_fields: list[str]
    source: Literal["catalogue", "built-in"]


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    programmes: list[str]
    ags: list[str]


class CatalogueOut(BaseModel):
    programmes: list[ProgrammeOut]
    partners: list[PartnerOut]


class ErasureOut(BaseModel):
    case_id: uuid.UUID
    status: Literal["erased"] = "erased"
    erased_now: bool = Field(description="false: the case had been erased before")
    records: dict[str, int] = Field(description="persons and records erased now, by kind")


class TeamCaseloadOut(BaseModel):
    team_id: str | None
    team_name: str | None
    members: list[dict[str, Any]]
    open_cases: int


class AuditEntryOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    provider_id: str | None
    case_id: uuid.UUID | None
    action: str
    detail: dict[str, Any]
