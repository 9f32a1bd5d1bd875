"""Background work of the leader replica: timers (reminder, expiry), webhook delivery, retention.

Timers are columns of the referral rows and the webhook queue is a table, so a restart resumes both
exactly where they stood. All loops read time from the clock port, so tests drive them by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import OutboxRecord
from wegweiser.referrals.clock import Clock
from wegweiser.referrals.db import WebhookDeliveryRow
from wegweiser.referrals.delivery.worker import WebhookWorker
from wegweiser.referrals.handlers import Policy, ReferralsUnitOfWork, run_due_timers
from wegweiser.referrals.leadership import leadership

log = logging.getLogger(__name__)

PARTNER_TOPIC_PREFIX = "wegweiser.partner."


async def sweep_personal_data(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, retention: dt.timedelta
) -> dict[str, int]:
    """Erase personal data held for delivery (ARCHITECTURE §6); returns counts for the log.

    * published partner-topic messages leave the outbox: the broker holds them (30 days) from now on;
    * webhook payloads still undelivered after the retention period are erased and the delivery fails;
    * delivery rows (pseudonymous once erased) are deleted after the same period.
    """
    now = clock.now()
    cutoff = now - retention
    async with sessions() as session:
        published = await session.execute(
            delete(OutboxRecord).where(
                col(OutboxRecord.topic).startswith(PARTNER_TOPIC_PREFIX),
                col(OutboxRecord.published_at).is_not(None),
            )
        )
        expired = await session.execute(
            update(WebhookDeliveryRow)
            .where(col(WebhookDeliveryRow.status) == "pending", col(WebhookDeliveryRow.created_at) < cutoff)
            .values(status="failed", body=None, erased_at=now, last_error="retention period ended")
        )
        old = await session.execute(
            delete(WebhookDeliveryRow).where(
                col(WebhookDeliveryRow.status) != "pending", col(WebhookDeliveryRow.created_at) < cutoff
            )
        )
        await session.commit()
    return {
        "outbox_partner_messages": _count(published),
        "webhook_payloads_expired": _count(expired),
        "delivery_rows_deleted": _count(old),
    }


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Background:
    """Runs the loops while this replica holds leadership; ``is_leader`` shows which one does."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        unit_of_work: Callable[[], ReferralsUnitOfWork],
        policy: Policy,
        worker: WebhookWorker,
        timer_interval_s: float,
        retention: dt.timedelta,
        retention_interval_s: float,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._unit_of_work = unit_of_work
        self.policy = policy
        self.worker = worker
        self._timer_interval_s = timer_interval_s
        self._retention = retention
        self._retention_interval_s = retention_interval_s
        self.is_leader = False
        self.timer_wake = asyncio.Event()
        self.timer_rounds = 0

    async def run(self) -> None:
        async with leadership(self._engine):
            self.is_leader = True
            try:
                await asyncio.gather(self._timers(), self.worker.run(), self._retention_loop())
            finally:
                self.is_leader = False

    async def _timers(self) -> None:
        while True:
            try:
                steps = await run_due_timers(unit_of_work=self._unit_of_work, policy=self.policy)
                if steps:
                    log.info("timers: %d reminders or expiries", steps)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer round failed; retrying")
            self.timer_rounds += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.timer_wake.wait(), self._timer_interval_s)
            self.timer_wake.clear()

    async def _retention_loop(self) -> None:
        while True:
            try:
                counts = await sweep_personal_data(
                    sessions=self._sessions, clock=self.policy.clock, retention=self._retention
                )
                if any(counts.values()):
                    log.info("retention sweep", extra=counts)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention sweep failed; retrying")
            await asyncio.sleep(self._retention_interval_s)
