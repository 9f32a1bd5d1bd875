"""The upload page's files and checks, without I/O: template, failed rows, the valid part of a file."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from openpyxl import load_workbook

from wegweiser.common.auth import Principal
from wegweiser.common.web import TEMPLATES as FRAME_TEMPLATES
from wegweiser.intake.imports import validate_upload
from wegweiser.intake.upload_reader import COLUMNS, XLSX_MEDIA_TYPE, read_sheet
from wegweiser.intake.upload_writer import as_csv, as_file, as_xlsx, failed_rows, template_rows
from wegweiser.intake.web import messages

TODAY = dt.date(2026, 12, 5)
CLERK = Principal(
    subject="sb",
    roles=frozenset({"reception_authority"}),
    authority_id="uab-08111",
    ags=frozenset({"08111000"}),
)
FILE = (
    "Aktenzeichen;Haushalt;Rolle;Familienname;Vornamen;Geschlecht;Zielgemeinde (AGS);Zuweisungsdatum\n"
    "A-1;H1;Haushaltsvorstand;Haddad;Rania;w;08111000;04.12.2026\n"
    ";H1;Kind;Haddad;Omar;Q;08111000;04.12.2026\n"
    "A-2;;;Müller;Jana;w;08111000;04.12.2026\n"
    "A-3;;;Petrenko;;w;08111000;04.12.2026\n"
).encode()


def test_the_template_reads_back_as_one_valid_household() -> None:
    rows = template_rows(TODAY)
    assert rows[0] == [aliases[0] for aliases in COLUMNS.values()]
    for content, media_type in ((as_xlsx(rows), XLSX_MEDIA_TYPE), (as_csv(rows), "text/csv")):
        checked = validate_upload(content, media_type, principal=CLERK, today=TODAY, max_rows=10)
        assert (checked.errors, len(checked.households), checked.rows) == ([], 1, 1)
        assert checked.households[0][0]["allocation_date"] == "2026-12-04"


def test_a_household_with_an_error_in_any_row_is_held_back_whole() -> None:
    checked = validate_upload(FILE, "text/csv", principal=CLERK, today=TODAY, max_rows=10)
    assert [(e.row, e.column) for e in checked.errors] == [(3, "Geschlecht"), (5, "Vornamen")]
    assert [d["authority_reference"] for d, _, _ in checked.households] == ["A-2"]
    assert checked.failed_rows == {2, 3, 5}  # A-1's head row too: the household is one unit
    assert (checked.rows, checked.valid_rows) == (4, 1)


def test_the_failed_rows_keep_the_file_and_say_what_is_wrong() -> None:
    checked = validate_upload(FILE, "text/csv", principal=CLERK, today=TODAY, max_rows=10)
    rows = failed_rows(FILE, "text/csv", rows=checked.failed_rows, errors=checked.errors, english=False)
    assert rows[0][-1] == "Fehler" and rows[0][:-1] == FILE.decode().splitlines()[0].split(";")
    assert [r[0] for r in rows[1:]] == ["A-1", "", "A-3"]
    assert rows[1][-1] == "" and rows[2][-1].startswith("Geschlecht: Unbekannte Angabe 'Q'")
    assert rows[3][-1].startswith("Vornamen: ")
    english = failed_rows(FILE, "text/csv", rows=[3], errors=checked.errors, english=True)
    assert english[0][-1] == "Errors" and "Unknown sex 'Q'" in english[1][-1]
    # Written back and read again, the "Fehler" column is ignored and the rows are those of the file.
    for media_type in ("text/csv", XLSX_MEDIA_TYPE):
        content, _, extension = as_file(rows, media_type)
        again = read_sheet(content, media_type, max_rows=10)
        assert again.ignored == ["Fehler"] and again.rows == 3
        assert extension == ("xlsx" if media_type == XLSX_MEDIA_TYPE else "csv")
    sheet = load_workbook(io.BytesIO(as_xlsx(rows))).worksheets[0]
    assert sheet["G2"].value == "08111000"  # text cells: the leading zero stays


def test_every_message_has_both_languages_and_every_template_key_exists() -> None:
    catalogue = messages.CATALOGUE.messages
    assert all(de and en for de, en in catalogue.values())
    templates = [
        *Path(messages.__file__).with_name("templates").glob("*.html"),
        *(FRAME_TEMPLATES / "kern").glob("*.html"),
    ]
    used = {k for path in templates for k in re.findall(r"\bt\('([a-z_.]+)'", path.read_text())}
    composed = {k for k in used if k.endswith(".")}  # completed in the template: checked below
    assert composed == {"dlq.kind.", "expect.", "import.title.", "role."}  # dlq.: the shared admin desk
    fields = {f"expect.{name}" for name in COLUMNS} | {"expect.file"}
    states = {f"import.title.{s}" for s in ("completed", "running", "failed")}
    kinds = {"dlq.kind.dead", "dlq.kind.parked"}
    wanted = (used - composed) | fields | states | kinds | {"role.reception_authority"}
    assert wanted <= set(catalogue), wanted - set(catalogue)
