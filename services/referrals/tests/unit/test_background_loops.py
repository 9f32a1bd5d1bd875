"""The leader's loops fail together and the webhook supervisor outlives a failed look."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from wegweiser.referrals.background import Background
from wegweiser.referrals.clock import FakeClock
from wegweiser.referrals.delivery.addresses import AddressGuard
from wegweiser.referrals.delivery.worker import WebhookWorker, WorkerConfig


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    """An empty SQLite database: every query of the loops fails (no tables), as in a database restart."""
    empty = create_async_engine("sqlite+aiosqlite://")
    yield empty
    await empty.dispose()


class FailingWorker:
    async def run(self) -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("the webhook supervisor ended")


async def test_when_one_loop_fails_the_others_stop_with_it(engine: AsyncEngine) -> None:
    """``lead`` then waits for the lock again and starts a fresh set: none of the old set may go on,
    or every failure would leave one more set running, on a replica that may no longer lead."""

    def no_unit_of_work() -> Any:
        raise RuntimeError("no database")

    background = Background(
        engine=engine,
        sessions=async_sessionmaker(engine),
        unit_of_work=no_unit_of_work,
        policy=cast(Any, None),
        worker=cast(WebhookWorker, FailingWorker()),
        timer_interval_s=0.005,
        retention=dt.timedelta(days=1),
        retention_interval_s=3600,
    )
    with pytest.raises((RuntimeError, ExceptionGroup)):  # the worker's error, in a group since the fix
        await background.run()
    rounds = background.timer_rounds
    assert rounds > 0 and not background.is_leader
    await asyncio.sleep(0.05)
    assert background.timer_rounds == rounds  # the timers stopped with the worker


async def test_the_webhook_supervisor_looks_again_after_a_failed_look(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    worker = WebhookWorker(
        sessions=async_sessionmaker(engine),
        clock=FakeClock(dt.datetime(2026, 12, 7, tzinfo=dt.UTC)),
        config=WorkerConfig(poll_interval_s=0.01),
        addresses=AddressGuard(),
    )
    caplog.set_level(logging.ERROR)

    def failed_looks() -> int:
        return sum("looking for pending deliveries failed" in r.getMessage() for r in caplog.records)

    running = asyncio.create_task(worker.run())
    for _ in range(500):
        if failed_looks() >= 2 or running.done():
            break
        await asyncio.sleep(0.01)
    assert not running.done()  # before: the first failed look ended the supervisor
    assert failed_looks() >= 2
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
