"""Events of the intake service: personal ones on arrivals.v1, pseudonymous twins on facts.v1.

Statistics reads only the twins (``namespace = "facts"``): HMAC pseudonyms, age bands, codes, dates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common import topics
from wegweiser.common.events.base import AgeBand, MunicipalEvent, ResidenceStatus, Role, Sex
from wegweiser.common.personal_data import Personal

SEALED_PERSONS = (Personal(at="persons", person="person_id", keep=("person_id", "role"), scope="arrival_id"),)
"""Everything about a person but their id and household role travels sealed. The keys are scoped by the
arrival, so erasing it shreds the keys of everyone it ever named (a correction may drop a person)."""


class _ArrivalEvent(MunicipalEvent):
    source: ClassVar[str] = "intake"
    topic: ClassVar[topics.TopicSpec] = topics.ARRIVALS

    arrival_id: uuid.UUID

    def subject(self) -> str:
        return str(self.arrival_id)


class _ArrivalFact(_ArrivalEvent):
    namespace: ClassVar[str] = "facts"
    topic: ClassVar[topics.TopicSpec] = topics.INTAKE_FACTS


# --- personal (arrivals.v1) -----------------------------------------------------------------------


class ArrivedPerson(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    person_id: uuid.UUID
    role: Role
    family_name: str
    given_names: str
    family_name_latin: str | None = None
    given_names_latin: str | None = None
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    sex: Sex = "unknown"
    nationalities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    residence_status: ResidenceStatus = "other"
    phone: str | None = None
    email: str | None = None


class ArrivalRegistered(_ArrivalEvent):
    name: ClassVar[str] = "arrival.registered"
    personal: ClassVar[tuple[Personal, ...]] = SEALED_PERSONS

    authority_id: str
    authority_reference: str
    allocation_date: dt.date
    facility: str | None = None
    persons: tuple[ArrivedPerson, ...]


class ArrivalCorrected(_ArrivalEvent):
    """The arrival as it is now (a full snapshot), and which fields the authority corrected."""

    name: ClassVar[str] = "arrival.corrected"
    personal: ClassVar[tuple[Personal, ...]] = SEALED_PERSONS

    authority_id: str
    authority_reference: str
    allocation_date: dt.date
    facility: str | None = None
    persons: tuple[ArrivedPerson, ...]
    corrected_fields: tuple[str, ...] = ()


class ArrivalRelocated(_ArrivalEvent):
    """Keyed by the old AGS (``ags``), so it stays in order with the arrival's earlier events."""

    name: ClassVar[str] = "arrival.relocated"

    new_ags: str
    relocated_on: dt.date


class ArrivalWithdrawn(_ArrivalEvent):
    name: ClassVar[str] = "arrival.withdrawn"

    withdrawn_on: dt.date
    reason: str | None = None
    merged_into: uuid.UUID | None = Field(
        None, description="Set when a reviewer merged this arrival into another (reason 'merged')"
    )


class DuplicateFlagged(_ArrivalEvent):
    """A probable duplicate for a human to review; never merged automatically."""

    name: ClassVar[str] = "duplicate.flagged"

    person_id: uuid.UUID
    candidate_arrival_id: uuid.UUID
    candidate_person_id: uuid.UUID
    match: str = Field(description="why they look alike, e.g. 'phonetic-name+dob+nationality'")
    flag_id: uuid.UUID | None = Field(None, description="The review item (POST /v1/duplicates/{id}/merge)")


# --- pseudonymous twins (facts.v1) -----------------------------------------------------------------


class PersonFact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    pseudonym: str = Field(description="HMAC-SHA256 of the person id; statistics never holds the key")
    role: Role
    age_band: AgeBand
    sex: Sex
    nationalities: tuple[str, ...] = ()
    residence_status: ResidenceStatus = "other"


class ArrivalRegisteredFact(_ArrivalFact):
    name: ClassVar[str] = "arrival.registered"

    allocation_date: dt.date
    household_size: int
    persons: tuple[PersonFact, ...]


class ArrivalCorrectedFact(_ArrivalFact):
    name: ClassVar[str] = "arrival.corrected"

    allocation_date: dt.date
    household_size: int
    persons: tuple[PersonFact, ...]


class ArrivalRelocatedFact(_ArrivalFact):
    name: ClassVar[str] = "arrival.relocated"

    new_ags: str
    relocated_on: dt.date


class ArrivalWithdrawnFact(_ArrivalFact):
    name: ClassVar[str] = "arrival.withdrawn"

    withdrawn_on: dt.date
    merged_into: uuid.UUID | None = Field(None, description="Counted already under this arrival")


class DuplicateFlaggedFact(_ArrivalFact):
    name: ClassVar[str] = "duplicate.flagged"

    candidate_arrival_id: uuid.UUID
    flag_id: uuid.UUID | None = None
