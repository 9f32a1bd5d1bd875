"""Message catalogues of the web pages: German first, English second, one ``t(key, lang)`` per service.

The texts are data, not code: each catalogue is a TOML file whose every key lists its German and its
English text. ``frame.toml`` here holds the texts of the shared page frame and development login; a
service's own file adds its keys and may give a frame key a text of its own. A key without a text in
every language is refused when the file is read, so a gap in translation cannot ship; a key missing from
the catalogue shows the key itself, so a gap is visible rather than silent.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wegweiser.common.web.session import LANGUAGES

Texts = tuple[str, str]  # German, English: the order of ``LANGUAGES``


class MissingTranslation(ValueError):
    """A catalogue key lacks its text in one of the languages."""


def load_messages(path: Path) -> dict[str, Texts]:
    """The catalogue file's keys and their texts; ``MissingTranslation`` if any language is left out."""
    with path.open("rb") as file:
        entries = tomllib.load(file)
    return {key: _texts(path, key, value) for key, value in entries.items()}


def _texts(path: Path, key: str, value: object) -> Texts:
    if not (
        isinstance(value, list)
        and len(value) == len(LANGUAGES)
        and all(isinstance(text, str) and text.strip() for text in value)
    ):
        raise MissingTranslation(f"{path.name}: {key!r} needs one text in each of {', '.join(LANGUAGES)}")
    german, english = value
    return german, english


FRAME = load_messages(Path(__file__).with_name("frame.toml"))


class Catalogue:
    """``t(key, lang, **params)`` formats the message with ``str.format``; a later part wins a key."""

    def __init__(self, *parts: Mapping[str, Texts]) -> None:
        self.messages: dict[str, Texts] = {}
        for part in parts:
            self.messages.update(part)

    @classmethod
    def with_frame(cls, path: Path) -> Catalogue:
        """The shared frame's texts and those of a service's catalogue file."""
        return cls(FRAME, load_messages(path))

    def t(self, key: str, lang: str = "de", **params: Any) -> str:
        pair = self.messages.get(key)
        if pair is None:
            return key
        text = pair[1] if lang == "en" else pair[0]
        return text.format(**params) if params else text
