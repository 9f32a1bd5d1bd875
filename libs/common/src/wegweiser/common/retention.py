"""Retention periods (docs/domain.md "Data protection"): when personal data is due for erasure.

Pure date arithmetic, shared by every service that holds personal data, so "2 years after closure" means
the same in casework, intake and referrals. A period is a number of months after the day a record ended
(case closed, allocation date, referral's final state), optionally extended to the end of that calendar
year, which expresses rules like "until the end of the 5th calendar year after the case ends".
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass, field


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later; a day that month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return dt.date(year, month_index + 1, min(day.day, last_day))


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """How long personal data is kept after a record ended; default 24 months (2 years)."""

    months: int = 24
    to_year_end: bool = False

    def __post_init__(self) -> None:
        if self.months < 1:
            raise ValueError("a retention period is at least one month")

    def kept_until(self, ended_on: dt.date) -> dt.date:
        """The last day the data may be kept; it is due for erasure from the day after."""
        until = add_months(ended_on, self.months)
        return dt.date(until.year, 12, 31) if self.to_year_end else until

    def is_due(self, ended_on: dt.date, *, today: dt.date) -> bool:
        return self.kept_until(ended_on) < today

    def latest_due(self, *, today: dt.date) -> dt.date:
        """The latest end date that is due today: records that ended on or before it are erased.

        ``kept_until`` never decreases with the end date, so a binary search finds the boundary; the
        repositories then select with ``ended_on <= latest_due`` instead of testing every row.
        """
        low = today - dt.timedelta(days=31 * self.months + 366)  # certainly due
        high = today  # certainly not due: kept at least a month
        while high - low > dt.timedelta(days=1):
            middle = low + (high - low) // 2
            if self.is_due(middle, today=today):
                low = middle
            else:
                high = middle
        return low


@dataclass
class PurgeReport:
    """What one purge erased: the ids of its main records (``kind``) and counts of the rest, never content."""

    today: dt.date
    kind: str  # "cases", "arrivals": names the ids in the report
    erased: list[uuid.UUID] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {self.kind: len(self.erased), **self.records}

    def as_json(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            f"erased_{self.kind}": [str(i) for i in self.erased],
            **self.counts(),
        }
