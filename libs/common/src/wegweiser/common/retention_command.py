"""The retention command line, the same for every service that erases personal data (docs/architecture.md).

    python -m wegweiser.<service>.retention [--dry-run [--today YYYY-MM-DD]]

A service's ``retention`` module supplies what differs (its settings, migrations, unit of work,
which records are due, its purge); the purge also runs inside the service on a timer. The command
migrates the database first, so it also works on a database no service has started on yet.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from wegweiser.common import localtime
from wegweiser.common.db import UnitOfWork, create_engine
from wegweiser.common.migrations import Migrations, upgrade_database
from wegweiser.common.retention import PurgeReport, RetentionPeriod

S = TypeVar("S", bound="RetentionSettings")
U = TypeVar("U", bound=UnitOfWork)


class RetentionSettings(Protocol):
    """What the command needs of a service's settings (``ServiceSettings`` with ``RetentionMixin``)."""

    database_url: str

    @property
    def retention(self) -> RetentionPeriod: ...


@dataclass(frozen=True)
class RetentionCommand(Generic[S, U]):
    """One service's purge on the command line: list what is due (``--dry-run``) or erase it now."""

    service: str
    records: str  # what a purge erases ("cases", "arrivals"): names the ids in the output
    description: str
    settings: Callable[[], S]
    migrations: Migrations
    unit_of_work: Callable[[async_sessionmaker[AsyncSession]], U]
    # (unit_of_work, *, period, today) -> the ids a purge would erase on that day
    due: Callable[..., Awaitable[list[uuid.UUID]]]
    purge: Callable[[Callable[[], U], S], Awaitable[PurgeReport]]

    def main(self, argv: list[str] | None = None) -> None:
        cli = argparse.ArgumentParser(
            prog=f"python -m wegweiser.{self.service}.retention", description=self.description
        )
        cli.add_argument("--dry-run", action="store_true", help=f"only list the {self.records} that are due")
        cli.add_argument(
            "--today", type=dt.date.fromisoformat, help="with --dry-run: what is due on this date"
        )
        args = cli.parse_args(argv)
        if args.today and not args.dry_run:
            cli.error("--today only with --dry-run: a purge always judges by the real date")
        print(json.dumps(asyncio.run(self.run(dry_run=args.dry_run, today=args.today)), indent=2))

    async def run(self, *, dry_run: bool, today: dt.date | None = None) -> dict[str, object]:
        """What the command prints: the ids due on ``today`` (dry run), or the purge's report."""
        settings = self.settings()
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine, self.migrations)
            sessions = async_sessionmaker(engine, expire_on_commit=False)

            def unit_of_work() -> U:
                return self.unit_of_work(sessions)

            if dry_run:
                day = today or localtime.today()
                due = await self.due(unit_of_work, period=settings.retention, today=day)
                return {"today": day.isoformat(), f"due_{self.records}": [str(i) for i in due]}
            return (await self.purge(unit_of_work, settings)).as_json()
        finally:
            await engine.dispose()
