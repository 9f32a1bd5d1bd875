"""Probable duplicates: phonetic name, compatible (partial) birth date and a shared nationality."""

import unicodedata
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"family_name": "Ne\u0301meth"}, {"family_name": "Németh"}),
        ({"family_name": "Nemeth"}, {"family_name": "NÉMETH"}),
        ({"family_name": "Yılmaz"}, {"family_name": "Yilmaz"}),
        (
            {"family_name": "Шевченко", "given_names": "Олена"},
            {"family_name": "Shevchenko", "given_names": "Olena"},
        ),
    ],
)
def test_names_that_fold_alike_are_probable_duplicates(a: dict[str, object], b: dict[str, object]) -> None:
    """The duplicate check compares names as ``wegweiser.common.names.fold`` folds them (as search does)."""
    known, new = key(person(**a)), key(person(**b))
    assert known.match_key == new.match_key
    assert [d.candidate.person_id for d in find_probable_duplicates([new], [known])] == [known.person_id]


@given(st.text(st.sampled_from("aeiouäöüßçşğıİnmlrkhdtsAEIOUNMLRKDT -\u0301"), min_size=1, max_size=20))
def test_spelling_variants_of_a_name_share_its_key(name: str) -> None:
    variants = [name, unicodedata.normalize("NFD", name), name.upper(), name.casefold()]
    keys = {person_key(person(family_name=v), arrival_id=uuid.UUID(int=0)) for v in variants if v.strip()}
    assert len({k.match_key if k else None for k in keys}) <= 1
