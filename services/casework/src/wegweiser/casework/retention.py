"""The retention purge (docs/architecture.md): erase cases closed longer ago than the retention period.

Runs inside the service every ``CASEWORK_RETENTION_INTERVAL_S`` and on demand from the command line:

    python -m wegweiser.casework.retention [--dry-run] [--today YYYY-MM-DD]

Every replica may run it: each case is erased by a conditional UPDATE (see ``mark_erased``), so a
concurrent run finds it erased and skips it, and ``case.erased`` is published exactly once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from wegweiser.casework.db import IdempotencyRow
from wegweiser.casework.handlers import CaseworkUnitOfWork, erase_case
from wegweiser.casework.migrations import MIGRATIONS
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common import localtime
from wegweiser.common.db import delete_created_before, forget_deleted_bytes, utcnow
from wegweiser.common.outbox import prune_published
from wegweiser.common.retention import PurgeReport, RetentionPeriod
from wegweiser.common.retention_command import RetentionCommand

BATCH = 200  # cases per transaction


async def due_cases(
    unit_of_work: Callable[[], CaseworkUnitOfWork], *, period: RetentionPeriod, today: dt.date
) -> list[uuid.UUID]:
    """The cases a purge would erase today (for ``--dry-run``)."""
    async with unit_of_work() as uow:
        return await uow.cases.closed_on_or_before(period.latest_due(today=today), limit=1_000_000)


async def purge(
    unit_of_work: Callable[[], CaseworkUnitOfWork],
    *,
    period: RetentionPeriod,
    today: dt.date,
    outbox_before: dt.datetime | None = None,
    answers_before: dt.datetime | None = None,
) -> PurgeReport:
    """Erase every case due today, a batch per transaction; then prune published outbox records and the
    answers kept for repeated requests (both may carry names)."""
    report = PurgeReport(today=today, kind="cases")
    latest = period.latest_due(today=today)
    while True:
        async with unit_of_work() as uow:
            ids = await uow.cases.closed_on_or_before(latest, limit=BATCH)
            for case_id in ids:
                case = await uow.cases.for_system(case_id)
                if case is None or not case.due_for_erasure(period, today=today):
                    continue
                counts = await erase_case(uow, case, today=today, reason="retention")
                if counts is not None:
                    report.erased.append(case_id)
                    for name, value in counts.items():
                        report.records[name] = report.records.get(name, 0) + value
            await uow.commit()
        if len(ids) < BATCH:
            break
    if outbox_before is not None:
        async with unit_of_work() as uow:
            report.records["outbox_records"] = await prune_published(uow.session, before=outbox_before)
            await uow.commit()
    if answers_before is not None:
        async with unit_of_work() as uow:
            # a repeat comes within minutes, and the stored answers may hold names
            report.records["idempotency_answers"] = await delete_created_before(
                uow.session, IdempotencyRow, answers_before
            )
            await uow.commit()
    return report


async def run_purge(
    unit_of_work: Callable[[], CaseworkUnitOfWork], settings: CaseworkSettings
) -> PurgeReport:
    """One purge as configured, judged by today's date in Baden-Württemberg; then the erased bytes
    are made unreadable in the database files too."""
    report = await purge(
        unit_of_work,
        period=settings.retention,
        today=localtime.today(),
        outbox_before=utcnow() - dt.timedelta(days=settings.outbox_retention_days),
        answers_before=utcnow() - dt.timedelta(hours=settings.idempotency_retention_h),
    )
    async with unit_of_work() as uow:
        await forget_deleted_bytes(uow.session)
    return report


COMMAND = RetentionCommand(
    service="casework",
    records="cases",
    description="Erase the personal data of cases closed longer ago than CASEWORK_RETENTION_MONTHS.",
    settings=CaseworkSettings,
    migrations=MIGRATIONS,
    unit_of_work=CaseworkUnitOfWork,
    due=due_cases,
    purge=run_purge,
)


if __name__ == "__main__":
    COMMAND.main()
