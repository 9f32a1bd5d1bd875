"""Public holidays of the Land from the ``holidays`` package (the adapter behind ``domain.workdays``)."""

from __future__ import annotations

import datetime as dt

import holidays


class HolidayCalendar:
    """``is_holiday`` for one German Land; years are loaded lazily, so it works for any date."""

    def __init__(self, subdivision: str = "BW") -> None:
        self._holidays = holidays.Germany(subdiv=subdivision)

    def is_holiday(self, day: dt.date) -> bool:
        return day in self._holidays
