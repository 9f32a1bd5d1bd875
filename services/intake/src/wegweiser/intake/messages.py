"""German-first messages for validation errors (pydantic speaks English only), English on request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from wegweiser.intake.domain.model import ArrivalRejected

_GERMAN: dict[str, str] = {
    "missing": "Pflichtangabe fehlt.",
    "extra_forbidden": "Unbekanntes Feld.",
    "string_type": "Text erwartet.",
    "string_too_short": "Darf nicht leer sein.",
    "string_too_long": "Zu lang (höchstens {max_length} Zeichen).",
    "string_pattern_mismatch": "Ungültiges Format oder unzulässige Zeichen.",
    "literal_error": "Ungültiger Wert; erlaubt: {expected}.",
    "enum": "Ungültiger Wert; erlaubt: {expected}.",
    "too_short": "Mindestens {min_length} Einträge.",
    "too_long": "Höchstens {max_length} Einträge.",
    "list_type": "Liste erwartet.",
    "tuple_type": "Liste erwartet.",
    "model_type": "Objekt erwartet.",
    "dict_type": "Objekt erwartet.",
    "model_attributes_type": "Objekt erwartet.",
    "uuid_parsing": "Keine gültige UUID.",
    "uuid_type": "Keine gültige UUID.",
    "date_type": "Kein gültiges Datum (JJJJ-MM-TT).",
    "date_parsing": "Kein gültiges Datum (JJJJ-MM-TT).",
    "date_from_datetime_parsing": "Kein gültiges Datum (JJJJ-MM-TT).",
    "date_from_datetime_inexact": "Kein gültiges Datum (JJJJ-MM-TT).",
    "int_type": "Ganze Zahl erwartet.",
    "int_parsing": "Ganze Zahl erwartet.",
    "bool_type": "Wahrheitswert erwartet.",
    "json_invalid": "Kein gültiges JSON.",
    "value_error": "Ungültige Angabe.",
    "partial_date": "Erwartet JJJJ, JJJJ-MM oder JJJJ-MM-TT (ein mögliches Datum).",
    "nationality_code": "{code} ist kein Ländercode nach ISO 3166-1 (z. B. SY, UA, AF).",
    "language_code": "{code} ist kein Sprachcode nach ISO 639 (z. B. ar, uk, fa).",
    "unknown_municipality": "{ags} ist keine bewohnte Gemeinde des Gemeindeverzeichnisses.",
    "invisible_character": (
        "Unsichtbares Steuerzeichen {code_point} ({name}) ist nicht erlaubt; bitte den Text ohne "
        "Formatierungszeichen eingeben."
    ),
}


def pydantic_errors(exc: ValidationError, *, prefix: str = "", english: bool) -> list[dict[str, Any]]:
    """One entry per problem: the dotted field path (with item index) and a message in one language."""
    return translated_errors(exc.errors(include_url=False), prefix=prefix, english=english)


def translated_errors(
    details: Sequence[Any], *, prefix: str = "", english: bool, skip_body: bool = False
) -> list[dict[str, Any]]:
    """Pydantic's error details as intake answers them; ``skip_body`` drops FastAPI's ``body`` location."""
    errors = []
    for e in details:
        loc = [p for p in e["loc"] if not (skip_body and p == "body")]
        field = ".".join(str(p) for p in (*([prefix] if prefix else []), *loc))
        if english:
            message = e["msg"]
        else:
            ctx = {k: _text(v) for k, v in (e.get("ctx") or {}).items()}
            template = _GERMAN.get(e["type"], "Ungültige Angabe.")
            try:
                message = template.format(**ctx)
            except (KeyError, IndexError):
                message = "Ungültige Angabe."
        errors.append({"field": field or "body", "message": message, "type": e["type"]})
    return errors


def _text(value: Any) -> str:
    return str(value)


def rejected_error(exc: ArrivalRejected, *, prefix: str = "", english: bool) -> dict[str, Any]:
    field = f"{prefix}.{exc.field}" if prefix else exc.field
    return {"field": field, "message": exc.message_en if english else exc.message_de, "type": "domain"}
