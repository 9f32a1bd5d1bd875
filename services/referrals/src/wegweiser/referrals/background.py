"""Background work of the leader replica: timers (reminder, expiry), webhook delivery, retention.

Timers are columns of the referral rows and the webhook queue is a table, so a restart resumes both
exactly where they stood. All loops read time from the clock port, so tests drive them by hand.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import OutboxRecord, forget_deleted_bytes
from wegweiser.common.leadership import lead
from wegweiser.common.outbox import prune_published
from wegweiser.common.retention import RetentionPeriod
from wegweiser.referrals.clock import Clock
from wegweiser.referrals.db import ReferralRepository, WebhookDeliveryRow
from wegweiser.referrals.delivery.worker import WebhookWorker
from wegweiser.referrals.domain.lifecycle import due_for_erasure
from wegweiser.referrals.domain.workdays import BERLIN
from wegweiser.referrals.handlers import Policy, ReferralsUnitOfWork, run_due_timers
from wegweiser.referrals.leadership import LOCK_KEY
from wegweiser.referrals.wake import woken_or_timeout

log = logging.getLogger(__name__)

PARTNER_TOPIC_PREFIX = "wegweiser.partner."
ERASE_BATCH = 500  # referrals per transaction


async def sweep_personal_data(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    retention: dt.timedelta,
    period: RetentionPeriod | None = None,
    outbox_retention: dt.timedelta | None = None,
) -> dict[str, int]:
    """Erase personal data held for delivery (docs/architecture.md); returns counts for the log.

    * published partner-topic messages leave the outbox: the broker holds them (30 days) from now on;
    * webhook payloads still undelivered after the retention period are erased and the delivery fails;
    * delivery rows (pseudonymous once erased) are deleted after the same period;
    * referrals finished longer ago than ``period`` are deleted with their answers and deliveries
      (those of an erased case went already, on ``case.erased``);
    * other published outbox records are deleted after ``outbox_retention``.
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
    counts = {
        "outbox_partner_messages": _count(published),
        "webhook_payloads_expired": _count(expired),
        "delivery_rows_deleted": _count(old),
    }
    if period is not None:
        counts |= await erase_finished_referrals(sessions=sessions, clock=clock, period=period)
    if outbox_retention is not None:
        async with sessions() as session:
            counts["outbox_records"] = await prune_published(session, before=now - outbox_retention)
            await session.commit()
    return counts


async def erase_finished_referrals(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, period: RetentionPeriod
) -> dict[str, int]:
    """Delete referrals whose final state lies longer back than ``period``, a batch per transaction.

    Idempotent: a concurrent run deletes the same rows or none, so replicas may overlap harmlessly.
    """
    today = clock.now().astimezone(BERLIN).date()
    latest = period.latest_due(today=today)
    before = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(), BERLIN)
    counts: dict[str, int] = {"referrals_erased": 0}
    while True:
        async with sessions() as session:
            repository = ReferralRepository(session)
            found = await repository.ended_before(before, limit=ERASE_BATCH)
            due = [r.referral_id for r in found if due_for_erasure(r, period, today=today)]
            erased = await repository.erase(due)
            await session.commit()
        counts["referrals_erased"] += erased.pop("referrals")
        for name, value in erased.items():
            counts[f"{name}_erased"] = counts.get(f"{name}_erased", 0) + value
        if len(found) < ERASE_BATCH or not due:
            break
    if counts["referrals_erased"]:
        async with sessions() as session:  # the erased bytes unreadable in the database files too
            await forget_deleted_bytes(session)
    async with sessions() as session:  # e.g. a late answer for a referral erased with its case
        orphans = await ReferralRepository(session).forget_orphan_feedback(before)
        await session.commit()
    counts["partner_feedback_erased"] = counts.get("partner_feedback_erased", 0) + orphans
    return counts


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(kw_only=True, eq=False)
class Background:
    """Runs the loops while this replica holds leadership; ``is_leader`` shows which one does."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    unit_of_work: Callable[[], ReferralsUnitOfWork]
    policy: Policy
    worker: WebhookWorker
    timer_interval_s: float
    retention: dt.timedelta  # of delivery data (sweep_personal_data)
    retention_interval_s: float
    period: RetentionPeriod | None = None
    outbox_retention: dt.timedelta | None = None
    is_leader: bool = field(default=False, init=False)
    timer_wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    timer_rounds: int = field(default=0, init=False)

    async def run(self) -> None:
        """The loops while this replica leads; after a database restart it waits for the lock again."""
        await lead(self.engine, LOCK_KEY, self._loops, name="referrals background loops")

    async def _loops(self) -> None:
        """All three or none: if one ends with an error, the others stop with it before ``lead`` waits
        for the lock again (a gather left them running, so every failure added a set of loops that went
        on even after another replica had taken the lead)."""
        self.is_leader = True
        try:
            async with asyncio.TaskGroup() as loops:
                loops.create_task(self._timers())
                loops.create_task(self.worker.run())
                loops.create_task(self._retention_loop())
        finally:
            self.is_leader = False

    async def _timers(self) -> None:
        while True:
            try:
                steps = await run_due_timers(unit_of_work=self.unit_of_work, policy=self.policy)
                if steps:
                    log.info("timers: %d reminders or expiries", steps)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer round failed; retrying")
            self.timer_rounds += 1
            await woken_or_timeout(self.timer_wake, self.timer_interval_s)

    async def _retention_loop(self) -> None:
        while True:
            try:
                counts = await sweep_personal_data(
                    sessions=self.sessions,
                    clock=self.policy.clock,
                    retention=self.retention,
                    period=self.period,
                    outbox_retention=self.outbox_retention,
                )
                if any(counts.values()):
                    log.info("retention sweep", extra=counts)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention sweep failed; retrying")
            await asyncio.sleep(self.retention_interval_s)
