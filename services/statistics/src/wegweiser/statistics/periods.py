"""Reporting periods: months, quarters and years, their keys (2024-03, 2024-Q1, 2024) and hierarchy."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

PeriodLevel = Literal["month", "quarter", "year"]
PERIOD_LEVELS: tuple[PeriodLevel, ...] = ("month", "quarter", "year")

_KEY = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


def month_id(day: dt.date) -> int:
    """A month as ``yyyymm``: the projection's time bucket."""
    return day.year * 100 + day.month


def month_of_ordinal(ordinal: int) -> int:
    return month_id(dt.date.fromordinal(ordinal))


@dataclass(frozen=True, slots=True, order=True)
class Period:
    level: PeriodLevel
    year: int
    index: int = 0  # month 1..12, quarter 1..4, 0 for a year

    @property
    def key(self) -> str:
        if self.level == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.level == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        return f"{self.year:04d}"

    def __str__(self) -> str:
        return self.key

    @classmethod
    def parse(cls, key: str) -> Period:
        """``2024``, ``2024-Q1`` or ``2024-03``; ValueError otherwise."""
        match = _KEY.match(key.strip())
        if match is None:
            raise ValueError(f"not a period: {key!r} (2024, 2024-Q1 or 2024-03)")
        year = int(match["year"])
        if year < 1:
            raise ValueError(f"no such year: {key!r}")  # a calendar date cannot hold year 0
        if match["month"] is not None:
            month = int(match["month"])
            if not 1 <= month <= 12:
                raise ValueError(f"no such month: {key!r}")
            return cls("month", year, month)
        if match["quarter"] is not None:
            return cls("quarter", year, int(match["quarter"]))
        return cls("year", year)

    @classmethod
    def month(cls, month: int) -> Period:
        """From ``yyyymm``."""
        return cls("month", month // 100, month % 100)

    @property
    def first_day(self) -> dt.date:
        if self.level == "month":
            return dt.date(self.year, self.index, 1)
        if self.level == "quarter":
            return dt.date(self.year, 3 * self.index - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def last_day(self) -> dt.date:
        if self.level == "year":
            return dt.date(self.year, 12, 31)
        last_month = self.index if self.level == "month" else 3 * self.index
        if last_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, last_month + 1, 1) - dt.timedelta(days=1)

    @property
    def parent(self) -> Period | None:
        if self.level == "month":
            return Period("quarter", self.year, (self.index - 1) // 3 + 1)
        if self.level == "quarter":
            return Period("year", self.year)
        return None

    @property
    def children(self) -> tuple[Period, ...]:
        if self.level == "year":
            return tuple(Period("quarter", self.year, q) for q in range(1, 5))
        if self.level == "quarter":
            return tuple(Period("month", self.year, m) for m in range(3 * self.index - 2, 3 * self.index + 1))
        return ()

    @property
    def months(self) -> tuple[int, ...]:
        """The ``yyyymm`` months the period covers."""
        first = self.first_day.month
        last = self.last_day.month
        return tuple(self.year * 100 + m for m in range(first, last + 1))

    @property
    def last_month(self) -> int:
        return month_id(self.last_day)


@dataclass(frozen=True, slots=True)
class PeriodRange:
    """The periods indicators are published for: from the programme's start to the current month."""

    first_month: int  # yyyymm
    last_month: int  # yyyymm

    @classmethod
    def until(cls, today: dt.date, *, first_year: int) -> PeriodRange:
        return cls(first_year * 100 + 1, month_id(today))

    def months(self) -> list[int]:
        out, y, m = [], self.first_month // 100, self.first_month % 100
        while y * 100 + m <= self.last_month:
            out.append(y * 100 + m)
            y, m = (y, m + 1) if m < 12 else (y + 1, 1)
        return out

    def periods(self, level: PeriodLevel) -> list[Period]:
        months = self.months()
        if level == "month":
            return [Period.month(m) for m in months]
        seen: dict[Period, None] = {}
        for m in months:
            p = Period.month(m)
            q = p.parent
            assert q is not None
            seen[q if level == "quarter" else Period("year", p.year)] = None
        return list(seen)

    def all_periods(self) -> list[Period]:
        return [p for level in PERIOD_LEVELS for p in self.periods(level)]

    def contains(self, period: Period) -> bool:
        """A period is in range when any of its months is (the current quarter and year are)."""
        return period.months[0] <= self.last_month and period.months[-1] >= self.first_month

    def clamp_last_month(self, period: Period) -> int:
        """The last month of ``period`` that has begun: the reference month of a stock."""
        return min(period.last_month, self.last_month)

    def covers_month(self, month: int) -> bool:
        return self.first_month <= month <= self.last_month
