"""Reads uploaded CSV and XLSX files (the reception authorities' exports) into households, one row per person.

Column headers are matched loosely (case, umlauts, spaces and punctuation do not matter), German or
English; the mapping is documented in the service README. Values are translated to the API's codes
here, so the same validation as for the JSON API applies afterwards.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# canonical field -> accepted headers (first: the documented German name, then aliases)
COLUMNS: dict[str, tuple[str, ...]] = {
    "authority_reference": ("Aktenzeichen", "Az", "Referenz", "authority_reference", "reference"),
    "household": ("Haushalt", "Haushaltsnummer", "Familiennummer", "household", "household_id"),
    "role": ("Rolle", "Rolle im Haushalt", "role"),
    "family_name": ("Familienname", "Nachname", "family_name", "surname", "last_name"),
    "given_names": ("Vornamen", "Vorname", "given_names", "given_name", "first_name"),
    "family_name_latin": ("Familienname (lateinisch)", "family_name_latin"),
    "given_names_latin": ("Vornamen (lateinisch)", "given_names_latin"),
    "date_of_birth": ("Geburtsdatum", "date_of_birth", "birth_date", "dob"),
    "sex": ("Geschlecht", "sex", "gender"),
    "nationalities": ("Staatsangehörigkeit", "Staatsangehörigkeiten", "nationality", "nationalities"),
    "languages": ("Sprachen", "Sprache", "languages", "language"),
    "residence_status": ("Aufenthaltsstatus", "residence_status"),
    "ags": ("Zielgemeinde (AGS)", "Zielgemeinde", "AGS", "target_ags", "ags"),
    "allocation_date": ("Zuweisungsdatum", "allocation_date"),
    "facility": ("Einrichtung", "Unterkunft", "facility"),
    "phone": ("Telefon", "phone"),
    "email": ("E-Mail", "Email", "email"),
}
REQUIRED = ("authority_reference", "family_name", "given_names", "ags", "allocation_date")
ARRIVAL_FIELDS = ("authority_reference", "ags", "allocation_date", "facility")
PERSON_FIELDS = (
    "role",
    "family_name",
    "given_names",
    "family_name_latin",
    "given_names_latin",
    "date_of_birth",
    "sex",
    "nationalities",
    "languages",
    "residence_status",
    "phone",
    "email",
)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _key(text: str) -> str:
    text = text.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]", "", text)


_HEADER_INDEX = {_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}

_SEX = {
    "female": ("w", "weiblich", "female", "f", "frau"),
    "male": ("m", "maennlich", "male", "mann"),
    "diverse": ("d", "divers", "diverse", "x"),
    "unknown": ("u", "unbekannt", "unknown", "ohneangabe", "keineangabe"),
}
_ROLE = {
    "head": (
        "head",
        "haushaltsvorstand",
        "hv",
        "vorstand",
        "hauptperson",
        "antragsteller",
        "antragstellerin",
    ),
    "partner": (
        "partner",
        "partnerin",
        "ehepartner",
        "ehepartnerin",
        "ehegatte",
        "ehegattin",
        "ehefrau",
        "ehemann",
    ),
    "child": ("child", "kind", "sohn", "tochter"),
    "other": ("other", "sonstige", "sonstiger", "andere", "angehoerige", "angehoeriger"),
}
_STATUS = {
    "asylum_seeker": (
        "asylumseeker",
        "asylbewerber",
        "asylbewerberin",
        "asylsuchend",
        "aufenthaltsgestattung",
    ),
    "recognised_refugee": (
        "recognisedrefugee",
        "anerkannt",
        "anerkannterfluechtling",
        "asylberechtigt",
        "gfk",
    ),
    "subsidiary_protection": ("subsidiaryprotection", "subsidiaer", "subsidiaererschutz"),
    "temporary_protection_24": (
        "temporaryprotection24",
        "24",
        "24aufenthg",
        "ukraine",
        "voruebergehenderschutz",
    ),
    "duldung": ("duldung", "geduldet"),
    "other": ("other", "sonstige", "sonstiger", "andere"),
}


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: code for code, aliases in table.items() for alias in aliases}


SEX, ROLE, RESIDENCE = _lookup(_SEX), _lookup(_ROLE), _lookup(_STATUS)


@dataclass(frozen=True, slots=True)
class CellError:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str | None  # the header as written in the file
    field: str | None
    message_de: str
    message_en: str


@dataclass
class Household:
    """Rows of one household: ``arrival`` and ``persons`` hold API field values (ArrivalIn's shape)."""

    key: str
    rows: list[int] = field(default_factory=list)
    arrival: dict[str, Any] = field(default_factory=dict)
    persons: list[dict[str, Any]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {**self.arrival, "persons": self.persons}


@dataclass
class Sheet:
    households: list[Household]
    rows: int
    errors: list[CellError]
    columns: dict[str, str]  # canonical field -> header as written
    ignored: list[str]


class UnreadableFile(ValueError):
    def __init__(self, message_de: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_de = message_de
        self.message_en = message_en


def read_table(content: bytes, media_type: str) -> Iterator[list[Any]]:
    """Rows of cells from CSV (UTF-8 or Windows-1252, ``;`` or ``,``) or the first sheet of an XLSX."""
    if media_type == XLSX_MEDIA_TYPE or content[:2] == b"PK":
        yield from _xlsx_rows(content)
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise UnreadableFile("Die Datei ist keine CSV-Datei.", "The file is not a CSV file.")
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise UnreadableFile(
            "Die Datei ist keine lesbare XLSX-Datei.", f"The file is not a readable XLSX file ({exc})."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def read_sheet(content: bytes, media_type: str, *, max_rows: int) -> Sheet:
    """Map every row; collect all problems instead of stopping at the first."""
    rows = read_table(content, media_type)
    header = next(rows, None)
    if header is None:
        raise UnreadableFile("Die Datei ist leer.", "The file is empty.")
    columns: dict[int, str] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(header):
        title = "" if cell is None else str(cell).strip()
        name = _HEADER_INDEX.get(_key(title))
        if name is None or name in written:
            if title:
                ignored.append(title)
            continue
        columns[position] = name
        written[name] = title
    errors = [
        CellError(
            1,
            COLUMNS[name][0],
            name,
            f"Spalte '{COLUMNS[name][0]}' fehlt.",
            f"Column '{COLUMNS[name][0]}' is missing.",
        )
        for name in REQUIRED
        if name not in written
    ]
    if errors:
        return Sheet([], 0, errors, written, ignored)
    households: dict[str, Household] = {}
    count = 0
    for number, cells in enumerate(rows, start=2):
        values = {name: cells[pos] for pos, name in columns.items() if pos < len(cells)}
        if all(_blank(v) for v in values.values()):
            continue
        count += 1
        if count > max_rows:
            raise UnreadableFile(
                f"Mehr als {max_rows} Zeilen; bitte die Datei teilen.",
                f"More than {max_rows} rows; please split the file.",
            )
        _map_row(number, values, written, households, errors)
    for household in households.values():
        if len(household.persons) == 1 and "role" not in household.persons[0]:
            household.persons[0]["role"] = "head"
        for index, person in enumerate(household.persons):
            if "role" not in person:
                errors.append(
                    CellError(
                        household.rows[index],
                        written.get("role", COLUMNS["role"][0]),
                        "role",
                        "Rolle fehlt (bei Haushalten mit mehreren Personen Pflicht).",
                        "Role is missing (required for households of several persons).",
                    )
                )
    return Sheet(list(households.values()), count, errors, written, ignored)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _map_row(
    number: int,
    values: dict[str, Any],
    written: dict[str, str],
    households: dict[str, Household],
    errors: list[CellError],
) -> None:
    def fail(name: str, de: str, en: str) -> None:
        errors.append(CellError(number, written.get(name), name, de, en))

    reference = "" if _blank(values.get("authority_reference")) else _text(values["authority_reference"])
    household_key = "" if _blank(values.get("household")) else _text(values["household"])
    key = household_key or reference
    if not key:
        fail("authority_reference", "Aktenzeichen fehlt.", "Reference is missing.")
        return
    household = households.get(key)
    if household is None:
        household = households[key] = Household(key=key)
    household.rows.append(number)
    arrival: dict[str, Any] = {}
    person: dict[str, Any] = {}
    for name, value in values.items():
        if _blank(value) or name == "household":
            continue
        try:
            converted = _convert(name, value)
        except ValueError as exc:
            de, _, en = str(exc).partition("|")
            fail(name, de, en or de)
            continue
        (arrival if name in ARRIVAL_FIELDS else person)[name] = converted
    for name, value in arrival.items():
        if name not in household.arrival:
            household.arrival[name] = value
        elif household.arrival[name] != value:
            fail(
                name,
                f"Weicht innerhalb des Haushalts '{key}' ab ({household.arrival[name]} / {value}).",
                f"Differs within household '{key}' ({household.arrival[name]} / {value}).",
            )
    household.persons.append(person)


def _convert(name: str, value: Any) -> Any:
    """One cell to the API's value; raises ValueError('deutsch|english')."""
    if name == "date_of_birth":
        return _partial_date(value)
    if name == "allocation_date":
        return _full_date(value)
    text = _text(value)
    if name == "ags":
        digits = text.replace(" ", "")
        # Excel drops the leading zero of 08111000 when the column is numeric.
        return digits.zfill(8) if digits.isdigit() and len(digits) == 7 else digits
    if name == "sex":
        return _code(SEX, text, "Geschlecht", "sex", "w, m, d, u")
    if name == "role":
        return _code(ROLE, text, "Rolle", "role", "Haushaltsvorstand, Partner, Kind, Sonstige")
    if name == "residence_status":
        return _code(
            RESIDENCE,
            text,
            "Aufenthaltsstatus",
            "residence status",
            "Asylbewerber, anerkannt, subsidiär, §24, Duldung, sonstige",
        )
    if name == "nationalities":
        return [c.upper() for c in re.split(r"[,;/\s]+", text) if c]
    if name == "languages":
        return [c.lower() for c in re.split(r"[,;/\s]+", text) if c]
    return text


def _code(table: dict[str, str], text: str, what_de: str, what_en: str, allowed: str) -> str:
    code = table.get(_key(text))
    if code is None:
        raise ValueError(
            f"Unbekannte Angabe '{text[:40]}' für {what_de}; erlaubt: {allowed}.|"
            f"Unknown {what_en} '{text[:40]}'; allowed: {allowed}."
        )
    return code


_DOTTED = re.compile(r"^(?:(\d{1,2})\.)?(?:(\d{1,2})\.)?(\d{4})$")


def _partial_date(value: Any) -> str:
    """Dates of birth as authorities write them: 17.04.1990, 04.1990, 00.00.1990, 1990, ISO, date cells."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    text = _text(value)
    match = _DOTTED.match(text)
    if match:
        first, second, year = match.groups()
        day, month = (first, second) if second is not None else (None, first)
        day = None if day in (None, "0", "00") else day
        month = None if month in (None, "0", "00") else month
        if month is None:
            return year
        return f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")
    return text  # ISO forms and anything else: the API's validation judges it


def _full_date(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    text = _text(value)
    match = re.match(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", text)
    if match:
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return text
    raise ValueError(
        f"Kein Datum: '{text[:40]}' (erwartet TT.MM.JJJJ oder JJJJ-MM-TT).|"
        f"Not a date: '{text[:40]}' (expected DD.MM.YYYY or YYYY-MM-DD)."
    )
