"""Deadlines count working days of Baden-Württemberg in Europe/Berlin."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from wegweiser.referrals.domain.workdays import BERLIN, add_working_days, deadline, is_working_day
from wegweiser.referrals.holiday_calendar import HolidayCalendar

BW = HolidayCalendar("BW").is_holiday


def test_bw_holidays_are_not_working_days() -> None:
    assert BW(dt.date(2026, 1, 6))  # Heilige Drei Könige: a holiday in BW, not in Berlin
    assert BW(dt.date(2026, 6, 4))  # Fronleichnam
    assert not HolidayCalendar("BE").is_holiday(dt.date(2026, 1, 6))
    # Tue 2025-12-23 + 3 working days: 24th (Wed), 29th (Mon), 30th (Tue); 25th/26th are holidays.
    assert add_working_days(dt.date(2025, 12, 23), 3, BW) == dt.date(2025, 12, 30)
    # Friday + 1 skips the weekend.
    assert add_working_days(dt.date(2026, 11, 6), 1, BW) == dt.date(2026, 11, 9)


def test_the_deadline_is_local_midnight_after_the_last_working_day() -> None:
    # Sent on Thursday 2026-04-02 at 23:30 in Berlin (21:30 UTC): Good Friday and Easter Monday are holidays.
    sent = dt.datetime(2026, 4, 2, 21, 30, tzinfo=dt.UTC)
    due = deadline(sent, 2, BW)
    assert due.astimezone(BERLIN) == dt.datetime(2026, 4, 9, 0, 0, tzinfo=BERLIN)
    assert due.utcoffset() == dt.timedelta(0)


@given(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 40))
def test_adding_n_working_days_passes_exactly_n_of_them(start: dt.date, n: int) -> None:
    end = add_working_days(start, n, BW)
    between = [start + dt.timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d, BW) for d in between) == n
    assert n == 0 or is_working_day(end, BW)
