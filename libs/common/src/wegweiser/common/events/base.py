"""Base of every integration event and the code lists events share (docs/architecture.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common import topics
from wegweiser.common.personal_data import Personal

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


ClosureReason = Literal[
    "time_limit", "goals_met", "relocated", "moved_away", "declined", "no_contact", "other"
]
GoalStatus = Literal["open", "in_progress", "achieved", "dropped"]
Programme = Literal[
    "integrationskurs", "berufssprachkurs", "mbe", "jmd", "agentur_fuer_arbeit", "jobcenter",
    "anerkennungsberatung", "kita_schule", "psychosozial", "sonstige",
]  # fmt: skip
"""Referral targets of docs/domain.md; the referrals catalogue describes each (names, minimum data)."""


class Event(BaseModel):
    """Base of every integration event; ClassVars say where it travels and under which type."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: ClassVar[str]  # the producing service, e.g. "intake"
    name: ClassVar[str]  # e.g. "arrival.registered"
    version: ClassVar[int] = 1
    topic: ClassVar[topics.TopicSpec]
    namespace: ClassVar[str] = ""  # distinguishes a pseudonymous twin, e.g. "facts"
    personal: ClassVar[tuple[Personal, ...]] = ()
    """Personal fields sealed per person on Kafka (``wegweiser.common.personal_data``)."""

    @classmethod
    def ce_type(cls) -> str:
        parts = ["de.wegweiser", cls.source, cls.namespace, cls.name, f"v{cls.version}"]
        return ".".join(p for p in parts if p)

    def subject(self) -> str:
        """The aggregate id (``ce_subject``): events of one subject are applied strictly in order."""
        raise NotImplementedError

    def key(self) -> str:
        """The Kafka key: the municipality key, except on the catalogue and indicator feeds."""
        raise NotImplementedError


class MunicipalEvent(Event):
    """An event about something in one municipality: keyed by its AGS, so isolation works per AGS."""

    ags: str = Field(description="Municipality key; the Kafka key")

    def key(self) -> str:
        return self.ags
