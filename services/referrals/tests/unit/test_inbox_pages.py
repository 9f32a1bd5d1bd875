"""The partner inbox's texts and answers: every key in both languages, answers as the lifecycle allows."""

import re
from pathlib import Path

from wegweiser.referrals.domain.lifecycle import TRANSITIONS
from wegweiser.referrals.web.inbox import ANSWERS, DECLINE_REASONS, DROP_REASONS, answers_for
from wegweiser.referrals.web.messages import CATALOGUE
from wegweiser.referrals.web.staff import DEV_PARTNER_STAFF, ORGANISATIONS

WEB = Path(__file__).resolve().parents[2] / "src" / "wegweiser" / "referrals" / "web"


def test_every_key_the_pages_use_has_a_german_and_an_english_text() -> None:
    messages = CATALOGUE.messages
    sources = "".join(p.read_text() for p in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")])
    keys = set(re.findall(r"\bt\(\s*['\"]([a-z_.0-9]+)['\"]", sources))
    keys |= {f"answer.{a}{part}" for a in ANSWERS for part in ("", ".hint", ".submit")}
    keys |= {f"done.{a}" for a in ANSWERS} | {f"reason.{r}" for r in (*DECLINE_REASONS, *DROP_REASONS)}
    keys |= {"role.partner", "reason.consent_withdrawn", "reason.expired"}
    assert {"inbox.title", "due.title", "error.not_found"} <= keys
    assert sorted(k for k in keys if not k.endswith(".") and k not in messages) == []
    assert all(de and en for de, en in messages.values())


def test_the_page_offers_exactly_the_answers_the_lifecycle_allows() -> None:
    assert answers_for("sent") == ["accept", "decline"]
    assert answers_for("accepted") == ["start", "drop"]
    assert answers_for("started") == ["complete", "drop"]
    assert all(answers_for(state) == [] for state in ("declined", "completed", "dropped", "expired"))
    assert all(set(answers_for(state)) <= set(TRANSITIONS[state]) for state in TRANSITIONS)
    assert "consent_withdrawn" not in DROP_REASONS  # casework reports that, not the partner


def test_the_development_users_are_staff_of_partners_of_the_example_catalogue() -> None:
    assert len({s.partner_id for s in DEV_PARTNER_STAFF}) == 3
    assert all(s.partner_id in ORGANISATIONS and s.role == "partner" for s in DEV_PARTNER_STAFF)
