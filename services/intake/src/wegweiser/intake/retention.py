"""The retention purge: erase the persons of arrivals allocated longer ago than the period.

Intake keeps identity data only to hand households over and to detect duplicates; after
``INTAKE_RETENTION_MONTHS`` (default 24) from the allocation date the persons, their duplicate-index
entries and duplicate flags go, and so do finished uploads of that age. The arrival row stays
(authority, reference, AGS, dates, status ``erased``) so a resent arrival is recognised and not
registered twice. Stored ``Idempotency-Key``
answers (they repeat the request) go after ``INTAKE_IDEMPOTENCY_RETENTION_H``, published outbox
records after ``INTAKE_OUTBOX_RETENTION_DAYS``. Runs in the service every ``INTAKE_RETENTION_INTERVAL_S``
and on demand:

    python -m wegweiser.intake.retention [--dry-run [--today YYYY-MM-DD]]

Concurrent runs are harmless: an arrival is erased by a conditional UPDATE that only one run wins.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from wegweiser.common import localtime
from wegweiser.common.db import delete_created_before, forget_deleted_bytes, utcnow
from wegweiser.common.outbox import prune_published
from wegweiser.common.retention import PurgeReport, RetentionPeriod
from wegweiser.common.retention_command import RetentionCommand
from wegweiser.intake.db import IdempotencyRow
from wegweiser.intake.handlers import IntakeUnitOfWork, erase_arrival
from wegweiser.intake.migrations import MIGRATIONS
from wegweiser.intake.settings import IntakeSettings

BATCH = 500  # arrivals per transaction


async def due_arrivals(
    unit_of_work: Callable[[], IntakeUnitOfWork], *, period: RetentionPeriod, today: dt.date
) -> list[uuid.UUID]:
    """The arrivals a purge would erase on ``today`` (for ``--dry-run``)."""
    async with unit_of_work() as uow:
        found = await uow.arrivals.allocated_on_or_before(period.latest_due(today=today), limit=10_000_000)
    return [a.arrival_id for a in found]


async def purge(
    unit_of_work: Callable[[], IntakeUnitOfWork],
    *,
    period: RetentionPeriod,
    today: dt.date,
    idempotency_before: dt.datetime | None = None,
    outbox_before: dt.datetime | None = None,
) -> PurgeReport:
    """Erase every arrival due today, a batch per transaction; then the stored answers and outbox."""
    report = PurgeReport(today=today, kind="arrivals")
    counts = report.records
    latest = period.latest_due(today=today)
    while True:
        async with unit_of_work() as uow:
            found = await uow.arrivals.allocated_on_or_before(latest, limit=BATCH)
            for arrival in found:
                if not arrival.due_for_erasure(period, today=today):
                    continue
                flags = await erase_arrival(uow, arrival)
                if flags is None:
                    continue  # a concurrent run was first
                report.erased.append(arrival.arrival_id)
                counts["persons"] = counts.get("persons", 0) + len(arrival.persons)
                counts["duplicate_flags"] = counts.get("duplicate_flags", 0) + flags
            await uow.commit()
        if len(found) < BATCH:
            break
    async with unit_of_work() as uow:
        imports_before = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(), localtime.BERLIN)
        counts["imports"] = await uow.imports.forget_before(imports_before)
        if idempotency_before is not None:
            # the stored answers repeat the request, names included
            counts["idempotency_answers"] = await delete_created_before(
                uow.session, IdempotencyRow, idempotency_before
            )
        if outbox_before is not None:
            counts["outbox_records"] = await prune_published(uow.session, before=outbox_before)
        await uow.commit()
    return report


async def run_purge(unit_of_work: Callable[[], IntakeUnitOfWork], settings: IntakeSettings) -> PurgeReport:
    """One purge as configured, judged by today's date in Baden-Württemberg."""
    now = utcnow()
    report = await purge(
        unit_of_work,
        period=settings.retention,
        today=now.astimezone(localtime.BERLIN).date(),
        idempotency_before=now - dt.timedelta(hours=settings.idempotency_retention_h),
        outbox_before=now - dt.timedelta(days=settings.outbox_retention_days),
    )
    async with unit_of_work() as uow:  # the erased bytes unreadable in the database files too
        await forget_deleted_bytes(uow.session)
    return report


COMMAND = RetentionCommand(
    service="intake",
    records="arrivals",
    description="Erase the persons of arrivals allocated longer ago than INTAKE_RETENTION_MONTHS.",
    settings=IntakeSettings,
    migrations=MIGRATIONS,
    unit_of_work=IntakeUnitOfWork,
    due=due_arrivals,
    purge=run_purge,
)


if __name__ == "__main__":
    COMMAND.main()
