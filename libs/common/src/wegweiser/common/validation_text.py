"""Validation errors in the user's language: pydantic's English texts ("Field required") in German.

Why: a German problem title above English field messages was the first thing new users stumbled on.
German is the default; ``Accept-Language: en`` keeps pydantic's own English text. Messages a domain
validator wrote itself (``value_error``) are passed through: they are already in the caller's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GERMAN: Mapping[str, str] = {
    "missing": "Pflichtangabe fehlt.",
    "extra_forbidden": "Unbekanntes Feld.",
    "json_invalid": "Kein gültiges JSON.",
    "string_type": "Text erwartet.",
    "string_too_short": "Zu kurz (mindestens {min_length} Zeichen).",
    "string_too_long": "Zu lang (höchstens {max_length} Zeichen).",
    "string_pattern_mismatch": "Hat nicht das erwartete Format.",
    "int_type": "Ganze Zahl erwartet.",
    "int_parsing": "Ganze Zahl erwartet.",
    "int_from_float": "Ganze Zahl erwartet.",
    "float_type": "Zahl erwartet.",
    "float_parsing": "Zahl erwartet.",
    "bool_type": "Ja/Nein-Wert (true/false) erwartet.",
    "bool_parsing": "Ja/Nein-Wert (true/false) erwartet.",
    "date_type": "Datum erwartet (JJJJ-MM-TT).",
    "date_parsing": "Kein gültiges Datum (JJJJ-MM-TT).",
    "date_from_datetime_parsing": "Kein gültiges Datum (JJJJ-MM-TT).",
    "date_from_datetime_inexact": "Datum ohne Uhrzeit erwartet (JJJJ-MM-TT).",
    "datetime_type": "Zeitpunkt erwartet (ISO 8601).",
    "datetime_parsing": "Kein gültiger Zeitpunkt (ISO 8601).",
    "datetime_from_date_parsing": "Kein gültiger Zeitpunkt (ISO 8601).",
    "uuid_type": "Kennung (UUID) erwartet.",
    "uuid_parsing": "Keine gültige Kennung (UUID).",
    "enum": "Unzulässiger Wert; erlaubt: {expected}.",
    "literal_error": "Unzulässiger Wert; erlaubt: {expected}.",
    "greater_than": "Muss größer als {gt} sein.",
    "greater_than_equal": "Muss mindestens {ge} sein.",
    "less_than": "Muss kleiner als {lt} sein.",
    "less_than_equal": "Darf höchstens {le} sein.",
    "too_short": "Zu wenige Einträge (mindestens {min_length}).",
    "too_long": "Zu viele Einträge (höchstens {max_length}).",
    "list_type": "Liste erwartet.",
    "dict_type": "Objekt erwartet.",
    "model_type": "Objekt erwartet.",
    "model_attributes_type": "Objekt erwartet.",
    "url_parsing": "Keine gültige Adresse (URL).",
    "url_scheme": "Adresse mit unzulässigem Schema.",
    "value_error": "{message}",
    "assertion_error": "{message}",
}
FALLBACK = "Ungültiger Wert."


def message(error: Mapping[str, Any], *, english: bool) -> str:
    """The text for one pydantic error entry (``exc.errors()`` item) in German or English."""
    if english:
        return str(error.get("msg", ""))
    template = GERMAN.get(str(error.get("type", "")))
    if template is None:
        return FALLBACK
    context = {
        key: str(value).replace("'", "").replace(" or ", " oder ")
        for key, value in (error.get("ctx") or {}).items()
    }
    if "{message}" in template:
        original = str(error.get("msg", ""))
        return original.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return FALLBACK
