"""The web pages' message catalogues: texts read from TOML, every key in German and English."""

from __future__ import annotations

from pathlib import Path

import pytest

from wegweiser.common.web.messages import FRAME, Catalogue, MissingTranslation, load_messages


def test_every_frame_key_has_a_german_and_an_english_text() -> None:
    assert {"skip", "nav.logout", "login.title", "error.csrf"} <= set(FRAME)
    assert all(german.strip() and english.strip() for german, english in FRAME.values())


@pytest.mark.parametrize(
    "entry",
    [
        '"save" = ["Speichern"]',
        '"save" = ["Speichern", ""]',
        '"save" = ["", "Save"]',
        '"save" = ["Speichern", "Save", "Enregistrer"]',
        '"save" = "Speichern"',
    ],
    ids=["english-missing", "english-empty", "german-empty", "unknown-third", "not-a-list"],
)
def test_the_loader_refuses_a_key_without_a_text_in_each_language(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "messages.toml"
    path.write_text(f'"cancel" = ["Abbrechen", "Cancel"]\n{entry}\n', encoding="utf-8")
    with pytest.raises(MissingTranslation, match="'save'"):
        load_messages(path)


def test_a_service_text_wins_over_the_frame_and_a_missing_key_shows_itself(tmp_path: Path) -> None:
    path = tmp_path / "messages.toml"
    path.write_text(
        '"error.csrf" = ["Bitte neu laden.", "Please reload."]\n'
        '"case.title" = ["Fall {name}", "Case {name}"]\n',
        encoding="utf-8",
    )
    catalogue = Catalogue.with_frame(path)
    assert catalogue.t("error.csrf", "en") == "Please reload."
    assert catalogue.t("case.title", "de", name="Haddad") == "Fall Haddad"
    assert catalogue.t("case.title", "en", name="Haddad") == "Case Haddad"
    assert catalogue.t("skip", "en") == "Skip to main content"
    assert catalogue.t("no.such.key", "en") == "no.such.key"
