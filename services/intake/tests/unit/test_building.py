"""The batch path builds models without validating them twice (``trusted``): the results must be exactly
what validation would have built, and the ids and pseudonyms exactly what the standard library makes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid

import pytest

from wegweiser.common import events
from wegweiser.common.ids import new_id
from wegweiser.common.pseudonyms import pseudonym
from wegweiser.intake.domain.model import Arrival, ArrivalRejected, Person, PersonData
from wegweiser.intake.handlers import NewArrival, new_arrival, registered_event, registered_fact

KEY = "k" * 32


def household() -> NewArrival:
    return NewArrival(
        authority_reference="R-1",
        ags="08111000",
        allocation_date=dt.date(2026, 11, 2),
        facility="LEA Ellwangen",
        persons=(
            PersonData.model_validate(
                {
                    "role": "head",
                    "family_name": "Шевченко",
                    "given_names": "Олена",
                    "date_of_birth": "1988-03",
                    "sex": "female",
                    "nationalities": ["UA"],
                    "languages": ["uk", "ru"],
                    "residence_status": "temporary_protection_24",
                    "phone": "+49 170 1234567",
                }
            ),
            PersonData.model_validate(
                {"role": "child", "family_name": "Müller", "given_names": "Jörg Ben", "date_of_birth": "2016"}
            ),
            PersonData.model_validate(
                {
                    "role": "partner",
                    "family_name": "حداد",
                    "given_names": "رانيا",
                    "family_name_latin": "Haddad",
                    "given_names_latin": "Rania",
                }
            ),
        ),
    )


def test_a_new_arrival_is_what_validation_makes_of_it() -> None:
    arrival = new_arrival(authority_id="uab-08111", item=household())
    validated = Arrival.model_validate(arrival.model_dump())
    assert arrival == validated
    assert list(arrival.__dict__) == list(validated.__dict__)
    assert arrival.model_fields_set == validated.model_fields_set
    assert arrival.model_dump_json() == validated.model_dump_json()
    for person, again in zip(arrival.persons, validated.persons, strict=True):
        assert isinstance(person, Person) and list(person.__dict__) == list(again.__dict__)
    latin = [(p.family_name_latin, p.given_names_latin) for p in arrival.persons]
    assert latin == [("Shevchenko", "Olena"), ("Müller", "Jörg Ben"), ("Haddad", "Rania")]


def test_a_name_in_another_script_needs_its_latin_form() -> None:
    arabic = PersonData.model_validate({"role": "head", "family_name": "حداد", "given_names": "رانيا"})
    item = NewArrival("R-2", "08111000", dt.date(2026, 11, 2), (household().persons[0], arabic))
    with pytest.raises(ArrivalRejected) as refused:
        new_arrival(authority_id="uab-08111", item=item)
    assert refused.value.field == "persons.1.family_name_latin"


def test_events_are_what_validation_makes_of_them() -> None:
    arrival = new_arrival(authority_id="uab-08111", item=household())
    event = registered_event(arrival)
    fact = registered_fact(arrival, pseudonym_key=KEY)
    for built in (event, fact):
        validated = type(built).model_validate_json(built.model_dump_json())
        assert built == validated and built.model_dump_json() == validated.model_dump_json()
    # The event is the arrival itself, read field by field (persons too): nothing added, nothing derived.
    assert event == events.ArrivalRegistered.model_validate(arrival, from_attributes=True)
    assert [p.age_band for p in fact.persons] == ["27-44", "6-11", "unknown"]


def test_ids_are_random_version_4_uuids() -> None:
    ids = [new_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:300]:
        again = uuid.UUID(str(value))
        assert value == again and hash(value) == hash(again)
        assert value.version == 4 and value.variant == uuid.RFC_4122


def test_pseudonyms_are_hmac_sha256_of_the_person_id() -> None:
    for _ in range(50):
        person_id = uuid.uuid4()
        expected = hmac.new(KEY.encode(), person_id.bytes, hashlib.sha256).hexdigest()
        assert pseudonym(person_id, KEY) == expected
