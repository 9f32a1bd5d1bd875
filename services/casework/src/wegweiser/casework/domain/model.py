"""The case aggregate: one per household, owned by exactly one provider organisation."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common.events import Channel, ConsultationType, Handlungsfeld


class CaseRefused(ValueError):
    """The case's state forbids the operation (e.g. a consultation for a closed case)."""


class CasePerson(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: uuid.UUID
    role: str
    family_name: str
    given_names: str
    date_of_birth: str | None = None


class Consultation(BaseModel):
    model_config = ConfigDict(frozen=True)

    consultation_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    held_on: dt.date
    duration_minutes: int = Field(gt=0, le=600)
    type: ConsultationType
    channel: Channel
    interpreter_used: bool = False
    interpreter_language: str | None = Field(None, pattern=r"^[a-z]{2,3}$")
    handlungsfelder: tuple[Handlungsfeld, ...] = ()
    persons_present: int = Field(1, ge=1, le=30)
    note: str | None = Field(None, max_length=10_000, description="Restricted; never leaves casework")


class Case(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: uuid.UUID
    ags: str
    provider_id: str
    arrival_id: uuid.UUID | None
    opened_on: dt.date
    status: str = "open"
    persons: tuple[CasePerson, ...] = ()

    def check_can_record(self, consultation: Consultation, *, today: dt.date) -> None:
        if self.status != "open":
            raise CaseRefused("case is closed")
        if consultation.held_on > today:
            raise CaseRefused("consultation date lies in the future")


def default_provider(kreis_ags: str) -> str:
    """Until an admin sets a rule for an AGS, new arrivals go to the Landratsamt / Stadtkreis (our choice)."""
    return f"kreis-{kreis_ags}"
