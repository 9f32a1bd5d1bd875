"""Name normalisation and the Kölner Phonetik (Postel 1969), the German phonetic code for duplicates.

Pure functions: the same person written "Müller", "Mueller" or "MÜLLER" (or Мюллер in Cyrillic) gets the
same code, so a probable duplicate can be found by an index lookup instead of comparing every pair. The
costly ones are cached, since names repeat a lot.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from wegweiser.common.names import CYRILLIC_LATIN, LATIN_LETTERS

# German umlauts are written ae/oe/ue when diacritics are unavailable; both spellings must meet.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
# After case folding: letters that NFKD does not decompose into a base letter plus marks.
_SPECIAL = str.maketrans(LATIN_LETTERS)


def is_latin(text: str) -> bool:
    """True when every letter of ``text`` is from the Latin script (with or without diacritics)."""
    return all(not ch.isalpha() or "LATIN" in unicodedata.name(ch, "") for ch in text)


def is_cyrillic(text: str) -> bool:
    return any("CYRILLIC" in unicodedata.name(ch, "") for ch in text) and all(
        not ch.isalpha() or "CYRILLIC" in unicodedata.name(ch, "") or "LATIN" in unicodedata.name(ch, "")
        for ch in text
    )


@lru_cache(maxsize=65_536)
def transliterate(text: str) -> str | None:
    """A Latin spelling of ``text``: itself if Latin, transliterated if Cyrillic, otherwise None."""
    if text.isascii() or is_latin(text):
        return text
    if is_cyrillic(text):
        out = []
        for ch in text:
            latin = CYRILLIC_LATIN.get(ch.lower())
            if latin is None:
                out.append(ch)
            else:
                out.append(latin.capitalize() if ch.isupper() else latin)
        return "".join(out)
    return None


def normalise(name: str) -> str:
    """Lower case ASCII letters and single spaces: umlauts as ae/oe/ue, other diacritics dropped."""
    text = unicodedata.normalize("NFC", name).casefold().translate(_UMLAUTS).translate(_SPECIAL)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = "".join(ch if "a" <= ch <= "z" else " " for ch in text).split()
    return " ".join(words)


_VOWELS = frozenset("aeijouy")
_C_INITIAL_HARD = frozenset("ahkloqrux")
_C_HARD = frozenset("ahkoqux")


@lru_cache(maxsize=65_536)
def koelner_raw(name: str) -> str:
    """Kölner Phonetik before its two reduction steps: one code per letter (H silent, X two digits)."""
    letters = [ch for ch in normalise_for_code(name) if "a" <= ch <= "z"]
    codes: list[str] = []
    for i, ch in enumerate(letters):
        prev = letters[i - 1] if i > 0 else ""
        nxt = letters[i + 1] if i + 1 < len(letters) else ""
        if ch in _VOWELS:
            code = "0"
        elif ch == "h":
            code = ""
        elif ch == "b":
            code = "1"
        elif ch == "p":
            code = "3" if nxt == "h" else "1"
        elif ch in "dt":
            code = "8" if nxt in ("c", "s", "z") else "2"
        elif ch in "fvw":
            code = "3"
        elif ch in "gkq":
            code = "4"
        elif ch == "c":
            if i == 0:
                code = "4" if nxt in _C_INITIAL_HARD else "8"
            else:
                code = "4" if nxt in _C_HARD and prev not in ("s", "z") else "8"
        elif ch == "x":
            code = "8" if prev in ("c", "k", "q") else "48"
        elif ch == "l":
            code = "5"
        elif ch in "mn":
            code = "6"
        elif ch == "r":
            code = "7"
        else:  # s, z
            code = "8"
        codes.append(code)
    return "".join(codes)


def koelner(name: str) -> str:
    """The Kölner Phonetik code: repeated digits collapsed, then every 0 but a leading one removed."""
    raw = koelner_raw(name)
    collapsed: list[str] = []
    for digit in raw:
        if not collapsed or collapsed[-1] != digit:
            collapsed.append(digit)
    if not collapsed:
        return ""
    return collapsed[0] + "".join(d for d in collapsed[1:] if d != "0")


_UMLAUT_VOWEL = str.maketrans({"ä": "e", "ö": "e", "ü": "e"})


def normalise_for_code(name: str) -> str:
    """For coding an umlaut is one vowel, but not A, O or U: "Cäsar" starts with an S sound."""
    text = unicodedata.normalize("NFC", name).casefold().translate(_UMLAUT_VOWEL).translate(_SPECIAL)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@lru_cache(maxsize=65_536)
def family_code(name: str) -> str:
    """Code of the whole family name: "Al-Haddad", "Al Haddad" and "Alhaddad" meet."""
    return koelner(name)


@lru_cache(maxsize=65_536)
def given_code(names: str) -> str:
    """Code of the first given name: middle names are the part most often left out or reordered."""
    words = normalise(names).split()
    return koelner(words[0]) if words else ""
