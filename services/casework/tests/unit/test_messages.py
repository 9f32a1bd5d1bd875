"""The web UI's message catalogue covers every key the code and the templates use, in both languages."""

import re
from pathlib import Path

from pydantic import ValidationError

from wegweiser.casework.domain.model import Consultation
from wegweiser.casework.organisation import REFUSALS
from wegweiser.casework.web.admin import DONE
from wegweiser.casework.web.forms import field_errors
from wegweiser.casework.web.messages import CATALOGUE, t

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
