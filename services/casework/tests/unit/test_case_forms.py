"""The helpers the case forms share: what a posted form hands the domain, and the required selects."""

from wegweiser.casework.web.case_forms import code_select, form_texts, language_code, required_select


def test_form_texts_hand_the_domain_none_for_a_blank_or_missing_field() -> None:
    posted = {"held_on": "2026-11-02", "note": "  ", "type": "kurzberatung", "csrf": "x"}
    assert form_texts(posted, "held_on", "note", "channel") == {
        "held_on": "2026-11-02",
        "note": None,
        "channel": None,
    }


def test_a_language_code_is_lower_case_and_none_when_blank() -> None:
    assert language_code("AR") == "ar"
    assert language_code(" ") is None
    assert language_code(None) is None


def test_required_selects_are_labelled_from_the_catalogue_in_the_users_language() -> None:
    reason = code_select("reason", "cr", ["goals_met", "other"], "en")
    assert (reason.label, reason.kind, reason.required) == ("Reason", "select", True)
    assert reason.options == [("goals_met", "goals met"), ("other", "other")]
    purpose = required_select("purpose", [("case_transfer", "Fallübergabe")], "de", hint="Hinweis")
    assert (purpose.label, purpose.hint, purpose.required) == ("Zweck (Programm)", "Hinweis", True)
