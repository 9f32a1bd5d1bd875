"""Names as people write them, at every entry point: stored in NFC, invisible format characters refused."""

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wegweiser.intake.api.corrections import CorrectionIn
from wegweiser.intake.api.models import ArrivalIn
from wegweiser.intake.domain.model import PersonData
from wegweiser.intake.messages import pydantic_errors

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
INVISIBLE = ["\u200b", "\u200e", "\u200f", "\u00ad", "\ufeff", "\u2060"]


def person(**overrides: object) -> PersonData:
    return PersonData.model_validate(
        {"role": "head", "family_name": "Haddad", "given_names": "Rania", **overrides}
    )


def arrival(**overrides: object) -> ArrivalIn:
    return ArrivalIn.model_validate(
        {
            "authority_reference": "R-1",
            "ags": "08111000",
            "allocation_date": dt.date(2026, 11, 1).isoformat(),
            "persons": [{"role": "head", "family_name": "Haddad", "given_names": "Rania"}],
            **overrides,
        }
    )


def test_a_decomposed_name_is_stored_composed() -> None:
    stored = person(family_name="Ne\u0301meth", given_names="Zso\u0301fia")
    assert (stored.family_name, stored.given_names) == ("Németh", "Zsófia")


@given(st.text(st.characters(categories=("L", "Mn")), min_size=1, max_size=50))
def test_every_accepted_name_is_in_nfc(name: str) -> None:
    try:
        stored = person(family_name=name)
    except ValidationError:
        return  # e.g. longer than 200 characters once composed, or only marks
    assert stored.family_name == unicodedata.normalize("NFC", name).strip()


@pytest.mark.parametrize("control", BIDI_CONTROLS + INVISIBLE)
@pytest.mark.parametrize("field", ["family_name", "given_names", "family_name_latin", "given_names_latin"])
def test_invisible_format_characters_in_a_name_are_refused(control: str, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        person(**{field: f"Ali{control}ce"})
    (error,) = refused.value.errors()
    assert error["type"] == "invisible_character" and error["loc"] == (field,)
    assert f"U+{ord(control):04X}" in error["msg"]


def test_the_refusal_says_in_german_which_character_and_where() -> None:
    with pytest.raises(ValidationError) as refused:
        arrival(persons=[{"role": "head", "family_name": "Haddad\u202eevil", "given_names": "Rania"}])
    (german,) = pydantic_errors(refused.value, prefix="arrivals.0", english=False)
    assert german["field"] == "arrivals.0.persons.0.family_name"
    assert german["message"].startswith("Unsichtbares Steuerzeichen U+202E (RIGHT-TO-LEFT OVERRIDE)")
    (english,) = pydantic_errors(refused.value, english=True)
    assert english["message"].startswith("Invisible control character U+202E")


@pytest.mark.parametrize(
    "build",
    [
        lambda: arrival(facility="LEA\u2066 Ellwangen"),
        lambda: arrival(authority_reference="R-\u202e1"),
        lambda: CorrectionIn.model_validate({"facility": "LEA\u200b"}),
        lambda: CorrectionIn.model_validate(
            {"persons": [{"role": "head", "family_name": "\u2067Haddad", "given_names": "Rania"}]}
        ),
    ],
)
def test_other_text_fields_and_corrections_refuse_them_too(build: object) -> None:
    with pytest.raises(ValidationError) as refused:
        build()  # type: ignore[operator]
    assert [e["type"] for e in refused.value.errors()] == ["invisible_character"]


def test_a_persian_name_keeps_its_zero_width_non_joiner() -> None:
    assert person(given_names="علی\u200cاکبر", given_names_latin="Ali-Akbar").given_names == "علی\u200cاکبر"
