"""The Land's local time: dates people see and deadlines count in Europe/Berlin, storage stays in UTC.

One place for the zone, so "today" means the same day in every service (a case closed at 00:30 is
closed that day, not the day before in UTC).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def today() -> dt.date:
    """Today's date in Baden-Württemberg."""
    return dt.datetime.now(BERLIN).date()
