import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from wegweiser.intake.domain.model import Arrival, ArrivalRejected, Person, check_arrival

TODAY = dt.date(2026, 11, 26)


def person(**overrides: object) -> Person:
    return Person.model_validate(
        {"role": "head", "family_name": "Haddad", "given_names": "Rania", **overrides}
    )


def arrival(*persons: Person, allocation_date: dt.date = TODAY) -> Arrival:
    return Arrival(
        arrival_id=uuid.uuid4(),
        authority_id="uab-08111",
        authority_reference="R-1",
        ags="08111000",
        allocation_date=allocation_date,
        persons=persons or (person(),),
    )


@pytest.mark.parametrize("dob", ["1990", "1990-04", "1990-04-17"])
def test_partial_dates_of_birth_are_accepted(dob: str) -> None:
    check_arrival(arrival(person(date_of_birth=dob)), today=TODAY, is_allocation_target=True)


@pytest.mark.parametrize("dob", ["1990-13", "1990-02-30", "90", "17.04.1990"])
def test_malformed_or_impossible_dates_fail_validation(dob: str) -> None:
    with pytest.raises(ValidationError):
        person(date_of_birth=dob)


@pytest.mark.parametrize(
    ("candidate", "target", "field"),
    [
        (arrival(allocation_date=TODAY + dt.timedelta(days=1)), True, "allocation_date"),
        (arrival(person(date_of_birth="2027")), True, "persons.0.date_of_birth"),
        (arrival(person(date_of_birth="1850")), True, "persons.0.date_of_birth"),
        (arrival(person(), person(role="head")), True, "persons"),
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


def test_codes_are_iso() -> None:
    with pytest.raises(ValidationError):
        person(nationalities=["Syria"])
    with pytest.raises(ValidationError):
        person(languages=["Arabic"])
