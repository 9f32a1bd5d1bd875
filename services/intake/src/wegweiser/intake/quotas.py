"""Admission control at the edge (docs/architecture.md): token buckets per authority and per target AGS.

Tokens are arrivals: a batch of 500 costs 500, so batching is no way around the quota. The buckets
live in the process: with N replicas (or uvicorn workers) each has its own budget, so the effective
limit is N times the setting; size the settings per replica. A flooding authority exhausts only its
own bucket and the buckets of the municipalities it floods, never another authority's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate_per_s: float
    burst: float
    tokens: float
    updated: float

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now

    def wait_for(self, n: float, now: float) -> float:
        """Seconds until ``n`` tokens could be taken (0: now); more than the burst needs a full bucket."""
        self._refill(now)
        needed = min(n, self.burst)
        if self.tokens >= needed:
            return 0.0
        return (needed - self.tokens) / self.rate_per_s if self.rate_per_s > 0 else math.inf

    def take(self, n: float) -> None:
        """Take ``n`` tokens; more than the bucket holds leaves a debt that later requests wait off."""
        self.tokens -= n


@dataclass
class Quotas:
    """One bucket per authority and one per AGS, created on first use (at most ~1,100 AGS in BW)."""

    authority_rate_per_s: float
    authority_burst: float
    ags_rate_per_s: float
    ags_burst: float
    clock: Callable[[], float] = time.monotonic
    _authorities: dict[str, TokenBucket] = field(default_factory=dict)
    _municipalities: dict[str, TokenBucket] = field(default_factory=dict)

    def _bucket(self, buckets: dict[str, TokenBucket], key: str, rate: float, burst: float) -> TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = TokenBucket(rate, burst, burst, self.clock())
        return bucket

    def admit_authority(self, authority_id: str, n: int) -> float:
        """Take ``n`` tokens of the authority's bucket, or answer how many seconds to wait (nothing taken)."""
        bucket = self._bucket(
            self._authorities, authority_id, self.authority_rate_per_s, self.authority_burst
        )
        wait = bucket.wait_for(n, self.clock())
        if wait == 0:
            bucket.take(n)
        return wait

    def admit_ags(self, counts: dict[str, int]) -> dict[str, float]:
        """Take tokens per AGS where there are enough; returns the AGS refused and their waits."""
        now = self.clock()
        refused: dict[str, float] = {}
        for ags, n in counts.items():
            bucket = self._bucket(self._municipalities, ags, self.ags_rate_per_s, self.ags_burst)
            wait = bucket.wait_for(n, now)
            if wait == 0:
                bucket.take(n)
            else:
                refused[ags] = wait
        return refused

    def refund_authority(self, authority_id: str, n: int) -> None:
        """Give back tokens for arrivals refused later (e.g. their AGS was over quota)."""
        bucket = self._authorities.get(authority_id)
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + n)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(min(seconds, 86_400))))
