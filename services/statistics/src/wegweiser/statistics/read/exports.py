"""CSV and XLSX downloads of a published table (the same cells as the JSON and the dashboard)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from wegweiser.common.names import csv_cell
from wegweiser.statistics.geography import LEVEL_NAMES
from wegweiser.statistics.publication.suppression import Reason
from wegweiser.statistics.read.views import SUPPRESSED, Row, TableView, Value

LEGEND = {
    "de": (
        f'"{SUPPRESSED}" = Zahlenwert geheim zu halten (Geheimhaltung: weniger als {{threshold}} Fälle, '
        "oder aus Summen rückrechenbar); leer = nicht berechenbar (keine Fälle)."
    ),
    "en": (
        f'"{SUPPRESSED}" = value suppressed (disclosure control: fewer than {{threshold}} cases, or '
        "recomputable from totals); empty = cannot be computed (no cases)."
    ),
}

REASONS: dict[str, dict[Reason, str]] = {
    "de": {"primary": "zu klein", "secondary": "geschützt"},
    "en": {"primary": "too small", "secondary": "protects another"},
}
"""What the columns "…: Geheimhaltung" say about a "." (empty where a value is shown)."""

REASON_LEGEND = {
    "de": (
        "Spalten „…: Geheimhaltung“: warum ein „.“ geheim gehalten wird. „zu klein“ = weniger als "
        "{threshold} Fälle (bei abgeleiteten Werten: ihre Basis); „geschützt“ = geheim gehalten, damit kein "
        "kleiner Wert aus Summen errechnet werden kann."
    ),
    "en": (
        'Columns "…: suppression": why a "." is hidden. "too small" = fewer than {threshold} cases (for a '
        'derived value: its base); "protects another" = hidden so that no small value can be worked out '
        "from totals."
    ),
}


def _number(value: Value, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:.4f}".rstrip("0")
        return text.replace(".", ",") if lang == "de" else text
    return str(int(value))


def header(view: TableView, lang: str) -> list[str]:
    de = lang == "de"
    fixed = (
        ["Regionalschlüssel", "Region", "Ebene", "Zeitraum"] if de else ["Code", "Region", "Level", "Period"]
    )
    labels = [s.label_de if de else s.label_en for s in view.series]
    return fixed + labels + [f"{label}: {'Geheimhaltung' if de else 'suppression'}" for label in labels]


def reasons(view: TableView, row: Row, lang: str) -> list[str]:
    """Per series, why its "." is hidden; empty where the value is shown."""
    names = REASONS[lang]
    return [names[r] if (r := row.reasons.get(s.id)) else "" for s in view.series]


def to_csv(view: TableView, *, lang: str = "de") -> bytes:
    """Semicolon-separated, UTF-8 with BOM (what German spreadsheet software opens correctly); a text
    cell that a spreadsheet would run as a formula is neutralised (``names.csv_cell``)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    # The last column carries the Datenstand on every row, so a row copied elsewhere keeps its date.
    as_of = view.published_at.isoformat() if view.published_at else ""
    writer.writerow([*header(view, lang), "Datenstand" if lang == "de" else "Data as of"])
    for row in view.rows:
        level = LEVEL_NAMES[row.region.level][0 if lang == "de" else 1]
        writer.writerow(
            [row.region.code, csv_cell(row.region.name), level, view.query.period.key]
            + [_number(row.values[s.id], lang) for s in view.series]
            + reasons(view, row, lang)
            + [as_of]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


FORMATS = {"count": "#,##0", "days": "0", "share": "0.0%", "ratio": "0.0"}


def to_xlsx(view: TableView, *, lang: str = "de") -> bytes:
    de = lang == "de"
    q = view.query
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Tabelle" if de else "Table"
    title = q.indicator.name_de if de else q.indicator.name_en
    ws.append([f"{title} — {q.region.name}, {q.period.key}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(header(view, lang))
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in view.rows:
        level = LEVEL_NAMES[row.region.level][0 if de else 1]
        ws.append(
            [row.region.code, row.region.name, level, q.period.key]
            + [row.values[s.id] for s in view.series]
            + reasons(view, row, lang)
        )
        excel_row = ws.max_row
        for i, s in enumerate(view.series, start=5):
            cell = ws.cell(row=excel_row, column=i)
            if isinstance(cell.value, str):
                cell.alignment = Alignment(horizontal="right")
            else:
                cell.number_format = FORMATS[s.unit]
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 36
    ws.freeze_panes = "C4"

    notes = wb.create_sheet("Erläuterungen" if de else "Notes")
    rows = [
        ("Indikator" if de else "Indicator", title),
        ("Definition", q.indicator.definition_de if de else q.indicator.definition_en),
        ("Zeichenerklärung" if de else "Legend", LEGEND[lang].format(threshold=view.threshold)),
        ("Geheimhaltung" if de else "Suppression", REASON_LEGEND[lang].format(threshold=view.threshold)),
        ("Geheimhaltungsschwelle" if de else "Disclosure threshold", view.threshold),
        ("Datenstand" if de else "Data as of", view.published_at.isoformat() if view.published_at else ""),
        ("Generation der Projektion" if de else "Projection generation", view.generation),
        (
            "Quelle" if de else "Source",
            "Wegweiser, Integrationsmanagement Baden-Württemberg; Gemeindeverzeichnis © Destatis 2023, "
            "dl-de/by-2-0",
        ),
    ]
    for key, value in rows:
        notes.append([key, value])
        notes.cell(row=notes.max_row, column=1).font = Font(bold=True)
        notes.cell(row=notes.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
