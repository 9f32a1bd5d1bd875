"""Queries: the level a table defaults to, what a download is called, how a cell is shown."""

from __future__ import annotations

import pytest

from wegweiser.statistics.geography import region_tree
from wegweiser.statistics.periods import PeriodRange
from wegweiser.statistics.publication.indicators import INDICATORS
from wegweiser.statistics.read import views

TREE = region_tree("08")
PERIODS = PeriodRange(201701, 202503)


def resolve(indicator: str, region: str | None = None, level: str | None = None) -> views.Query:
    return views.resolve(indicator, region=region, level=level, period=None, tree=TREE, periods=PERIODS)


@pytest.mark.parametrize(
    ("indicator", "region", "level"),
    [
        ("arrivals", None, "kreis"),
        ("arrivals", "081", "kreis"),
        ("arrivals", "08115", "gemeinde"),
        ("arrivals", "08115001", "gemeinde"),
        ("referral_outcomes_by_programme", None, "regierungsbezirk"),
        ("referral_outcomes_by_programme", "081", "regierungsbezirk"),
    ],
)
def test_the_default_level_is_the_one_below_the_region_as_deep_as_the_indicator_goes(
    indicator: str, region: str | None, level: str
) -> None:
    assert resolve(indicator, region).level == level


def test_the_default_period_is_the_current_year() -> None:
    q = resolve("arrivals")
    assert q.period.key == "2025" and q.period.level == "year"


def test_an_explicit_level_may_skip_levels_but_not_go_above_the_region() -> None:
    assert resolve("arrivals", "08", "gemeinde").level == "gemeinde"
    with pytest.raises(views.BadQuery) as refused:
        resolve("arrivals", "08115", "regierungsbezirk")
    assert refused.value.field == "level" and "über der Region" in refused.value.de
    with pytest.raises(views.BadQuery):
        resolve("arrivals", "08", "bundesland")


def test_a_download_is_named_after_its_query() -> None:
    q = views.resolve("goals_set", region="08115", level=None, period="2024-Q2", tree=TREE, periods=PERIODS)
    assert q.file_stem == "goals_set_08115_gemeinde_2024-Q2"


@pytest.mark.parametrize(
    ("value", "suppressed", "unit", "shown"),
    [
        (7.0, False, "count", 7),
        (7.0, True, "count", "."),
        (None, True, "share", "."),
        (None, False, "days", None),
        (0.25, False, "share", 0.25),
    ],
)
def test_a_cell_is_shown_as_every_output_shows_it(
    value: float | None, suppressed: bool, unit: str, shown: views.Value
) -> None:
    series = next(s for i in INDICATORS.values() for s in i.series if s.unit == unit)
    result = views.shown(value, suppressed, series)
    assert result == shown and type(result) is type(shown)
