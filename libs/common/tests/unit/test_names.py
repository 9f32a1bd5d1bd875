"""Names as people write them: NFC, invisible characters refused, one folding for search and duplicates."""

import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wegweiser.common.names import (
    ARABIC_LATIN,
    CYRILLIC_LATIN,
    csv_cell,
    fold,
    invisible_character,
    normalised,
)

BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
OTHER_INVISIBLE = ["\u200b", "\u00ad", "\ufeff", "\u2060", "\u2061", "\u180e", "\U000e0041"]

# Names in the scripts people arriving here write them in (Latin with diacritics, Cyrillic, Arabic).
names = st.text(
    st.characters(
        categories=("Lu", "Ll", "Lo", "Mn", "Zs", "Pd"), include_characters="'’", max_codepoint=0x06FF
    ),
    max_size=40,
)
# Only letters fold knows: Latin (with any accents), Cyrillic, Arabic.
LATIN = [chr(c) for c in range(0xC0, 0x180) if unicodedata.category(chr(c)).startswith("L")]
KNOWN = sorted(
    {*string.ascii_letters, *LATIN, *CYRILLIC_LATIN, *(c.upper() for c in CYRILLIC_LATIN), *ARABIC_LATIN}
)
latin_names = st.text(st.sampled_from([*string.ascii_letters, *LATIN, " ", "\u0301", "\u0308"]), max_size=30)
known_names = st.text(st.sampled_from([*KNOWN, " ", "-", "\u0301", "\u0308", "\u0327"]), max_size=30)


@pytest.mark.parametrize(
    "spellings",
    [
        ("Ne\u0301meth", "Németh", "nemeth", "NEMETH"),
        ("Yılmaz", "Yilmaz", "YILMAZ"),
        ("İlknur", "Ilknur"),
        ("Шевченко", "Shevchenko", "ШЕВЧЕНКО"),
        ("Сергій", "Serhii"),
        ("Straße", "Strasse"),
        ("Çelik", "Celik"),
        ("Łukasz", "Lukasz"),
        ("Əliyev", "Aliyev"),
        ("Ørsted", "Orsted"),
        ("مُحَمَّد", "Muhamad"),
        ("ﻣﺤﻤﺪ", "محمد", "mhmd"),  # presentation forms are the letters they show
        ("  Al   Haddad ", "al haddad"),
        ("علی\u200cاکبر", "علیاکبر"),
    ],
)
def test_spellings_of_one_name_fold_alike(spellings: tuple[str, ...]) -> None:
    assert len({fold(s) for s in spellings}) == 1, [fold(s) for s in spellings]


@pytest.mark.parametrize(("a", "b"), [("Haddad", "Hassan"), ("Yılmaz", "Yildiz"), ("Шевченко", "Shevchuk")])
def test_different_names_fold_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


@given(names)
def test_fold_is_idempotent(name: str) -> None:
    assert fold(fold(name)) == fold(name)


@given(names)
def test_fold_ignores_the_normal_form_and_the_case(name: str) -> None:
    for form in ("NFC", "NFD"):
        assert fold(unicodedata.normalize(form, name)) == fold(name)
    assert fold(name.casefold()) == fold(name)


@given(known_names)
def test_latin_cyrillic_and_arabic_names_fold_to_plain_lower_case_ascii(name: str) -> None:
    folded = fold(name)
    assert folded.isascii() and folded == folded.lower(), folded
    assert folded == " ".join(folded.split())  # no leading, trailing or double spaces


@given(latin_names)
def test_accents_do_not_count_in_latin_script(name: str) -> None:
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    assert fold(bare) == fold(name)


@pytest.mark.parametrize("control", BIDI_CONTROLS + OTHER_INVISIBLE)
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_invisible_format_characters_are_found_anywhere(control: str, where: str) -> None:
    text = {"start": control + "Ali", "middle": "Al" + control + "i", "end": "Ali" + control}[where]
    assert invisible_character(text) == control


@given(names)
def test_names_without_format_characters_are_accepted(name: str) -> None:
    assert invisible_character(normalised(name)) is None


def test_a_joiner_between_two_letters_is_spelling_not_a_trick() -> None:
    assert invisible_character("علی\u200cاکبر") is None  # Persian: Ali-Akbar with a zero-width non-joiner
    assert invisible_character("\u200cAli") == "\u200c"
    assert invisible_character("Ali\u200d") == "\u200d"
    assert invisible_character("Ali \u200d Akbar") == "\u200d"


def test_nfc_composes_what_looks_the_same() -> None:
    assert normalised("Ne\u0301meth") == "Németh"
    assert normalised("Haddad") == "Haddad"


@given(names)
def test_nfc_is_what_unicode_says(name: str) -> None:
    assert normalised(name) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize("cell", ["=SUM(A1:A2)", "+49 711 1234", "-1+1", "@cmd", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("value", ["Haddad", "", "08111000", 42, -3, 1.5, None])
def test_other_csv_cells_stay_as_they_are(value: object) -> None:
    assert csv_cell(value) == value


@given(st.text())
def test_no_neutralised_text_cell_starts_with_a_formula_sign(text: str) -> None:
    assert not str(csv_cell(text)).startswith(("=", "+", "-", "@", "\t", "\r"))
