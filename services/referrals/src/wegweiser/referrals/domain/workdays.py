"""Deadlines in working days: partners answer within N working days of the Land, not N calendar days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from wegweiser.common.localtime import BERLIN

IsHoliday = Callable[[dt.date], bool]


def is_working_day(day: dt.date, is_holiday: IsHoliday) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def add_working_days(day: dt.date, n: int, is_holiday: IsHoliday) -> dt.date:
    """The n-th working day after ``day`` (``day`` itself never counts); n = 0 gives ``day``."""
    if n < 0:
        raise ValueError("n must not be negative")
    current, left = day, n
    while left:
        current += dt.timedelta(days=1)
        if is_working_day(current, is_holiday):
            left -= 1
    return current


def deadline(start: dt.datetime, working_days: int, is_holiday: IsHoliday) -> dt.datetime:
    """End of the n-th working day after ``start`` (local midnight in Berlin), as an aware UTC time."""
    local_day = start.astimezone(BERLIN).date()
    last = add_working_days(local_day, working_days, is_holiday)
    midnight = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=BERLIN)
    return midnight.astimezone(dt.UTC)
