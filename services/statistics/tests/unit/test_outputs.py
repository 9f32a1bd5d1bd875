"""Queries, downloads, charts and the AsyncAPI document: the same suppressed values everywhere."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from synthetic_history import History

from wegweiser.common import events
from wegweiser.statistics.asyncapi import document
from wegweiser.statistics.geography import region_tree
from wegweiser.statistics.periods import Period, PeriodRange
from wegweiser.statistics.publication.indicators import FAMILIES, INDICATORS, derived_base
from wegweiser.statistics.read import charts, views
from wegweiser.statistics.read.exports import to_csv, to_xlsx

TREE = region_tree("08")
PERIODS = PeriodRange(201701, 202511)


def resolve(indicator: str = "arrivals", **kw: str | None) -> views.Query:
    return views.resolve(
        indicator,
        region=kw.get("region"),
        level=kw.get("level"),
        period=kw.get("period"),
        tree=TREE,
        periods=PERIODS,
    )


def test_a_query_defaults_to_the_kreise_of_the_land_this_year() -> None:
    q = resolve()
    assert (q.region.code, q.level, q.period.key) == ("08", "kreis", "2025")
    q = resolve(region="08115", period="2024-Q2")
    assert (q.region.name, q.level, q.period.level) == ("Böblingen", "gemeinde", "quarter")
    assert resolve("referral_outcomes_by_programme").level == "regierungsbezirk"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"region": "12345"}, "region"),
        ({"period": "2016"}, "period"),
        ({"period": "2025-12"}, "period"),
        ({"period": "2024-13"}, "period"),
        ({"period": "letztes Jahr"}, "period"),
        ({"region": "08115", "level": "land"}, "level"),
    ],
)
def test_bad_queries_name_the_parameter(kw: dict[str, str], field: str) -> None:
    with pytest.raises(views.BadQuery) as info:
        resolve(**kw)
    assert info.value.field == field
    assert info.value.de and info.value.en


def test_unknown_indicators_and_too_deep_levels_are_refused() -> None:
    with pytest.raises(views.UnknownIndicator):
        resolve("beratungen")
    with pytest.raises(views.BadQuery):
        resolve("referral_outcomes_by_programme", region="08", level="kreis")


def view() -> views.TableView:
    q = resolve("interpreter_use", region="08111", level="kreis", period="2024")
    rows = [
        views.Row(
            q.region,
            {"total": 1234, "with_interpreter": ".", "without_interpreter": ".", "share": None},
            {"with_interpreter": "primary", "without_interpreter": "secondary"},
        )
    ]
    return views.TableView(
        q, q.indicator.series_at("kreis"), rows, 3, dt.datetime(2025, 1, 2, tzinfo=dt.UTC), 5
    )


def test_csv_is_german_and_shows_suppressed_values_as_a_dot() -> None:
    text = to_csv(view()).decode("utf-8-sig")
    header, row = text.strip().split("\r\n")
    assert header.startswith("Regionalschlüssel;Region;Ebene;Zeitraum;Beratungsgespräche insgesamt")
    # Each "." says why it is hidden, in the column after the values that names its series.
    assert row == (
        "08111;Stuttgart, Stadtkreis;Kreis;2024;1234;.;.;;;zu klein;geschützt;;2025-01-02T00:00:00+00:00"
    )
    assert header.endswith(
        ";Beratungsgespräche insgesamt: Geheimhaltung;Mit Sprachmittlung: Geheimhaltung"
        ";Ohne Sprachmittlung: Geheimhaltung;Anteil mit Sprachmittlung: Geheimhaltung;Datenstand"
    )
    english = to_csv(view(), lang="en").decode("utf-8-sig")
    assert english.startswith("Code;Region;Level;Period;Consultations, total")
    assert ";.;.;;;too small;protects another;;" in english


def test_xlsx_has_the_numbers_the_dots_and_an_explanation() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(view())))
    sheet = book["Tabelle"]
    assert [c.value for c in sheet[4]] == [
        "08111",
        "Stuttgart, Stadtkreis",
        "Kreis",
        "2024",
        1234,
        ".",
        ".",
        None,
        None,
        "zu klein",
        "geschützt",
        None,
    ]
    assert sheet.cell(row=3, column=10).value == "Mit Sprachmittlung: Geheimhaltung"
    notes = {row[0].value: row[1].value for row in book["Erläuterungen"].iter_rows()}
    assert notes["Geheimhaltungsschwelle"] == 5
    assert '"."' in notes["Zeichenerklärung"]
    assert "„zu klein“ = weniger als 5 Fälle" in notes["Geheimhaltung"]


def test_charts_are_accessible_and_never_draw_a_suppressed_value() -> None:
    svg = charts.bar_ranking(
        "r", title="Rangfolge", items=[("Stuttgart", 120), ("Ulm", "."), ("Heidelberg", 0)]
    )
    assert "role='img'" in svg and "<title id='r-t'>Rangfolge</title>" in svg and "<desc" in svg
    assert svg.count("<rect x='230'") == 2  # bars for 120 and 0, none for '.'
    assert ">.</text>" in svg
    line = charts.line_chart(
        "l",
        title="Zeitreihe",
        x_labels=["2024-01", "2024-02", "2024-03"],
        lines=[charts.Line("A", [5, ".", 7])],
    )
    assert line.count("<polyline") == 2  # the suppressed month breaks the line
    assert charts.fmt(1234567) == "1\u202f234\u202f567" and charts.fmt(0.1234, "share") == "12,3 %"


def test_the_catalogue_is_complete_in_both_languages() -> None:
    for indicator in INDICATORS.values():
        assert indicator.name_de and indicator.name_en and indicator.definition_de and indicator.definition_en
        family = FAMILIES[indicator.family]
        for series in indicator.series:
            assert derived_base(series.key) in family.series, (indicator.id, series.key)
            assert series.label_de and series.label_en


def test_every_indicator_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [i for i in INDICATORS if f"`{i}`" not in readme]
    assert missing == []


def test_the_asyncapi_document_describes_the_feed_with_its_key_and_payload() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    channel = doc["channels"]["indicators"]
    assert channel["address"] == "wegweiser.statistics.indicators.v1"
    assert channel["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"] == ["compact"]
    message = doc["components"]["messages"]["IndicatorPublished"]
    assert message["name"] == events.IndicatorPublished.ce_type()
    payload = doc["components"]["schemas"]["IndicatorPublished"]
    assert {"indicator", "region", "period", "values"} <= set(payload["required"])
    assert "arrivals.v1" not in json.dumps(doc) and "requests.v1" not in json.dumps(doc)  # no personal topics
    assert doc["operations"]["sendIndicators"]["action"] == "send"


def test_synthetic_history_validates_against_the_event_models() -> None:
    kinds = {}
    for item in History(scale=0.0005, consultations_per_month=0.5).events():
        if item.model not in kinds:
            kinds[item.model] = item.event()
    assert len(kinds) >= 15
    assert all(isinstance(e, events.Event) for e in kinds.values())


def test_periods_know_their_parents_children_and_range() -> None:
    q = Period.parse("2024-Q2")
    assert [c.key for c in q.children] == ["2024-04", "2024-05", "2024-06"]
    assert Period.parse("2024-05").parent == q and q.parent == Period.parse("2024")
    assert (Period.parse("2024-02").last_day, q.months) == (dt.date(2024, 2, 29), (202404, 202405, 202406))
    assert PERIODS.contains(Period.parse("2025")) and not PERIODS.contains(Period.parse("2026-01"))
    assert PERIODS.clamp_last_month(Period.parse("2025-Q4")) == 202511
    assert len(PERIODS.periods("quarter")) == 36


def test_statistics_reads_pseudonymous_topics_only_and_holds_no_pseudonym_key() -> None:
    from wegweiser.statistics.consumers import source_topics
    from wegweiser.statistics.settings import StatisticsSettings

    settings = StatisticsSettings()
    assert [t.name for t in source_topics(settings)] == [
        "wegweiser.intake.facts.v1",
        "wegweiser.casework.cases.v1",
        "wegweiser.referrals.status.v1",
    ]
    assert not any(t.personal_data for t in source_topics(settings))
    assert not [name for name in StatisticsSettings.model_fields if "pseudonym" in name]
