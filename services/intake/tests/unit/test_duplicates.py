"""Probable duplicates: phonetic name, compatible (partial) birth date and a shared nationality."""

import uuid

import pytest

from wegweiser.intake.domain.duplicates import PersonKey, find_probable_duplicates, person_key
from wegweiser.intake.domain.model import Person


def person(**overrides: object) -> Person:
    data = {
        "person_id": uuid.uuid4(),
        "role": "head",
        "family_name": "Müller",
        "given_names": "Jana",
        "date_of_birth": "1990-04-17",
        "nationalities": ["UA"],
        **overrides,
    }
    return Person.model_validate(data)


def key(p: Person, arrival_id: uuid.UUID | None = None) -> PersonKey:
    k = person_key(p, arrival_id=arrival_id or uuid.uuid4())
    assert k is not None
    return k


@pytest.mark.parametrize(
    "other",
    [
        {"family_name": "MUELLER"},
        {"given_names": "Jana Maria"},
        {"date_of_birth": "1990"},
        {"date_of_birth": "1990-04"},
        {"nationalities": ["PL", "UA"]},
        {"family_name": "Мюллер", "given_names": "Яна"},
    ],
)
def test_these_look_alike(other: dict[str, object]) -> None:
    known = key(person())
    new = key(person(**other))
    assert [d.candidate.person_id for d in find_probable_duplicates([new], [known])] == [known.person_id]


@pytest.mark.parametrize(
    "other",
    [
        {"family_name": "Schulz"},
        {"given_names": "Olena"},
        {"date_of_birth": "1991"},
        {"date_of_birth": "1990-05"},
        {"date_of_birth": "1990-04-18"},
        {"nationalities": ["PL"]},
    ],
)
def test_these_do_not(other: dict[str, object]) -> None:
    assert find_probable_duplicates([key(person(**other))], [key(person())]) == []


def test_persons_without_birth_date_or_nationality_are_not_matched() -> None:
    assert person_key(person(date_of_birth=None), arrival_id=uuid.uuid4()) is None
    assert person_key(person(nationalities=[]), arrival_id=uuid.uuid4()) is None


def test_within_one_batch_later_items_are_checked_against_earlier_ones_but_not_their_own_household() -> None:
    arrival = uuid.uuid4()
    a, b, c = key(person()), key(person(family_name="Mueller")), key(person(), arrival_id=arrival)
    same_household = key(person(), arrival_id=arrival)
    found = find_probable_duplicates([a, b, c, same_household], [])
    pairs = {(d.person.person_id, d.candidate.person_id) for d in found}
    assert (b.person_id, a.person_id) in pairs
    assert (same_household.person_id, c.person_id) not in pairs
    assert all(d.match == "phonetic-name+dob+nationality" for d in found)
