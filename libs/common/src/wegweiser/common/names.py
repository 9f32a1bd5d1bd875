"""Names as people write them: one normal form on the way in, one folded form for comparing.

- ``normalised``: Unicode NFC, so "Ne\\u0301meth" (e + combining accent) is stored as "Németh".
- ``invisible_character``: a bidi control (U+202A-U+202E, U+2066-U+2069, LRM/RLM, ...) or another
  invisible format character (Unicode category Cf: zero-width space, soft hyphen, BOM, ...) that may
  not be part of a name; such text looks like one thing and sorts, searches and prints as another.
  A zero-width (non-)joiner between two letters is allowed: Persian and Indic spelling need it.
- ``fold``: the key search and duplicate checks compare: accents dropped, Turkish dotless ı as i,
  Cyrillic and Arabic transliterated to Latin, case folded, spaces collapsed. Never shown or stored as
  the name; "Németh", "NEMETH" and "Ne\\u0301meth" fold alike, as do "Yılmaz" and "Yilmaz", or
  "Шевченко" and "Shevchenko".
- ``csv_cell``: a text cell for a CSV export that spreadsheet software will not run as a formula.

Pure functions of the standard library; the costly one is cached, since names repeat a lot.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import TypeVar

# Cyrillic (Ukrainian and Russian) to Latin, close to the Ukrainian national system of 2010 and
# ICAO 9303 for Russian: the scripts of most people arriving since 2022. Lower case; the apostrophe
# (a separation sign in Ukrainian) is dropped.
CYRILLIC_LATIN: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "ъ": "", "ы": "y", "э": "e",
    "ё": "e", "ў": "u", "'": "", "’": "",
}  # fmt: skip

# Arabic (and the Persian/Urdu letters) to Latin, a plain ASCII form of DIN 31635: short vowels only
# where written as marks, hamza and ʿain dropped, digits as Western digits.
ARABIC_LATIN: dict[str, str] = {
    "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ٱ": "a", "ء": "", "ؤ": "u", "ئ": "i", "ب": "b",
    "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z",
    "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f",
    "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "و": "w", "ي": "y",
    "ى": "a", "پ": "p", "چ": "ch", "ژ": "zh", "گ": "g", "ک": "k", "ی": "y", "ے": "e", "ں": "n",
    "ٹ": "t", "ڈ": "d", "ڑ": "r", "ھ": "h", "ۀ": "h", "ـ": "",
    "\u064e": "a", "\u064f": "u", "\u0650": "i", "\u0670": "a",  # fatha, damma, kasra, dagger alif
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
}  # fmt: skip

# Latin letters that decomposition does not reduce to a base letter plus marks (after case folding).
LATIN_LETTERS: dict[str, str] = {
    "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ł": "l", "ı": "i", "þ": "th", "ð": "d",
    "ħ": "h", "ŧ": "t", "ŋ": "ng", "ĸ": "q", "·": "", "ʼ": "",  # ŀ is l·, ŉ is ʼn
    "ə": "a", "ɛ": "e", "ɔ": "o", "ƒ": "f", "ɓ": "b", "ɗ": "d", "ƙ": "k", "ƴ": "y",  # Azeri, Hausa, ...
}  # fmt: skip

_FOLD = str.maketrans({**LATIN_LETTERS, **CYRILLIC_LATIN, **ARABIC_LATIN})
_JOINERS = frozenset("\u200c\u200d")  # zero-width non-joiner and joiner
_DROPPED = frozenset({"Mn", "Me", "Cf"})  # marks left by decomposition, invisible format characters
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

S = TypeVar("S")


def normalised(text: str) -> str:
    """``text`` in Unicode NFC: one spelling for what looks the same."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def invisible_character(text: str) -> str | None:
    """The first invisible format character (category Cf) that may not be in a name, or None."""
    if text.isascii():
        return None
    for i, ch in enumerate(text):
        if unicodedata.category(ch) != "Cf":
            continue
        if ch in _JOINERS and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
            continue
        return ch
    return None


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """The comparison key of a name: Latin letters without accents, lower case, single spaces."""
    if text.isascii():
        return " ".join(text.casefold().replace("'", "").split())
    # Translated before decomposing (Ukrainian й is i, not и plus a breve) and after (Cyrillic ѐ is е
    # plus a grave accent, and its е is e).
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text).translate(_FOLD)
    return " ".join("".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED).split())


def csv_cell(value: S) -> S | str:
    """A text starting with ``= + - @`` (or tab, carriage return) gets a leading apostrophe, so a
    spreadsheet shows it instead of running it as a formula (OWASP "CSV injection"); other values as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
