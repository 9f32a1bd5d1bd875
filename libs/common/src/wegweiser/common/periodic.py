"""A job that runs inside a service every few minutes (e.g. the retention purge), beside its API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

log = logging.getLogger(__name__)


async def every(interval_s: float, job: Callable[[], Awaitable[Mapping[str, int]]], *, name: str) -> None:
    """Run ``job`` now and then every ``interval_s`` until cancelled; log its non-zero counts.

    A failed round is logged and the job runs again next round: the jobs are idempotent, so a round
    cut short by a crash or a concurrent replica leaves nothing half-done behind.
    """
    while True:
        try:
            counts = await job()
            if any(counts.values()):
                log.info("%s", name, extra=dict(counts))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying next round", name)
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def running(job: Awaitable[None], *, name: str) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``job`` as a task while the block runs; cancel it on the way out."""
    task: asyncio.Task[None] = asyncio.ensure_future(job)
    task.set_name(name)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
