"""Reading authorities' CSV/XLSX exports: header aliases, value codes, households, errors per cell."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from wegweiser.intake.upload_reader import XLSX_MEDIA_TYPE, UnreadableFile, read_sheet


def sheet(text: str, **kwargs: object) -> bytes:
    return text.encode(str(kwargs.get("encoding", "utf-8")))


def test_german_headers_codes_and_households() -> None:
    content = sheet(
        "Aktenzeichen;Haushalt;Rolle;Familienname;Vornamen;Geburtsdatum;Geschlecht;Staatsangehörigkeit;"
        "Sprachen;Aufenthaltsstatus;Zielgemeinde (AGS);Zuweisungsdatum;Bemerkung\n"
        "A-1;7;Haushaltsvorstand;Haddad;Rania;00.03.1988;w;SY;ar;anerkannt;8111000;02.11.2026;x\n"
        ";7;Tochter;Haddad;Lina;2016;weiblich;SY;ar, de;anerkannt;08111000;2026-11-02;\n"
        "A-2;;;Ivanova;Olena;17.04.1979;W;UA;uk;§24;08115003;02.11.2026;\n"
        ";;;;;;;;;;;;\n"
    )
    result = read_sheet(content, "text/csv", max_rows=100)
    assert result.errors == [] and result.rows == 3 and result.ignored == ["Bemerkung"]
    first, second = result.households
    assert first.rows == [2, 3] and second.rows == [4]
    assert first.arrival == {"authority_reference": "A-1", "ags": "08111000", "allocation_date": "2026-11-02"}
    assert [p["role"] for p in first.persons] == ["head", "child"]
    assert first.persons[0]["date_of_birth"] == "1988-03" and first.persons[1]["languages"] == ["ar", "de"]
    assert second.persons[0] | {"role": "head"} == second.persons[0], "a single person is the head"
    assert second.persons[0]["residence_status"] == "temporary_protection_24"
    assert second.persons[0]["date_of_birth"] == "1979-04-17"


def test_english_headers_commas_and_windows_1252() -> None:
    content = sheet(
        "reference,family_name,given_names,date_of_birth,sex,nationality,ags,allocation_date\n"
        "B-1,Jäger,Jörg,1970,male,DE,08111000,2026-11-02\n",
        encoding="cp1252",
    )
    result = read_sheet(content, "text/csv", max_rows=10)
    assert result.households[0].persons[0]["family_name"] == "Jäger"
    assert result.households[0].persons[0]["sex"] == "male"


def test_each_bad_cell_is_reported_with_row_and_column() -> None:
    content = sheet(
        "Aktenzeichen;Haushalt;Rolle;Familienname;Vornamen;Geschlecht;Zielgemeinde (AGS);Zuweisungsdatum\n"
        "C-1;1;Chef;A;B;q;08111000;gestern\n"
        ";1;;C;D;m;08111000;01.01.2026\n"
        "C-2;1;Kind;E;F;m;08111000;01.01.2026\n"
    )
    result = read_sheet(content, "text/csv", max_rows=10)
    found = {(e.row, e.column) for e in result.errors}
    assert found == {
        (2, "Rolle"),
        (2, "Geschlecht"),
        (2, "Zuweisungsdatum"),
        (3, "Rolle"),
        (4, "Aktenzeichen"),
    }
    assert all(e.message_de and e.message_en for e in result.errors)


def test_missing_required_columns_are_named() -> None:
    result = read_sheet(b"Familienname;Vornamen\nA;B\n", "text/csv", max_rows=10)
    assert {e.column for e in result.errors} == {"Aktenzeichen", "Zielgemeinde (AGS)", "Zuweisungsdatum"}


def test_xlsx_cells_keep_their_types() -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(
        ["Aktenzeichen", "Familienname", "Vornamen", "Geburtsdatum", "Zielgemeinde (AGS)", "Zuweisungsdatum"]
    )
    ws.append([4711, "Nowak", "Anna", dt.datetime(1990, 1, 2), 8111000, dt.datetime(2026, 11, 2)])
    out = io.BytesIO()
    book.save(out)
    result = read_sheet(out.getvalue(), XLSX_MEDIA_TYPE, max_rows=10)
    (household,) = result.households
    assert household.arrival == {
        "authority_reference": "4711",
        "ags": "08111000",
        "allocation_date": "2026-11-02",
    }
    assert household.persons[0]["date_of_birth"] == "1990-01-02"


def test_unreadable_and_oversized_files_are_refused() -> None:
    with pytest.raises(UnreadableFile):
        read_sheet(b"PK\x03\x04garbage", XLSX_MEDIA_TYPE, max_rows=10)
    with pytest.raises(UnreadableFile):
        read_sheet(b"", "text/csv", max_rows=10)
    rows = "".join(f"R-{i};A;B;08111000;2026-11-02\n" for i in range(3))
    with pytest.raises(UnreadableFile):
        read_sheet(
            sheet("Aktenzeichen;Familienname;Vornamen;AGS;Zuweisungsdatum\n" + rows), "text/csv", max_rows=2
        )
