"""The subject access export as a readable PDF, rendered once here from the JSON document of any service.

A person reads it, so it shows labels instead of field names, dates as people write them and one table
per entry; the JSON stays the complete machine-readable copy. Names may be in any script: Noto Sans
(Latin, Greek, Cyrillic) and Noto Sans Arabic come from font packages (not from the machine) and are
embedded as subsets; HarfBuzz shapes Arabic so it reads joined and right to left.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import fontpkg_noto_sans
import fontpkg_noto_sans_arabic
from fpdf import FPDF
from fpdf.fonts import FontFace

from wegweiser.common.localtime import BERLIN

TEXT_FONT, ARABIC_FONT = "NotoSans", "NotoSansArabic"
LABEL_SHARE = 0.36  # of the text width, for the label column of an entry's table
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
    pdf = _Pdf(language, str(doc.get("schema", "")))
    pdf.add_page()
    _front(pdf, doc, language)
    for title, content in doc.get("sections", {}).items():
        _section(pdf, str(title), content, language)
    return bytes(pdf.output())


class _Pdf(FPDF):
    """A4 with the embedded fonts and a footer naming the format and the page."""

    def __init__(self, language: str, schema: str) -> None:
        super().__init__(format="A4")
        self.words, self.schema = words(language)["document"], schema
        self.set_title(f"{self.words['title']} {self.words['subtitle']}")
        self.set_lang(language)
        self.add_font(TEXT_FONT, "", str(_font_file(fontpkg_noto_sans.ROOT, "NotoSans[")))
        self.add_font(ARABIC_FONT, "", str(_font_file(fontpkg_noto_sans_arabic.ROOT, "NotoSansArabic[")))
        self.set_fallback_fonts([ARABIC_FONT], exact_match=False)
        self.set_text_shaping(True)
        self.set_auto_page_break(True, margin=18)
        self.set_font(TEXT_FONT, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(TEXT_FONT, size=8)
        self.set_text_color(90)
        page = f"{self.words['page']} {self.page_no()}/{{nb}}"
        self.cell(0, 5, f"{self.schema} · {page}", align="R")


def _font_file(root: Any, prefix: str) -> Any:
    """The upright (not italic) font file of a font package."""
    return next(p for p in sorted((root / "files").iterdir()) if p.name.startswith(prefix))


def _front(pdf: _Pdf, doc: Mapping[str, Any], language: str) -> None:
    """Title, whom and what the copy is about, who made it and when."""
    said = words(language)
    pdf.set_font(size=17)
    pdf.multi_cell(0, 8, said["document"]["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=12)
    pdf.multi_cell(0, 7, said["document"]["subtitle"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    facts = list(_facts(doc, language))
    _table(pdf, facts)
    pdf.set_font(size=9)
    pdf.multi_cell(0, 5, said["document"]["note"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


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
    pdf.ln(3)
    pdf.set_font(size=13)
    pdf.set_text_color(0, 70, 130)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    entries = content if isinstance(content, list) else [content]
    if not entries:
        pdf.set_font(size=10)
        pdf.multi_cell(0, 6, words(language)["document"]["empty"], new_x="LMARGIN", new_y="NEXT")
    for number, entry in enumerate(entries, start=1):
        if len(entries) > 1:
            pdf.set_font(size=9)
            pdf.set_text_color(90)
            label = f"{words(language)['document']['entry']} {number}/{len(entries)}"
            pdf.multi_cell(0, 5, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0)
        _table(pdf, list(rows(entry, language)))
        pdf.ln(1)


def _table(pdf: _Pdf, pairs: list[tuple[str, str]]) -> None:
    """Label and value side by side; long values wrap and the table breaks across pages."""
    pdf.set_font(size=9)
    widths = (LABEL_SHARE, 1 - LABEL_SHARE)
    labels = FontFace(color=(70, 70, 70))
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=False,
        line_height=5,
        padding=1,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for label, value in pairs:
            row = table.row()
            row.cell(label, style=labels)
            row.cell(value)


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
