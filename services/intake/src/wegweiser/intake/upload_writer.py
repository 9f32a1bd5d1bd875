"""Files the upload page hands out: the template, and the failed rows of an upload to correct.

Both use the documented German headers of ``upload_reader.COLUMNS``, so a corrected file reads back
as it was written. The failed rows keep the file's own header and cells and add a column "Fehler"
with the row's messages; the reader ignores that column when the file comes back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from wegweiser.intake.upload_reader import COLUMNS, XLSX_MEDIA_TYPE, CellError, read_table

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ERRORS_HEADER = ("Fehler", "Errors")


def template_rows(today: dt.date) -> list[list[str]]:
    """The headers and one example household of one person, allocated yesterday to Stuttgart."""
    example = {
        "authority_reference": "UAB-2026-0001",
        "household": "H1",
        "role": "Haushaltsvorstand",
        "family_name": "Haddad",
        "given_names": "Rania",
        "date_of_birth": "17.04.1988",
        "sex": "w",
        "nationalities": "SY",
        "languages": "ar, de",
        "residence_status": "anerkannt",
        "ags": "08111000",
        "allocation_date": (today - dt.timedelta(days=1)).strftime("%d.%m.%Y"),
        "facility": "LEA Ellwangen",
    }
    return [[aliases[0] for aliases in COLUMNS.values()], [example.get(name, "") for name in COLUMNS]]


def failed_rows(
    content: bytes, media_type: str, *, rows: Iterable[int], errors: Sequence[CellError], english: bool
) -> list[list[Any]]:
    """The header and every failed row of the file as it was uploaded, each with its messages."""
    wanted = set(rows)
    messages: dict[int, list[str]] = {}
    for e in errors:
        where = f"{e.column}: " if e.column else ""
        messages.setdefault(e.row, []).append(where + (e.message_en if english else e.message_de))
    table = read_table(content, media_type)
    header = [*next(table, []), ERRORS_HEADER[1] if english else ERRORS_HEADER[0]]
    out = [header]
    for number, cells in enumerate(table, start=2):
        if number in wanted:
            width = len(header) - 1
            padded = [*list(cells)[:width], *[None] * (width - len(cells))]
            out.append([*padded, " | ".join(messages.get(number, []))])
    return out


def as_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    """Semicolon-separated UTF-8 with a byte order mark: Excel opens umlauts and leading zeros right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows([["" if cell is None else _cell(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet; every cell as text, so AGS and dates keep the form they were written in."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Zuweisungen"
    for row in rows:
        sheet.append(["" if cell is None else _cell(cell) for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        for cell in column:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_file(rows: Sequence[Sequence[Any]], media_type: str) -> tuple[bytes, str, str]:
    """Content, media type and file extension in the format of the upload."""
    if media_type == XLSX_MEDIA_TYPE:
        return as_xlsx(rows), XLSX_MEDIA_TYPE, "xlsx"
    return as_csv(rows), CSV_MEDIA_TYPE, "csv"


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y") if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
