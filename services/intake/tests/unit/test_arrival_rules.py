import datetime as dt

import pytest
from pydantic import ValidationError

from wegweiser.intake.domain.model import (
    Arrival,
    ArrivalConflict,
    ArrivalRejected,
    Person,
    check_arrival,
    with_latin_names,
)
from wegweiser.intake.testing import arrival as build_arrival
from wegweiser.intake.testing import person

TODAY = dt.date(2026, 11, 26)


def arrival(*persons: Person, allocation_date: dt.date = TODAY) -> Arrival:
    return build_arrival(*persons, allocation_date=allocation_date)


@pytest.mark.parametrize("dob", ["1990", "1990-04", "1990-04-17"])
def test_partial_dates_of_birth_are_accepted(dob: str) -> None:
    check_arrival(arrival(person(date_of_birth=dob)), today=TODAY, is_allocation_target=True)


@pytest.mark.parametrize("dob", ["1990-13", "1990-02-30", "90", "17.04.1990", "0000"])
def test_malformed_or_impossible_dates_fail_validation(dob: str) -> None:
    with pytest.raises(ValidationError):
        person(date_of_birth=dob)


@pytest.mark.parametrize(
    ("candidate", "target", "field"),
    [
        (arrival(allocation_date=TODAY + dt.timedelta(days=1)), True, "allocation_date"),
        (arrival(allocation_date=dt.date(1999, 1, 1)), True, "allocation_date"),
        (arrival(person(date_of_birth="2027")), True, "persons.0.date_of_birth"),
        (arrival(person(date_of_birth="1850")), True, "persons.0.date_of_birth"),
        (arrival(person(), person(role="head")), True, "persons"),
        (arrival(person(), person(role="partner"), person(role="partner")), True, "persons"),
        (arrival(), False, "ags"),
    ],
)
def test_domain_rules_name_the_offending_field(candidate: Arrival, target: bool, field: str) -> None:
    with pytest.raises(ArrivalRejected) as rejected:
        check_arrival(candidate, today=TODAY, is_allocation_target=target)
    assert rejected.value.field == field
    assert rejected.value.message_de and rejected.value.message_en


@pytest.mark.parametrize(
    ("dob", "band"),
    [("2024-01-01", "0-5"), ("2010", "12-17"), ("1990-04", "27-44"), ("1950", "65+"), (None, "unknown")],
)
def test_age_band_at_allocation(dob: str | None, band: str) -> None:
    assert person(date_of_birth=dob).age_band(TODAY) == band


@pytest.mark.parametrize(
    "overrides",
    [
        {"nationalities": ["Syria"]},
        {"nationalities": ["QQ"]},
        {"languages": ["Arabic"]},
        {"family_name": "  "},
        {"given_names": "A\x00"},
        {"email": "nobody"},
        {"role": "boss"},
    ],
)
def test_codes_and_text_are_checked(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        person(**overrides)


def test_codes_used_by_german_authorities_are_accepted() -> None:
    assert person(nationalities=["XK", "XX"], languages=["ar", "prs"]).nationalities == ("XK", "XX")


def test_latin_names_are_derived_for_cyrillic_and_required_for_other_scripts() -> None:
    assert with_latin_names(person(family_name="Коваленко"), index=0).family_name_latin == "Kovalenko"
    assert with_latin_names(
        person(family_name="حداد", family_name_latin="Haddad"), index=0
    ).family_name_latin == ("Haddad")
    with pytest.raises(ArrivalRejected) as rejected:
        with_latin_names(person(given_names="رانيا"), index=2)
    assert rejected.value.field == "persons.2.given_names_latin"


def test_lifecycle_corrections_relocation_withdrawal_and_merge() -> None:
    original = arrival(allocation_date=TODAY - dt.timedelta(days=10))
    same, fields = original.corrected(
        allocation_date=None, facility=None, persons=original.persons, today=TODAY
    )
    assert same is original and fields == ()
    corrected, fields = original.corrected(
        allocation_date=TODAY - dt.timedelta(days=9), facility="LEA", persons=None, today=TODAY
    )
    assert (
        fields == ("allocation_date", "facility")
        and corrected.status == "corrected"
        and corrected.version == 2
    )

    with pytest.raises(ArrivalRejected):
        corrected.relocated(new_ags="08111000", on=TODAY, today=TODAY, is_allocation_target=True)
    with pytest.raises(ArrivalRejected):
        corrected.relocated(
            new_ags="08115003", on=TODAY - dt.timedelta(days=30), today=TODAY, is_allocation_target=True
        )
    moved = corrected.relocated(new_ags="08115003", on=TODAY, today=TODAY, is_allocation_target=True)
    assert (moved.ags, moved.status, moved.relocated_on) == ("08115003", "relocated", TODAY)

    gone = moved.withdrawn(on=TODAY, reason="weitergezogen", today=TODAY)
    assert gone.status == "withdrawn" and not gone.active
    for change in (
        lambda: gone.withdrawn(on=TODAY, reason=None, today=TODAY),
        lambda: gone.corrected(allocation_date=TODAY, facility=None, persons=None, today=TODAY),
        lambda: arrival().merged(into=gone, on=TODAY),
    ):
        with pytest.raises(ArrivalConflict):
            change()

    later, earlier = arrival(), arrival()
    merged = later.merged(into=earlier, on=TODAY)
    assert (merged.status, merged.merged_into, merged.withdrawal_reason) == (
        "merged",
        earlier.arrival_id,
        "merged",
    )
    with pytest.raises(ArrivalRejected):
        later.merged(into=later, on=TODAY)
