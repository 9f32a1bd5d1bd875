"""Downloads and charts: numbers formatted for German readers, suppressed values never shown as numbers."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from wegweiser.statistics.geography import region_tree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.read import charts, views
from wegweiser.statistics.read.exports import FORMATS, header, to_csv, to_xlsx

TREE = region_tree("08")


def share_view() -> views.TableView:
    """Interpreter use in Böblingen and two of its municipalities: counts, a share, a gap, a dot."""
    q = views.resolve(
        "interpreter_use",
        region="08115",
        level="kreis",
        period="2024",
        tree=TREE,
        periods=PeriodRange(201701, 202512),
    )
    series = q.indicator.series_at("kreis")
    values: list[dict[str, views.Value]] = [
        {"total": 1234, "with_interpreter": 400, "without_interpreter": 834, "share": 0.3241},
        {"total": 0, "with_interpreter": 0, "without_interpreter": 0, "share": None},
    ]
    rows = [views.Row(TREE.regions["08115"], values[0]), views.Row(TREE.regions["08115001"], values[1])]
    return views.TableView(q, series, rows, 7, None, 5)


def test_csv_writes_decimals_the_way_each_language_reads_them() -> None:
    german = to_csv(share_view()).decode("utf-8")
    assert german.startswith("\ufeff")  # the BOM German spreadsheet software needs for UTF-8
    lines = german.removeprefix("\ufeff").split("\r\n")
    # No publication date in this view: the Datenstand column stays empty.
    # Nothing hidden: the four "…: Geheimhaltung" columns stay empty.
    assert lines[1] == "08115;Böblingen;Kreis;2024;1234;400;834;0,3241;;;;;"
    assert lines[2] == "08115001;Aidlingen;Gemeinde;2024;0;0;0;;;;;;"  # not computable: empty, not 0
    english = to_csv(share_view(), lang="en").decode("utf-8-sig").split("\r\n")
    assert english[1].endswith(";0.3241;;;;;") and ";District;" in english[1]
    assert english[2].split(";")[2] == "Municipality"


def test_the_header_names_the_series_in_the_language_asked_for() -> None:
    view = share_view()
    assert header(view, "de")[7] == "Anteil mit Sprachmittlung"
    assert header(view, "de")[-1] == "Anteil mit Sprachmittlung: Geheimhaltung"
    assert header(view, "en")[-1] == "Share with interpreter: suppression"
    assert header(view, "en")[:4] == ["Code", "Region", "Level", "Period"]


def test_xlsx_formats_each_unit_and_aligns_dots_like_numbers() -> None:
    view = share_view()
    view.rows[0].values["with_interpreter"] = views.SUPPRESSED
    book = load_workbook(io.BytesIO(to_xlsx(view, lang="en")))
    assert book.sheetnames == ["Table", "Notes"]
    sheet = book["Table"]
    assert sheet["A1"].value == "Interpreter use in consultations — Böblingen, 2024"
    total, hidden, _, share = (sheet.cell(row=4, column=c) for c in range(5, 9))
    assert total.number_format == FORMATS["count"] and share.number_format == FORMATS["share"]
    assert hidden.value == "." and hidden.alignment.horizontal == "right"
    assert sheet.freeze_panes == "C4"
    notes = {row[0].value: row[1].value for row in book["Notes"].iter_rows()}
    assert notes["Disclosure threshold"] == 5 and notes["Projection generation"] == 7
    assert notes["Data as of"] is None  # never published: no date rather than a wrong one


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "count", "–"),
        (".", "count", "."),
        (0, "count", "0"),
        (1234, "count", "1\u202f234"),
        (12.0, "days", "12"),
        (2.25, "ratio", "2,2"),
        (1234.5, "ratio", "1\u202f234,5"),
        (0.5, "share", "50,0 %"),
        (1.0, "share", "100,0 %"),
    ],
)
def test_numbers_are_written_the_german_way(value: views.Value, unit: str, text: str) -> None:
    assert charts.fmt(value, unit) == text


def test_labels_are_escaped_and_shortened() -> None:
    svg = charts.bar_ranking("x", title="<b>Titel</b>", items=[("<script>alert(1)</script>" * 3, 5)])
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;b&gt;Titel&lt;/b&gt;" in svg and "…" in svg


def test_a_ranking_puts_the_largest_first_and_hidden_regions_last() -> None:
    svg = charts.bar_ranking("r", title="t", items=[("Ulm", "."), ("Aalen", 3), ("Biberach", 30)])
    assert svg.index("Biberach") < svg.index("Aalen") < svg.index("Ulm")
    assert "1 Werte geheim gehalten" in svg


def test_stacked_bars_hatch_what_is_hidden_without_a_number() -> None:
    svg = charts.stacked_bars(
        "s",
        title="Ergebnisse",
        rows=[("Alle", 20, [10, ".", "."]), ("Keine", ".", [])],
        segments=["a", "b", "c"],
    )
    assert svg.count("fill='url(#s-hatch)'") == 2  # the hidden rest of the first bar, and the legend
    assert "geheim gehalten (.)" in svg


def test_a_line_chart_with_nothing_to_draw_still_has_its_axes_and_description() -> None:
    svg = charts.line_chart("e", title="Leer", x_labels=[], lines=[])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "0 Linien über 0 Zeiträume" in svg and "<polyline" not in svg


def test_the_published_date_is_written_into_the_notes() -> None:
    view = share_view()
    dated = views.TableView(
        view.query, view.series, view.rows, 7, dt.datetime(2025, 1, 2, 3, tzinfo=dt.UTC), 5
    )
    notes = {
        r[0].value: r[1].value for r in load_workbook(io.BytesIO(to_xlsx(dated)))["Erläuterungen"].iter_rows()
    }
    assert notes["Datenstand"] == "2025-01-02T03:00:00+00:00"


def test_a_region_name_a_spreadsheet_would_run_is_neutralised_in_the_csv() -> None:
    view = share_view()
    forged = dataclasses.replace(TREE.regions["08115"], name='=HYPERLINK("http://x")')
    view = views.TableView(view.query, view.series, [views.Row(forged, view.rows[0].values)], 7, None, 5)
    rows = list(csv.reader(io.StringIO(to_csv(view).decode("utf-8-sig")), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
