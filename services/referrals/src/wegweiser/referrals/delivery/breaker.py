"""A circuit breaker per partner: closed → open after N failures in a row → half-open probe → closed.

While open, that partner's queue waits and no attempt is spent; other partners are untouched because
each has its own breaker and worker. Each failed probe doubles the open interval up to a maximum.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self, *, failure_threshold: int = 5, open_s: float = 30.0, open_max_s: float = 600.0
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self.open_max_s = open_max_s
        self.state: BreakerState = "closed"
        self.failures = 0
        self.opened_at: dt.datetime | None = None
        self.open_for_s = open_s
        self.probing = False

    def retry_at(self) -> dt.datetime | None:
        """When an open breaker lets the next probe through."""
        if self.state != "open" or self.opened_at is None:
            return None
        return self.opened_at + dt.timedelta(seconds=self.open_for_s)

    def allow(self, now: dt.datetime) -> int:
        """How many requests may start now: all (closed), one probe (half-open), none (open)."""
        if self.state == "open":
            retry_at = self.retry_at()
            if retry_at is None or now < retry_at:
                return 0
            self.state = "half_open"
        if self.state == "half_open":
            if self.probing:
                return 0
            self.probing = True
            return 1
        return -1  # unlimited

    def record_success(self) -> None:
        self.state, self.failures, self.probing, self.opened_at = "closed", 0, False, None
        self.open_for_s = self.open_s

    def record_failure(self, now: dt.datetime) -> None:
        if self.state == "half_open":
            self.probing = False
            self.open_for_s = min(self.open_for_s * 2, self.open_max_s)
            self._open(now)
            return
        self.failures += 1
        if self.state == "closed" and self.failures >= self.failure_threshold:
            self._open(now)

    def _open(self, now: dt.datetime) -> None:
        self.state, self.opened_at = "open", now
