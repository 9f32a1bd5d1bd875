"""The subject access export as a readable PDF, rendered once here from the JSON document of any service.

A person reads it, so it shows labels instead of field names, dates as people write them and one table
per entry; the JSON stays the complete machine-readable copy. Names may be in any script: Noto Sans
(Latin, Greek, Cyrillic) and Noto Sans Arabic come from font packages (not from the machine) and are
embedded as subsets; HarfBuzz shapes Arabic so it reads joined and right to left (only documents with
right-to-left text are shaped: shaping makes fpdf2's line breaking several times slower).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import fontpkg
from fpdf import FPDF

from wegweiser.common.localtime import BERLIN

TEXT_FONT, ARABIC_FONT = "NotoSans", "NotoSansArabic"
LABEL_SHARE = 0.36  # of the text width, for the label column of an entry's table
LINE = 4.6  # mm, the height of a line of the 9 pt table text
MAX_DEPTH = 4  # nested values deeper than this print as one line (a partner message's body, say)


@cache
def _catalogue() -> dict[str, Any]:
    text = files("wegweiser.common.data").joinpath("subject_access.toml").read_text("utf-8")
    return tomllib.loads(text)


def words(language: str) -> Mapping[str, Any]:
    """The document's words, field labels and service names in ``language`` ("de" or "en")."""
    return _catalogue()["en" if language == "en" else "de"]


def field_label(key: str, language: str) -> str:
    """A field's readable label; a field without one prints its name with spaces."""
    label = words(language)["fields"].get(key)
    return str(label) if label else key.replace("_", " ").capitalize()


def render(doc: Mapping[str, Any]) -> bytes:
    """The PDF of a ``wegweiser.subject-access.v1`` document, in the document's language."""
    language = str(doc.get("language", "de"))
    pdf = _Pdf(language, str(doc.get("schema", "")), shaping=needs_shaping(doc))
    pdf.add_page()
    _front(pdf, doc, language)
    for title, content in doc.get("sections", {}).items():
        _section(pdf, str(title), content, language)
    return bytes(pdf.output())


class _Pdf(FPDF):
    """A4 with the embedded fonts and a footer naming the format and the page."""

    def __init__(self, language: str, schema: str, *, shaping: bool) -> None:
        super().__init__(format="A4")
        self.words, self.schema = words(language)["document"], schema
        self.set_title(f"{self.words['title']} {self.words['subtitle']}")
        self.set_lang(language)
        # The packages' variable fonts at their default instance (regular); fontpkg finds the files.
        self.add_font(TEXT_FONT, "", str(fontpkg.path("Noto Sans")))
        self.add_font(ARABIC_FONT, "", str(fontpkg.path("Noto Sans Arabic")))
        self.set_fallback_fonts([ARABIC_FONT], exact_match=False)
        self.set_text_shaping(shaping)
        self.set_auto_page_break(True, margin=18)
        self.set_font(TEXT_FONT, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(TEXT_FONT, size=8)
        self.set_text_color(90)
        page = f"{self.words['page']} {self.page_no()}/{{nb}}"
        self.cell(0, 5, f"{self.schema} · {page}", align="R")


def needs_shaping(doc: Mapping[str, Any]) -> bool:
    """Right-to-left text (Arabic, Hebrew) needs HarfBuzz; without it rendering is several times faster."""
    text = json.dumps(doc, ensure_ascii=False)
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in set(text))


def _front(pdf: _Pdf, doc: Mapping[str, Any], language: str) -> None:
    """Title, whom and what the copy is about, who made it and when."""
    said = words(language)["document"]
    _say(pdf, said["title"], size=17, height=8)
    _say(pdf, said["subtitle"], size=12, height=7)
    pdf.ln(3)
    _table(pdf, list(_facts(doc, language)))
    _say(pdf, said["note"], size=9, height=5)
    pdf.ln(2)


def _say(
    pdf: _Pdf, text: str, *, size: float, height: float, color: tuple[int, int, int] = (0, 0, 0)
) -> None:
    """A paragraph over the full width."""
    pdf.set_font(size=size)
    pdf.set_text_color(*color)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0)


def _facts(doc: Mapping[str, Any], language: str) -> Iterator[tuple[str, str]]:
    said = words(language)
    name = person_name(doc.get("sections", {}))
    if name:
        yield said["document"]["person"], name
    if doc.get("person_id"):
        yield said["document"]["person_id"], str(doc["person_id"])
    if doc.get("case_id"):
        yield said["document"]["case"], str(doc["case_id"])
    service = str(doc.get("service", ""))
    yield said["document"]["service"], said["services"].get(service, service)
    yield said["document"]["generated_at"], readable(doc.get("generated_at"), language)


def person_name(value: Any) -> str | None:
    """The first person record's name found in the sections (given names, then family name)."""
    if isinstance(value, Mapping):
        if value.get("family_name") and value.get("given_names"):
            return f"{value['given_names']} {value['family_name']}"
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = person_name(item)
            if found:
                return found
    return None


def _section(pdf: _Pdf, title: str, content: Any, language: str) -> None:
    """One section: its title, then one table per entry (a section that is one record is one entry)."""
    said = words(language)["document"]
    pdf.ln(3)
    if pdf.will_page_break(7 + 4 * LINE):  # the title stays with the first lines under it
        pdf.add_page()
    _say(pdf, title, size=13, height=7, color=(0, 70, 130))
    entries = content if isinstance(content, list) else [content]
    if not entries:
        _say(pdf, said["empty"], size=10, height=6)
    for number, entry in enumerate(entries, start=1):
        if len(entries) > 1:
            if pdf.will_page_break(4 * LINE):  # the entry's number stays with its first lines
                pdf.add_page()
            _say(pdf, f"{said['entry']} {number}/{len(entries)}", size=9, height=5, color=(90, 90, 90))
        _table(pdf, list(rows(entry, language)))
        pdf.ln(1)


def _table(pdf: _Pdf, pairs: list[tuple[str, str]]) -> None:
    """Label and value side by side, a rule under each; a long value (a note) continues on the next page."""
    pdf.set_font(size=9)
    label_width = pdf.epw * LABEL_SHARE
    for label, value in pairs:
        label_height = _height(pdf, label_width - 2, label)
        if pdf.will_page_break(max(label_height, 2 * LINE)):
            pdf.add_page()
        top, page = pdf.get_y(), pdf.page
        pdf.set_text_color(70)
        pdf.multi_cell(label_width - 2, LINE, label, new_x="RIGHT", new_y="TOP", align="L")
        pdf.set_text_color(0)
        pdf.set_x(pdf.l_margin + label_width)
        pdf.multi_cell(0, LINE, value, new_x="LMARGIN", new_y="NEXT", align="L")
        if pdf.page == page:
            pdf.set_y(max(pdf.get_y(), top + label_height))
        pdf.set_draw_color(160)
        pdf.line(pdf.l_margin, pdf.get_y() + 0.6, pdf.l_margin + pdf.epw, pdf.get_y() + 0.6)
        pdf.ln(1.4)


def _height(pdf: _Pdf, width: float, text: str) -> float:
    """How tall ``text`` wraps in ``width`` (fpdf2 types the dry run's answer as a union)."""
    answer: Any = pdf.multi_cell(width, LINE, text, dry_run=True, output="HEIGHT")
    return float(answer)


def rows(value: Any, language: str, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """An entry as (label, readable value) pairs; nested records get their parent's label before theirs."""
    if isinstance(value, Mapping) and value and depth < MAX_DEPTH:
        for key, inner in value.items():
            label = field_label(str(key), language)
            yield from rows(inner, language, f"{prefix} › {label}" if prefix else label, depth + 1)
    elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value) and depth < MAX_DEPTH:
        for number, inner in enumerate(value, start=1):
            yield from rows(inner, language, f"{prefix} {number}", depth + 1)
    else:
        yield prefix or "–", readable(value, language)


def readable(value: Any, language: str) -> str:
    """A value as a person writes it: dates and times in local form, lists comma-separated, no JSON."""
    said = words(language)["document"]
    if value is None or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        return str(said["yes"] if value else said["no"])
    if isinstance(value, list):
        return ", ".join(readable(v, language) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(
            f"{field_label(str(k), language)}: {readable(v, language)}" for k, v in value.items()
        )
    if isinstance(value, str):
        return _moment(value, language) or value
    return str(value)


def _moment(text: str, language: str) -> str | None:
    """An ISO date or timestamp in local form (German ``14.03.1988``, times in Berlin); else None."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return None
        return day.strftime("%d.%m.%Y") if language == "de" else day.isoformat()
    if len(text) >= 19 and text[10] == "T":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(BERLIN)
        shown = "%d.%m.%Y, %H:%M Uhr" if language == "de" else "%Y-%m-%d %H:%M"
        return moment.strftime(shown) + ("" if language == "de" else " (Berlin)")
    return None
