"""The arrival aggregate: a household allocated by an authority to a municipality on a date."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wegweiser.common.events import ResidenceStatus, Role, Sex

PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class ArrivalRejected(ValueError):
    """A rule of the domain refuses the arrival; ``field`` names the offending input."""

    def __init__(self, field: str, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_de = message_de
        self.message_en = message_en


def parse_partial_date(value: str) -> tuple[int, int | None, int | None]:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raises ValueError for anything else or an impossible date."""
    if not PARTIAL_DATE.match(value):
        raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    year, month, day = parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None
    dt.date(year, month or 1, day or 1)  # raises for month 13 or 31 February
    return year, month, day


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    role: Role
    family_name: str = Field(min_length=1, max_length=200)
    given_names: str = Field(min_length=1, max_length=200)
    date_of_birth: str | None = Field(None, examples=["1990-04-17", "1990-04", "1990"])
    sex: Sex = "unknown"
    nationalities: tuple[str, ...] = Field((), max_length=5)
    languages: tuple[str, ...] = Field((), max_length=10)
    residence_status: ResidenceStatus = "other"

    @field_validator("date_of_birth")
    @classmethod
    def _partial_date(cls, value: str | None) -> str | None:
        if value is not None:
            parse_partial_date(value)
        return value

    @field_validator("nationalities")
    @classmethod
    def _iso3166(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
        return value

    @field_validator("languages")
    @classmethod
    def _iso639(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not an ISO 639 code")
        return value

    def age_band(self, on: dt.date) -> str:
        if self.date_of_birth is None:
            return "unknown"
        year, month, day = parse_partial_date(self.date_of_birth)
        age = on.year - year - ((on.month, on.day) < (month or 7, day or 1))
        for upper, band in (
            (5, "0-5"),
            (11, "6-11"),
            (17, "12-17"),
            (26, "18-26"),
            (44, "27-44"),
            (64, "45-64"),
        ):
            if age <= upper:
                return band
        return "65+"


class Arrival(BaseModel):
    model_config = ConfigDict(frozen=True)

    arrival_id: uuid.UUID
    authority_id: str
    authority_reference: str
    ags: str
    allocation_date: dt.date
    persons: tuple[Person, ...]
    status: str = "registered"


def check_arrival(arrival: Arrival, *, today: dt.date, is_allocation_target: bool) -> None:
    """Rules beyond field syntax; raises ArrivalRejected with a German and an English message."""
    if not is_allocation_target:
        raise ArrivalRejected(
            "ags",
            f"{arrival.ags} ist keine bewohnte Gemeinde des Gemeindeverzeichnisses.",
            f"{arrival.ags} is not a populated municipality of the catalogue.",
        )
    if arrival.allocation_date > today:
        raise ArrivalRejected(
            "allocation_date",
            "Das Zuweisungsdatum liegt in der Zukunft.",
            "The allocation date lies in the future.",
        )
    for index, person in enumerate(arrival.persons):
        if person.date_of_birth is None:
            continue
        year, month, day = parse_partial_date(person.date_of_birth)
        if dt.date(year, month or 1, day or 1) > today or year < 1900:
            raise ArrivalRejected(
                f"persons.{index}.date_of_birth",
                "Das Geburtsdatum ist nicht möglich.",
                "The date of birth is impossible.",
            )
    if sum(p.role == "head" for p in arrival.persons) != 1:
        raise ArrivalRejected(
            "persons",
            "Ein Haushalt hat genau eine Person mit der Rolle 'head'.",
            "A household has exactly one person with role 'head'.",
        )
