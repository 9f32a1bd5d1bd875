"""Probable duplicates: the same person registered twice, found by phonetic name, birth date, nationality.

Only flagged for a human to review, never merged automatically: two cousins can share all three.
The exact duplicate (the same authority reference) never gets this far: it is idempotent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wegweiser.common.names import fold
from wegweiser.intake.domain.model import ArrivalConflict, Person, parse_partial_date
from wegweiser.intake.domain.phonetics import family_code, given_code

MATCH_RULE = "phonetic-name+dob+nationality"


@dataclass(frozen=True, slots=True)
class PersonKey:
    """What duplicate detection knows about a person; the index stores exactly this."""

    person_id: uuid.UUID
    arrival_id: uuid.UUID
    match_key: str  # "<family code>|<first given name code>"
    birth_year: int
    birth_month: int | None
    birth_day: int | None
    nationalities: frozenset[str]


@dataclass(frozen=True, slots=True)
class ProbableDuplicate:
    person: PersonKey
    candidate: PersonKey
    match: str = MATCH_RULE


def person_key(person: Person, *, arrival_id: uuid.UUID) -> PersonKey | None:
    """None when the person cannot be matched: no date of birth, no nationality or no codable name.

    Names are folded first (``wegweiser.common.names.fold``, as search folds them), then coded.
    """
    if person.date_of_birth is None or not person.nationalities:
        return None
    family = family_code(fold(person.family_name_latin or person.family_name))
    given = given_code(fold(person.given_names_latin or person.given_names))
    if not family or not given:
        return None
    year, month, day = parse_partial_date(person.date_of_birth)
    return PersonKey(
        person_id=person.person_id,
        arrival_id=arrival_id,
        match_key=f"{family}|{given}",
        birth_year=year,
        birth_month=month,
        birth_day=day,
        nationalities=frozenset(person.nationalities),
    )


def _compatible(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


def dates_compatible(a: PersonKey, b: PersonKey) -> bool:
    """Same year; month and day equal where both are known ("1990" fits "1990-04-17")."""
    return (
        a.birth_year == b.birth_year
        and _compatible(a.birth_month, b.birth_month)
        and (a.birth_month is None or b.birth_month is None or _compatible(a.birth_day, b.birth_day))
    )


def looks_alike(a: PersonKey, b: PersonKey) -> bool:
    return (
        a.arrival_id != b.arrival_id
        and a.match_key == b.match_key
        and dates_compatible(a, b)
        and bool(a.nationalities & b.nationalities)
    )


def find_probable_duplicates(new: Sequence[PersonKey], known: Iterable[PersonKey]) -> list[ProbableDuplicate]:
    """Each new person against the known ones and against the new ones before it (a batch in order)."""
    by_key: dict[str, list[PersonKey]] = {}
    for k in known:
        by_key.setdefault(k.match_key, []).append(k)
    found: list[ProbableDuplicate] = []
    for person in new:
        for candidate in by_key.get(person.match_key, ()):
            if looks_alike(person, candidate):
                found.append(ProbableDuplicate(person=person, candidate=candidate))
        by_key.setdefault(person.match_key, []).append(person)
    return found


FlagStatus = Literal["open", "merged", "dismissed", "obsolete"]


class DuplicateFlag(BaseModel):
    """A probable duplicate waiting for review; the decision records who decided what and when."""

    model_config = ConfigDict(frozen=True)

    flag_id: uuid.UUID
    arrival_id: uuid.UUID = Field(description="The later arrival, the one a merge would retire")
    person_id: uuid.UUID
    candidate_arrival_id: uuid.UUID = Field(description="The earlier arrival it resembles")
    candidate_person_id: uuid.UUID
    authority_id: str
    candidate_authority_id: str
    match: str = MATCH_RULE
    status: FlagStatus = "open"
    flagged_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    note: str | None = None

    def decided(
        self, *, status: Literal["merged", "dismissed"], by: str, at: dt.datetime, note: str | None
    ) -> DuplicateFlag:
        if self.status != "open":
            raise ArrivalConflict(
                "status",
                f"Über diesen Hinweis wurde bereits entschieden ({self.status}).",
                f"This flag has already been decided ({self.status}).",
            )
        return self.model_copy(update={"status": status, "decided_by": by, "decided_at": at, "note": note})
