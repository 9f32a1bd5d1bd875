"""The webhook worker: one queue, one breaker and one HTTP client per partner.

Deliveries are rows written in the same transaction as the referral (never sent from inside a
request). A supervisor starts a ``PartnerQueue`` for every partner with pending rows; each queue reads
only its own partner's rows, so a dead partner's backlog never fills another partner's batch. Retries
back off exponentially per row; the breaker stops attempts to a failing partner altogether until a
probe succeeds. A delivered payload is erased at once (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.referrals.clock import Clock
from wegweiser.referrals.db import PartnerRow, WebhookDeliveryRow
from wegweiser.referrals.delivery.addresses import AddressGuard, RefusedAddress, Target, UnresolvedHost
from wegweiser.referrals.delivery.breaker import BreakerState, CircuitBreaker
from wegweiser.referrals.delivery.signing import signed_headers
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.wake import woken_or_timeout

log = logging.getLogger(__name__)
meter = metrics.get_meter("wegweiser.referrals.delivery")
DELIVERIES = meter.create_counter(
    "referrals_webhook_attempts", description="webhook attempts by partner and outcome"
)
LATENCY = meter.create_histogram(
    "referrals_webhook_delivery_seconds", unit="s", description="from enqueue to acknowledged delivery"
)
BREAKER_CODES: dict[BreakerState, int] = {"closed": 0, "half_open": 1, "open": 2}


@dataclass(frozen=True)
class WorkerConfig:
    timeout_s: float = 10.0
    concurrency_per_partner: int = 2
    max_attempts: int = 20
    backoff_initial_s: float = 5.0
    backoff_max_s: float = 3600.0
    poll_interval_s: float = 1.0
    breaker_failure_threshold: int = 5
    breaker_open_s: float = 30.0
    breaker_open_max_s: float = 600.0

    @classmethod
    def of(cls, settings: ReferralsSettings) -> WorkerConfig:
        return cls(
            timeout_s=settings.webhook_timeout_s,
            concurrency_per_partner=settings.webhook_concurrency_per_partner,
            max_attempts=settings.webhook_max_attempts,
            backoff_initial_s=settings.webhook_backoff_initial_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            poll_interval_s=settings.webhook_poll_interval_s,
            breaker_failure_threshold=settings.breaker_failure_threshold,
            breaker_open_s=settings.breaker_open_s,
            breaker_open_max_s=settings.breaker_open_max_s,
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """Exponential with ±20 % jitter, so a recovering partner is not hit by one synchronized wave."""
        base = min(self.backoff_initial_s * 2 ** (attempts - 1), self.backoff_max_s)
        return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Outcome:
    kind: str  # "delivered", "retry", "permanent", "refused" (an address webhooks may not reach)
    status_code: int | None = None
    error: str | None = None


def classify(response: httpx.Response | None, error: Exception | None) -> Outcome:
    """2xx delivered; 408, 429, 5xx and network errors retried; any other answer is final."""
    if response is None:
        return Outcome("retry", error=f"{type(error).__name__}: {error}"[:500])
    code = response.status_code
    if 200 <= code < 300:
        return Outcome("delivered", code)
    if code in (408, 429) or code >= 500:
        return Outcome("retry", code, f"HTTP {code}")
    return Outcome("permanent", code, f"HTTP {code}")


class PartnerQueue:
    """Sends one partner's pending deliveries in order of creation, a few at a time."""

    def __init__(
        self,
        partner_id: str,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: WorkerConfig,
        addresses: AddressGuard,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.partner_id = partner_id
        self._addresses = addresses
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self.breaker = CircuitBreaker(
            failure_threshold=config.breaker_failure_threshold,
            open_s=config.breaker_open_s,
            open_max_s=config.breaker_open_max_s,
        )
        self._client = httpx.AsyncClient(
            transport=transport, timeout=config.timeout_s, follow_redirects=False, trust_env=False
        )
        self.wake = asyncio.Event()
        self.delivered = 0
        self.failed_attempts = 0

    async def run(self) -> None:
        try:
            while True:
                try:
                    busy = await self.step()
                except Exception:
                    log.exception("webhook queue step failed", extra={"partner": self.partner_id})
                    busy = False
                if not busy:
                    await self._idle()
        finally:
            await self._client.aclose()

    async def step(self) -> bool:
        """One round: returns False when there was nothing to send (or the breaker is open)."""
        now = self._clock.now()
        allowed = self.breaker.allow(now)
        if allowed == 0:
            return False
        target = await self._target()
        rows = await self._due(now, self._config.concurrency_per_partner if allowed < 0 else 1)
        if not rows or target is None:
            if allowed == 1:
                self.breaker.probing = False  # nothing to probe with: stay half-open
            return False
        url, secret = target
        checked = await self._check(url, rows)
        if checked is None:
            return True
        await asyncio.gather(*(self._attempt(row, checked, secret) for row in rows))
        return True

    async def _check(self, url: str, rows: list[WebhookDeliveryRow]) -> Target | None:
        """Resolve and check the URL again before each round: DNS may point elsewhere since it was set.

        A refused address fails the round's deliveries for good (the payloads are erased); a name that
        does not resolve counts as a network error (retried with back-off).
        """
        try:
            return await self._addresses.target(url, timeout_s=self._config.timeout_s)
        except RefusedAddress as exc:
            outcome = Outcome("refused", error=f"refused address: {exc}"[:500])
        except UnresolvedHost as exc:
            outcome = classify(None, exc)
        for row in rows:
            await self._record(row, outcome)
        return None

    async def _idle(self) -> None:
        await woken_or_timeout(self.wake, self._config.poll_interval_s)

    async def _target(self) -> tuple[str, str] | None:
        async with self._sessions() as session:
            row = await session.get(PartnerRow, self.partner_id)
        if row is None or row.removed or not row.webhook_secret or not row.data.get("webhook_url"):
            return None
        return str(row.data["webhook_url"]), row.webhook_secret

    async def _due(self, now: dt.datetime, limit: int) -> list[WebhookDeliveryRow]:
        async with self._sessions() as session:
            query = (
                select(WebhookDeliveryRow)
                .where(
                    col(WebhookDeliveryRow.partner_id) == self.partner_id,
                    col(WebhookDeliveryRow.status) == "pending",
                    col(WebhookDeliveryRow.next_attempt_at) <= now,
                )
                .order_by(col(WebhookDeliveryRow.id))
                .limit(limit)
            )
            return list((await session.execute(query)).scalars())

    async def _attempt(self, row: WebhookDeliveryRow, target: Target, secret: str) -> None:
        """One signed POST to the checked address (the Host header and TLS name stay the registered ones)."""
        assert row.body is not None
        timestamp = int(self._clock.now().timestamp())
        headers = {
            **row.headers,
            **signed_headers(
                secret=secret, webhook_id=str(row.delivery_id), timestamp=timestamp, body=row.body
            ),
            **target.request_headers(),
            "User-Agent": "wegweiser-referrals/1",
        }
        response: httpx.Response | None = None
        error: Exception | None = None
        try:
            request = self._client.build_request(
                "POST", target.request_url(), content=row.body, headers=headers,
                extensions=target.request_extensions(),
            )  # fmt: skip
            response = await self._client.send(request)
        except httpx.HTTPError as exc:
            error = exc
        await self._record(row, classify(response, error))

    async def _record(self, row: WebhookDeliveryRow, outcome: Outcome) -> None:
        """Store the attempt: delivered (payload erased), failed for good (erased), or due again later."""
        now = self._clock.now()
        attempts = row.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "last_attempt_at": now,
        }
        if outcome.kind == "delivered":
            values |= {"status": "delivered", "delivered_at": now, "body": None, "erased_at": now}
            self.breaker.record_success()
            self.delivered += 1
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
            LATENCY.record((now - created).total_seconds(), {"partner": self.partner_id})
        elif outcome.kind in ("permanent", "refused") or attempts >= self._config.max_attempts:
            # The partner answered (so it is alive), we may not call it, or we gave up: erase either way.
            values |= {"status": "failed", "body": None, "erased_at": now}
            if outcome.kind == "permanent":
                self.breaker.record_success()
            elif outcome.kind != "refused":
                self.breaker.record_failure(now)
            log.warning(
                "webhook delivery failed for good",
                extra={
                    "partner": self.partner_id,
                    "delivery_id": str(row.delivery_id),
                    "error": outcome.error,
                },
            )
        else:
            values["next_attempt_at"] = now + self._config.backoff(attempts)
            self.breaker.record_failure(now)
            self.failed_attempts += 1
        DELIVERIES.add(1, {"partner": self.partner_id, "outcome": outcome.kind})
        async with self._sessions() as session:
            await session.execute(
                update(WebhookDeliveryRow)
                .where(col(WebhookDeliveryRow.id) == row.id, col(WebhookDeliveryRow.status) == "pending")
                .values(**values)
            )
            await session.commit()


class WebhookWorker:
    """Starts and keeps a ``PartnerQueue`` for each partner that has pending deliveries."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: WorkerConfig,
        addresses: AddressGuard,
        transport: httpx.AsyncBaseTransport | None = None,
        wake: asyncio.Event | None = None,
    ) -> None:
        self._sessions = sessions
        self._config = config
        # Every partner's queue shares the worker's database, clock, settings and network access.
        self._new_queue = functools.partial(
            PartnerQueue,
            sessions=sessions,
            clock=clock,
            config=config,
            addresses=addresses,
            transport=transport,
        )
        self.queues: dict[str, PartnerQueue] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.wake = wake or asyncio.Event()  # set when a delivery is committed
        meter.create_observable_gauge(
            "referrals_partner_breaker_state",
            callbacks=[self._observe_breakers],
            description="0 closed, 1 half-open, 2 open",
        )

    def breaker_state(self, partner_id: str) -> BreakerState:
        queue = self.queues.get(partner_id)
        return queue.breaker.state if queue else "closed"

    def _observe_breakers(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(BREAKER_CODES[q.breaker.state], {"partner": p}) for p, q in self.queues.items()]

    async def run(self) -> None:
        """Wakes each partner's queue that has pending rows; a failed look (the database restarting) is
        logged and made again at the next poll, as the queues' own steps are."""
        try:
            while True:
                try:
                    pending = await self._partners_with_pending()
                except Exception:
                    log.exception("webhook supervisor: looking for pending deliveries failed; retrying")
                    pending = []
                for partner_id in pending:
                    self._ensure_queue(partner_id).wake.set()
                await woken_or_timeout(self.wake, self._config.poll_interval_s)
        finally:
            await self.stop()

    def _ensure_queue(self, partner_id: str) -> PartnerQueue:
        queue = self.queues.get(partner_id)
        task = self._tasks.get(partner_id)
        if queue is None:
            queue = self._new_queue(partner_id)
            self.queues[partner_id] = queue
        if task is None or task.done():
            if task is not None and not task.cancelled() and task.exception() is not None:
                log.error("partner queue crashed; restarting", exc_info=task.exception())
            self._tasks[partner_id] = asyncio.create_task(queue.run(), name=f"webhooks-{partner_id}")
        return queue

    async def _partners_with_pending(self) -> list[str]:
        async with self._sessions() as session:
            query = (
                select(col(WebhookDeliveryRow.partner_id))
                .where(col(WebhookDeliveryRow.status) == "pending")
                .distinct()
            )
            return list((await session.execute(query)).scalars())

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
