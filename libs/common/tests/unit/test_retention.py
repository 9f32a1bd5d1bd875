"""Retention periods: the pure date rules every purge relies on."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wegweiser.common.retention import RetentionPeriod, add_months

DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))
PERIODS = st.builds(RetentionPeriod, months=st.integers(1, 120), to_year_end=st.booleans())


def test_months_are_calendar_months_clamped_to_the_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 12, 15), 1) == dt.date(2024, 1, 15)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 5, 2), 24) == dt.date(2026, 5, 2)


def test_default_is_two_years_after_the_end_and_due_the_day_after() -> None:
    period = RetentionPeriod()
    closed = dt.date(2024, 3, 1)
    assert period.kept_until(closed) == dt.date(2026, 3, 1)
    assert not period.is_due(closed, today=dt.date(2026, 3, 1))
    assert period.is_due(closed, today=dt.date(2026, 3, 2))


def test_end_of_the_fifth_calendar_year() -> None:
    period = RetentionPeriod(months=60, to_year_end=True)
    assert period.kept_until(dt.date(2026, 5, 20)) == dt.date(2031, 12, 31)
    assert not period.is_due(dt.date(2026, 5, 20), today=dt.date(2031, 12, 31))
    assert period.is_due(dt.date(2026, 5, 20), today=dt.date(2032, 1, 1))


def test_a_period_is_at_least_a_month() -> None:
    with pytest.raises(ValueError):
        RetentionPeriod(months=0)


@given(PERIODS, DAYS)
def test_latest_due_is_the_boundary_between_due_and_kept(period: RetentionPeriod, today: dt.date) -> None:
    latest = period.latest_due(today=today)
    assert period.is_due(latest, today=today)
    assert not period.is_due(latest + dt.timedelta(days=1), today=today)


@given(PERIODS, DAYS, DAYS)
def test_due_exactly_when_ended_on_or_before_latest_due(
    period: RetentionPeriod, today: dt.date, ended: dt.date
) -> None:
    assert period.is_due(ended, today=today) == (ended <= period.latest_due(today=today))
