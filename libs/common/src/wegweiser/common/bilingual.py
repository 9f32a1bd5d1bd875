"""Refusals that people read: German first, English on request (``Accept-Language: en``)."""

from __future__ import annotations


class BilingualError(Exception):
    """An error with a German and an English text for people; ``str()`` gives the English (for logs)."""

    def __init__(self, de: str, en: str) -> None:
        super().__init__(en)
        self.de = de
        self.en = en

    def text(self, *, english: bool) -> str:
        return self.en if english else self.de
