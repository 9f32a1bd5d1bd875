"""The web UI's message catalogue covers every key the code and the templates use, in both languages."""

import json
import re
from pathlib import Path

from pydantic import ValidationError
from starlette.requests import Request

from wegweiser.casework.api import problems
from wegweiser.casework.domain.model import Consultation, refusal_naming
from wegweiser.casework.organisation import REFUSALS
from wegweiser.casework.web.admin import DONE
from wegweiser.casework.web.forms import field_errors
from wegweiser.casework.web.messages import CATALOGUE, refusal_text, t

SRC = Path(__file__).resolve().parents[2] / "src" / "wegweiser" / "casework"


def test_every_refusal_code_and_template_key_has_a_german_and_an_english_text() -> None:
    messages = CATALOGUE.messages
    codes = set(re.findall(r'CaseRefused\(\s*"(\w+)"', "".join(p.read_text() for p in SRC.rglob("*.py"))))
    assert {"consent_missing", "case_closed", "guardian_required"} <= codes
    missing = sorted(c for c in codes if f"r.{c}" not in messages)
    templates = "".join(p.read_text() for p in (SRC / "web" / "templates").glob("*.html"))
    keys = set(re.findall(r"\bt\('([a-z_.0-9]+)'", templates))
    missing += sorted(k for k in keys if not k.endswith(".") and k not in messages)
    assert missing == []
    assert all(de and en for de, en in messages.values())


def test_validation_errors_become_one_message_per_field_in_the_users_language() -> None:
    try:
        Consultation.model_validate(
            {"held_on": "gestern", "duration_minutes": 0, "type": "plausch", "channel": "telefon"}
        )
    except ValidationError as exc:
        german, english = field_errors(exc, "de"), field_errors(exc, "en")
    assert german == {
        "held_on": t("v.date", "de"),
        "duration_minutes": "Der Wert muss größer als 0 sein.",
        "type": t("v.choice", "de"),
    }
    assert english["duration_minutes"] == "The value must be greater than 0."
    try:
        Consultation.model_validate(
            {
                "held_on": "2026-11-02",
                "duration_minutes": 30,
                "type": "kurzberatung",
                "channel": "telefon",
                "interpreter_used": True,
            }
        )
    except ValidationError as exc:
        assert field_errors(exc, "en") == {"interpreter_language": "Please give the interpreter's language."}


def test_every_admin_refusal_and_desk_message_has_a_text() -> None:
    """The admin desk shows a refusal by its code next to its field; the codes are catalogue keys."""
    keys = set(REFUSALS) | {f"admin.done.{done}" for done in DONE}
    keys |= {f"admin.kind.{kind}" for kind in ("municipality", "landratsamt", "welfare")}
    assert sorted(k for k in keys if k not in CATALOGUE.messages) == []
    assert {field for field, _ in REFUSALS.values()} == {"ags", "provider_id", "team_id"}


def test_a_refusal_names_fields_by_their_labels_in_the_users_language() -> None:
    """Issue 14: "fehlen Angaben zur Person: address" mixed an English code name into German."""
    missing = refusal_naming("incomplete_person", "missing: {}", ["address", "phone"], "person_id", "fields")
    german, english = refusal_text(missing, "de"), refusal_text(missing, "en")
    assert "Angaben zur Person: Anschrift, Telefon." in german
    assert "address" not in german and "phone" not in german
    assert "more about the person: address, phone." in english


def test_the_api_gives_the_same_labelled_refusal_in_the_language_asked_for() -> None:
    missing = refusal_naming("incomplete_person", "missing: {}", ["date_of_birth"], "person_id", "fields")
    for language, label in (("de", "Geburtsdatum"), ("en", "date of birth")):
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/x",
            "headers": [(b"accept-language", language.encode())],
        }
        answer = problems.refused(Request(scope), missing)
        body = json.loads(bytes(answer.body))
        assert label in body["detail"] and "date_of_birth" not in body["detail"]
        assert body["errors"][0]["field"] == "person_id"
