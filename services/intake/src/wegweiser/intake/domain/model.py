"""The arrival aggregate: a household allocated by an authority to a municipality on a date."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from functools import lru_cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from wegweiser.common.events import ResidenceStatus, Role, Sex
from wegweiser.common.names import invisible_character, normalised
from wegweiser.common.retention import RetentionPeriod
from wegweiser.intake.domain.codes import LANGUAGES_639_1, NATIONALITIES
from wegweiser.intake.domain.phonetics import transliterate

PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
EARLIEST_BIRTH_YEAR = 1900

Status = Literal["registered", "corrected", "relocated", "withdrawn", "merged", "erased"]
"""``erased``: the retention period after the allocation date ended and the persons were erased; the
row keeps the authority's reference, AGS and dates, so a resent arrival is still recognised."""
ACTIVE: frozenset[str] = frozenset({"registered", "corrected", "relocated"})


def _as_written(value: Any) -> Any:
    """NFC ("Ne\u0301meth" is stored and counted as "Németh"), and no bidi control or other invisible
    format character: text must read as it is stored. Runs before the length and pattern checks."""
    if not isinstance(value, str):
        return value  # the str validation answers
    found = invisible_character(value)
    if found is not None:
        raise PydanticCustomError(
            "invisible_character",
            "Invisible control character {code_point} ({name}) is not allowed; please enter the text "
            "without formatting characters.",
            {"code_point": f"U+{ord(found):04X}", "name": unicodedata.name(found, "FORMAT CHARACTER")},
        )
    return normalised(value)


# Text as people type it: NFC; no control characters (PostgreSQL refuses NUL) nor invisible format
# characters (bidi overrides, zero-width spaces); not blank once stripped.
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"),
    BeforeValidator(_as_written),
]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
# Its own pattern (no control characters either), not Text's: OpenAPI shows one pattern per string.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
    ),
    BeforeValidator(_as_written),
]


class ArrivalRejected(ValueError):
    """A rule of the domain refuses the input (HTTP 422); ``field`` names the offending input."""

    def __init__(self, field: str, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.message_de = message_de
        self.message_en = message_en


class ArrivalConflict(ArrivalRejected):
    """The arrival's state does not allow the change, e.g. correcting a withdrawn arrival (HTTP 409)."""


@lru_cache(maxsize=65_536)
def parse_partial_date(value: str) -> tuple[int, int | None, int | None]:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raises ValueError for anything else or an impossible date."""
    if not PARTIAL_DATE.match(value):
        raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    year, month, day = parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None
    if year < 1:
        raise ValueError("year 0 does not exist")
    dt.date(year, month or 1, day or 1)  # raises for month 13 or 31 February
    return year, month, day


class PersonData(BaseModel):
    """What an authority says about one member of the household."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    family_name: Name = Field(description="As written in the documents, any script")
    given_names: Name = Field(description="As written in the documents, any script")
    family_name_latin: Name | None = Field(
        None, description="Latin transliteration; derived for Latin and Cyrillic names when omitted"
    )
    given_names_latin: Name | None = None
    date_of_birth: str | None = Field(
        None, description="Partial dates allowed", examples=["1990-04-17", "1990-04", "1990"]
    )
    sex: Sex = "unknown"
    nationalities: tuple[str, ...] = Field(
        (), max_length=5, description="ISO 3166-1 alpha-2; XK Kosovo, XX stateless or unresolved"
    )
    languages: tuple[str, ...] = Field((), max_length=10, description="ISO 639-1, -2 or -3 codes")
    residence_status: ResidenceStatus = "other"
    phone: Annotated[Text, Field(max_length=50)] | None = None
    email: Email | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _partial_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_partial_date(value)
            except ValueError:
                raise PydanticCustomError(
                    "partial_date", "Expected YYYY, YYYY-MM or YYYY-MM-DD (a possible date)"
                ) from None
        return value

    @field_validator("nationalities")
    @classmethod
    def _iso3166(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if code not in NATIONALITIES:
                raise PydanticCustomError(
                    "nationality_code", "{code} is not an ISO 3166-1 alpha-2 code", {"code": code[:10]}
                )
        return value

    @field_validator("languages")
    @classmethod
    def _iso639(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not (code in LANGUAGES_639_1 or re.fullmatch(r"[a-z]{3}", code)):
                raise PydanticCustomError(
                    "language_code", "{code} is not an ISO 639 language code", {"code": code[:10]}
                )
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


class Person(PersonData):
    """A household member with the identity intake gives it (pseudonyms derive from ``person_id``)."""

    person_id: uuid.UUID


class Arrival(BaseModel):
    model_config = ConfigDict(frozen=True)

    arrival_id: uuid.UUID
    authority_id: str
    authority_reference: str
    ags: str
    allocation_date: dt.date
    facility: str | None = None
    persons: tuple[Person, ...]
    status: Status = "registered"
    version: int = 1
    relocated_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None
    merged_into: uuid.UUID | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def corrected(
        self,
        *,
        allocation_date: dt.date | None,
        facility: str | None,
        persons: tuple[Person, ...] | None,
        today: dt.date,
    ) -> tuple[Arrival, tuple[str, ...]]:
        """The arrival with the corrections applied and the names of the fields that really changed."""
        self._require_active("corrected", "korrigiert")
        changes: dict[str, object] = {}
        if allocation_date is not None and allocation_date != self.allocation_date:
            changes["allocation_date"] = allocation_date
        if facility is not None and facility != self.facility:
            changes["facility"] = facility
        if persons is not None and persons != self.persons:
            changes["persons"] = persons
        if not changes:
            return self, ()
        candidate = self.model_copy(update={**changes, "status": "corrected", "version": self.version + 1})
        check_arrival(candidate, today=today, is_allocation_target=True)
        return candidate, tuple(sorted(changes))

    def relocated(self, *, new_ags: str, on: dt.date, today: dt.date, is_allocation_target: bool) -> Arrival:
        """The household now lives in ``new_ags``; later events travel under that key."""
        self._require_active("relocated", "umverteilt")
        if new_ags == self.ags:
            raise ArrivalRejected(
                "new_ags",
                f"Der Haushalt ist bereits {new_ags} zugewiesen.",
                f"The household is already allocated to {new_ags}.",
            )
        if not is_allocation_target:
            raise ArrivalRejected("new_ags", *_not_a_target(new_ags))
        _check_event_date("relocated_on", on, after=self.allocation_date, today=today)
        return self.model_copy(
            update={"ags": new_ags, "status": "relocated", "relocated_on": on, "version": self.version + 1}
        )

    def withdrawn(self, *, on: dt.date, reason: str | None, today: dt.date) -> Arrival:
        """The authority takes the allocation back (e.g. entered by mistake, person moved on)."""
        self._require_active("withdrawn", "zurückgezogen")
        if on > today:
            raise ArrivalRejected(
                "withdrawn_on",
                "Das Datum der Rücknahme liegt in der Zukunft.",
                "The withdrawal date lies in the future.",
            )
        return self.model_copy(
            update={
                "status": "withdrawn",
                "withdrawn_on": on,
                "withdrawal_reason": reason,
                "version": self.version + 1,
            }
        )

    def merged(self, *, into: Arrival, on: dt.date) -> Arrival:
        """A reviewer decided this arrival is the same household as ``into``, which stays."""
        self._require_active("merged", "zusammengeführt")
        if not into.active:
            raise ArrivalConflict(
                "candidate_arrival_id",
                f"Die Ankunft {into.arrival_id} ist nicht mehr aktiv ({into.status}).",
                f"Arrival {into.arrival_id} is no longer active ({into.status}).",
            )
        if into.arrival_id == self.arrival_id:
            raise ArrivalRejected(
                "candidate_arrival_id",
                "Eine Ankunft kann nicht mit sich selbst zusammengeführt werden.",
                "An arrival cannot be merged with itself.",
            )
        return self.model_copy(
            update={
                "status": "merged",
                "merged_into": into.arrival_id,
                "withdrawn_on": on,
                "withdrawal_reason": "merged",
                "version": self.version + 1,
            }
        )

    def due_for_erasure(self, period: RetentionPeriod, *, today: dt.date) -> bool:
        """The retention period counts from the allocation date, whatever happened since."""
        return self.status != "erased" and period.is_due(self.allocation_date, today=today)

    def erased(self) -> Arrival:
        """Without the persons (names, dates of birth, contacts) and the free-text withdrawal reason."""
        return self.model_copy(update={"status": "erased", "persons": (), "withdrawal_reason": None})

    def _require_active(self, done_en: str, done_de: str) -> None:
        if not self.active:
            raise ArrivalConflict(
                "status",
                f"Die Ankunft ist {_STATUS_DE[self.status]} und kann nicht mehr {done_de} werden.",
                f"The arrival is {self.status} and can no longer be {done_en}.",
            )


_STATUS_DE = {
    "registered": "registriert",
    "corrected": "korrigiert",
    "relocated": "umverteilt",
    "withdrawn": "zurückgezogen",
    "merged": "zusammengeführt",
    "erased": "gelöscht",
}


def _not_a_target(ags: str) -> tuple[str, str]:
    return (
        f"{ags} ist keine bewohnte Gemeinde des Gemeindeverzeichnisses.",
        f"{ags} is not a populated municipality of the catalogue.",
    )


def _check_event_date(field: str, on: dt.date, *, after: dt.date, today: dt.date) -> None:
    if on > today:
        raise ArrivalRejected(field, "Das Datum liegt in der Zukunft.", "The date lies in the future.")
    if on < after:
        raise ArrivalRejected(
            field, "Das Datum liegt vor der Zuweisung.", "The date lies before the allocation."
        )


def latin_names(person: PersonData, *, index: int) -> dict[str, str]:
    """The Latin transliterations intake derives for names given without one; other scripts must bring
    their own (refused, naming ``persons.<index>.<field>_latin``)."""
    updates: dict[str, str] = {}
    for field, latin_field in (("family_name", "family_name_latin"), ("given_names", "given_names_latin")):
        if getattr(person, latin_field) is not None:
            continue
        latin = transliterate(getattr(person, field))
        if latin is None:
            raise ArrivalRejected(
                f"persons.{index}.{latin_field}",
                "Bitte die lateinische Umschrift des Namens angeben (nur lateinische und kyrillische "
                "Schrift werden automatisch umgeschrieben).",
                "Please give the Latin transliteration of the name (only Latin and Cyrillic script "
                "are transliterated automatically).",
            )
        updates[latin_field] = latin
    return updates


def with_latin_names(person: Person, *, index: int) -> Person:
    """Fill in the Latin transliteration where intake can derive it; other scripts must bring their own."""
    updates = latin_names(person, index=index)
    return person.model_copy(update=updates) if updates else person


M = TypeVar("M", bound=BaseModel)


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """``cls.model_construct(**values)`` for values that are complete and valid already (every field,
    nothing to default or check): what the batch path does thousands of times per request."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def new_person(data: PersonData, *, person_id: uuid.UUID, index: int) -> Person:
    """A household member with a fresh identity and derived Latin names; ``data`` is validated already."""
    values = {**data.__dict__, **latin_names(data, index=index), "person_id": person_id}
    return trusted(Person, {name: values[name] for name in _PERSON_FIELDS})


def check_arrival(arrival: Arrival, *, today: dt.date, is_allocation_target: bool) -> None:
    """Rules beyond field syntax; raises ArrivalRejected with a German and an English message."""
    if not is_allocation_target:
        raise ArrivalRejected("ags", *_not_a_target(arrival.ags))
    if arrival.allocation_date > today:
        raise ArrivalRejected(
            "allocation_date",
            "Das Zuweisungsdatum liegt in der Zukunft.",
            "The allocation date lies in the future.",
        )
    if arrival.allocation_date.year < 2000:
        raise ArrivalRejected(
            "allocation_date",
            "Das Zuweisungsdatum liegt vor dem Jahr 2000.",
            "The allocation date lies before the year 2000.",
        )
    for index, person in enumerate(arrival.persons):
        if person.date_of_birth is None:
            continue
        year, month, day = parse_partial_date(person.date_of_birth)
        if dt.date(year, month or 1, day or 1) > today or year < EARLIEST_BIRTH_YEAR:
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
    if sum(p.role == "partner" for p in arrival.persons) > 1:
        raise ArrivalRejected(
            "persons",
            "Ein Haushalt hat höchstens eine Person mit der Rolle 'partner'.",
            "A household has at most one person with role 'partner'.",
        )


_PERSON_FIELDS = tuple(Person.model_fields)
