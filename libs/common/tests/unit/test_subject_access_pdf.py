"""The subject access PDF: readable (labels, local dates, no JSON), names in every script, fonts embedded."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from pypdf import PdfReader

from wegweiser.common import subject_access as sar
from wegweiser.common import subject_access_pdf

NOW = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
PERSON: dict[str, Any] = {
    "person_id": "5f0c3c4e-0000-4000-8000-000000000001",
    "family_name": "Yılmaz-Németh",
    "given_names": "Çağla Шевченко محمد",
    "date_of_birth": "1988-03-14",
    "nationalities": ["TR", "UA"],
}
TITLES = {"arrivals": ("Ankünfte (Zuweisungen)", "Arrivals (allocations)"), "goals": ("Ziele", "Goals")}


def export(*, english: bool = False, goals: list[Any] | None = None) -> dict[str, Any]:
    arrival = {"arrival_id": str(uuid.uuid4()), "allocation_date": "2026-03-02", "walk_in": False,
               "person": PERSON}  # fmt: skip
    return sar.document(
        service="intake",
        person_id=uuid.UUID(PERSON["person_id"]),
        sections={"arrivals": [arrival], "goals": goals or []},
        titles=TITLES,
        english=english,
        now=NOW,
    )


def text_of(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("accept", "pdf"),
    [
        (None, False),
        ("application/json", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
        ("application/pdf", True),
        ("application/pdf, application/json;q=0.5", True),
        ("application/json, application/pdf;q=0.5", False),
        ("application/pdf;q=0", False),
        ("application/pdf;q=x", False),
    ],
)
def test_pdf_only_when_the_client_prefers_it(accept: str | None, pdf: bool) -> None:
    assert sar.wants_pdf(accept) is pdf


def test_german_pdf_reads_like_a_letter_not_like_json() -> None:
    reader, text = text_of(subject_access_pdf.render(export()))

    assert reader.pdf_header.startswith("%PDF-") and len(reader.pages) == 1
    assert "Auskunft über gespeicherte personenbezogene Daten" in text and "Art. 15 DSGVO" in text
    assert "Yılmaz-Németh" in text and "Çağla" in text and "Шевченко" in text
    assert "محمد" in text  # shaped for display, the text layer still holds the letters
    for words in ("Ankünfte (Zuweisungen)", "Ziele", "Keine Einträge.", "Aufnahme (intake)"):
        assert words in text
    assert "Person › Familienname" in text and "Geburtsdatum" in text and "Zuweisungsdatum" in text
    assert "14.03.1988" in text and "02.03.2026" in text and "05.12.2026, 09:30 Uhr" in text
    assert "Staatsangehörigkeiten TR, UA" in text and "nein" in text
    assert "family_name" not in text and "{" not in text and "1988-03-14" not in text


def test_english_pdf_has_english_words() -> None:
    _, text = text_of(subject_access_pdf.render(export(english=True)))

    assert "Copy of the personal data held" in text and "Art. 15 GDPR" in text
    assert "Arrivals (allocations)" in text and "No entries." in text
    assert "Person › Family name" in text and "Date of birth 1988-03-14" in text
    assert "Auskunft" not in text


def test_fonts_are_embedded_subsets_of_the_packaged_noto_fonts() -> None:
    reader, _ = text_of(subject_access_pdf.render(export()))

    page: Any = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    described = [fonts[name].get_object()["/DescendantFonts"][0].get_object() for name in fonts]
    subset, names = zip(*(str(d["/BaseFont"]).lstrip("/").split("+") for d in described), strict=True)
    assert set(names) == {"NotoSans", "NotoSansArabic"} and all(len(tag) == 6 for tag in subset)
    assert all("/FontFile2" in d["/FontDescriptor"].get_object() for d in described)


def test_long_exports_break_across_pages_with_numbered_entries() -> None:
    goals = [{"description": f"Ziel {n} " + "Sprachkurs B1 " * 12, "set_on": "2026-03-02"} for n in range(40)]
    reader, text = text_of(subject_access_pdf.render(export(goals=goals)))

    pages = len(reader.pages)
    assert pages > 2
    assert "Eintrag 40/40" in text and f"Seite {pages}/{pages}" in text
    assert "Ziel 39" in text


def test_person_name_is_found_in_any_section() -> None:
    assert (
        subject_access_pdf.person_name({"A": [], "B": {"x": [PERSON]}}) == "Çağla Шевченко محمد Yılmaz-Németh"
    )
    assert subject_access_pdf.person_name({"A": [{"referral_id": "r"}]}) is None


def test_a_note_longer_than_a_page_continues_on_the_next() -> None:
    note = " ".join(f"Satz {n}: Beratung zu Sprachkurs und Wohnung." for n in range(400))
    reader, text = text_of(subject_access_pdf.render(export(goals=[{"note": note}])))

    assert len(reader.pages) >= 3
    assert "Satz 0:" in text and "Satz 399:" in text


def test_only_right_to_left_text_is_shaped() -> None:
    latin = {**PERSON, "given_names": "Çağla Шевченко"}
    assert subject_access_pdf.needs_shaping(export())
    assert not subject_access_pdf.needs_shaping({"sections": {"Person": latin}})
