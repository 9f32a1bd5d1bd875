"""The clock port: timers, deadlines and breakers ask it for the time, so tests can move time by hand."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Wall-clock time as an aware UTC datetime."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FakeClock(Clock):
    """A clock that only moves when told; for tests of expiry, reminders and breakers."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._now += delta
        return self._now

    def set(self, when: dt.datetime) -> None:
        self._now = when
