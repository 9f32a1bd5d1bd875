"""Reporting periods: keys, calendar bounds, the month → quarter → year hierarchy, the published range."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wegweiser.statistics.periods import Period, PeriodRange, month_id, month_of_ordinal

months = st.builds(lambda y, m: y * 100 + m, st.integers(1990, 2100), st.integers(1, 12))


@pytest.mark.parametrize(
    ("key", "period"),
    [
        ("2024", Period("year", 2024)),
        ("2024-Q1", Period("quarter", 2024, 1)),
        ("2024-Q4", Period("quarter", 2024, 4)),
        ("2024-03", Period("month", 2024, 3)),
        (" 2024-12 ", Period("month", 2024, 12)),
    ],
)
def test_a_key_parses_to_its_period_and_back(key: str, period: Period) -> None:
    assert Period.parse(key) == period
    assert period.key == key.strip() and str(period) == key.strip()


@pytest.mark.parametrize(
    "key", ["", "24", "2024-", "2024-13", "2024-00", "2024-Q0", "2024-Q5", "2024-3", "0000", "2024-W01", "x"]
)
def test_anything_else_is_not_a_period(key: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(key)


def test_first_and_last_days_follow_the_calendar() -> None:
    assert Period.parse("2024-02").last_day == dt.date(2024, 2, 29)  # leap year
    assert Period.parse("2025-02").last_day == dt.date(2025, 2, 28)
    assert Period.parse("2024-Q4").first_day == dt.date(2024, 10, 1)
    assert Period.parse("2024-Q4").last_day == dt.date(2024, 12, 31)
    assert Period.parse("2024-Q2").last_day == dt.date(2024, 6, 30)
    assert Period.parse("2024").first_day == dt.date(2024, 1, 1)
    assert Period.parse("2024-Q3").months == (202407, 202408, 202409)
    assert Period.parse("2024-Q3").last_month == 202409


@given(months)
def test_a_month_is_inside_its_quarter_and_its_year(month: int) -> None:
    p = Period.month(month)
    quarter = p.parent
    assert quarter is not None and quarter.level == "quarter"
    year = quarter.parent
    assert year == Period("year", p.year) and year.parent is None
    assert p in quarter.children and quarter in year.children
    assert quarter.first_day <= p.first_day <= p.last_day <= quarter.last_day
    assert Period.parse(p.key) == p


@given(st.integers(1990, 2100))
def test_the_children_of_a_year_cover_it_day_by_day(year: int) -> None:
    y = Period("year", year)
    days = [(m.first_day, m.last_day) for q in y.children for m in q.children]  # months in order
    assert days[0][0] == y.first_day and days[-1][1] == y.last_day
    for (_, end), (start, _) in itertools.pairwise(days):
        assert start == end + dt.timedelta(days=1)


def test_periods_sort_by_level_then_time() -> None:
    assert Period.parse("2024-03") < Period.parse("2024-04") < Period.parse("2025-01")
    assert sorted([Period.parse("2025"), Period.parse("2024")]) == [
        Period.parse("2024"),
        Period.parse("2025"),
    ]


def test_month_ids() -> None:
    assert month_id(dt.date(2024, 3, 31)) == 202403
    assert month_of_ordinal(dt.date(2025, 12, 1).toordinal()) == 202512


def test_the_range_runs_from_the_first_year_to_this_month() -> None:
    r = PeriodRange.until(dt.date(2025, 2, 10), first_year=2024)
    assert (r.first_month, r.last_month) == (202401, 202502)
    assert r.months() == [*range(202401, 202413), 202501, 202502]
    assert [p.key for p in r.periods("quarter")] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]
    assert [p.key for p in r.periods("year")] == ["2024", "2025"]
    assert len(r.all_periods()) == 14 + 5 + 2


def test_the_current_quarter_and_year_are_in_range_and_stocks_take_their_last_begun_month() -> None:
    r = PeriodRange(201701, 202502)
    assert r.contains(Period.parse("2025-Q1")) and r.contains(Period.parse("2025"))
    assert not r.contains(Period.parse("2025-03")) and not r.contains(Period.parse("2016-Q4"))
    assert r.clamp_last_month(Period.parse("2025")) == 202502
    assert r.clamp_last_month(Period.parse("2024-Q3")) == 202409
    assert r.covers_month(201701) and r.covers_month(202502)
    assert not r.covers_month(201612) and not r.covers_month(202503)
