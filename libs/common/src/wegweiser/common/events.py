"""Integration events: one frozen, versioned pydantic model per type (ARCHITECTURE §3).

Tolerant readers: unknown fields are ignored. Within a version, changes are additive and optional only;
``tests/unit/test_event_schemas.py`` compares the models with the committed JSON Schemas.
Personal events (names, dates of birth) and their pseudonymous twins are separate classes on separate
topics, so statistics can be denied the personal topics entirely.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common import topics

Sex = Literal["female", "male", "diverse", "unknown"]
Role = Literal["head", "partner", "child", "other"]
ResidenceStatus = Literal[
    "asylum_seeker",
    "recognised_refugee",
    "subsidiary_protection",
    "temporary_protection_24",
    "duldung",
    "other",
]
AgeBand = Literal["0-5", "6-11", "12-17", "18-26", "27-44", "45-64", "65+", "unknown"]
ConsultationType = Literal["erstgespraech", "folgeberatung", "kurzberatung", "verweisberatung"]
Channel = Literal["persoenlich", "hausbesuch", "telefon", "video", "schriftlich"]
Handlungsfeld = Literal[
    "sprache",
    "arbeit_ausbildung",
    "bildung_schule_kita",
    "wohnen",
    "gesundheit_psychosozial",
    "aufenthalt_recht",
    "finanzen_leistungen",
    "familie",
    "gesellschaftliche_teilhabe",
    "rueckkehr",
]


class Event(BaseModel):
    """Base of every integration event; ClassVars say where it travels and under which type."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: ClassVar[str]  # the producing service, e.g. "intake"
    name: ClassVar[str]  # e.g. "arrival.registered"
    version: ClassVar[int] = 1
    topic: ClassVar[topics.TopicSpec]
    namespace: ClassVar[str] = ""  # distinguishes a pseudonymous twin, e.g. "facts"

    ags: str = Field(description="Municipality key; the Kafka key")

    @classmethod
    def ce_type(cls) -> str:
        parts = ["de.wegweiser", cls.source, cls.namespace, cls.name, f"v{cls.version}"]
        return ".".join(p for p in parts if p)

    def subject(self) -> str:
        """The aggregate id (``ce_subject``): events of one subject are applied strictly in order."""
        raise NotImplementedError

    def key(self) -> str:
        return self.ags


# --- intake: personal (arrivals.v1) ---------------------------------------------------------------


class ArrivedPerson(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    person_id: uuid.UUID
    role: Role
    family_name: str
    given_names: str
    date_of_birth: str | None = Field(None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    sex: Sex = "unknown"
    nationalities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    residence_status: ResidenceStatus = "other"


class ArrivalRegistered(Event):
    source: ClassVar[str] = "intake"
    name: ClassVar[str] = "arrival.registered"
    topic: ClassVar[topics.TopicSpec] = topics.ARRIVALS

    arrival_id: uuid.UUID
    authority_id: str
    authority_reference: str
    allocation_date: dt.date
    persons: tuple[ArrivedPerson, ...]

    def subject(self) -> str:
        return str(self.arrival_id)


# --- intake: pseudonymous twins (facts.v1) --------------------------------------------------------


class PersonFact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    pseudonym: str = Field(description="HMAC-SHA256 of the person id; statistics never holds the key")
    role: Role
    age_band: AgeBand
    sex: Sex
    nationalities: tuple[str, ...] = ()
    residence_status: ResidenceStatus = "other"


class ArrivalRegisteredFact(Event):
    source: ClassVar[str] = "intake"
    namespace: ClassVar[str] = "facts"
    name: ClassVar[str] = "arrival.registered"
    topic: ClassVar[topics.TopicSpec] = topics.INTAKE_FACTS

    arrival_id: uuid.UUID
    allocation_date: dt.date
    household_size: int
    persons: tuple[PersonFact, ...]

    def subject(self) -> str:
        return str(self.arrival_id)


# --- casework (cases.v1, pseudonymous) ------------------------------------------------------------


class CaseOpened(Event):
    source: ClassVar[str] = "casework"
    name: ClassVar[str] = "case.opened"
    topic: ClassVar[topics.TopicSpec] = topics.CASES

    case_id: uuid.UUID
    provider_id: str | None = None
    arrival_id: uuid.UUID | None = Field(None, description="None for a walk-in case")
    opened_on: dt.date
    household_size: int
    person_pseudonyms: tuple[str, ...] = ()

    def subject(self) -> str:
        return str(self.case_id)


class ConsultationRecorded(Event):
    source: ClassVar[str] = "casework"
    name: ClassVar[str] = "consultation.recorded"
    topic: ClassVar[topics.TopicSpec] = topics.CASES

    case_id: uuid.UUID
    consultation_id: uuid.UUID
    held_on: dt.date
    duration_minutes: int
    type: ConsultationType
    channel: Channel
    interpreter_used: bool = False
    interpreter_language: str | None = None
    handlungsfelder: tuple[Handlungsfeld, ...] = ()
    persons_present: int = 1

    def subject(self) -> str:
        return str(self.case_id)


REGISTRY: dict[str, type[Event]] = {
    cls.ce_type(): cls for cls in (ArrivalRegistered, ArrivalRegisteredFact, CaseOpened, ConsultationRecorded)
}
