"""The outbox relay: publishes committed events in commit order, then marks them sent (ARCHITECTURE §4).

Exactly one relay is active per service database: on PostgreSQL leadership is a session-level advisory
lock held on a dedicated connection (a second replica waits as a hot standby); on SQLite the database
belongs to a single process anyway. The producer is idempotent with ``acks=all``, so a crash between
publish and mark-as-sent gives a duplicate that the consumers' inbox absorbs — never a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from opentelemetry import propagate, trace
from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import OutboxRecord, utcnow
from wegweiser.common.leadership import exclusive

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

# Sends one record and returns a future that resolves once the broker acknowledged it.
Send = Callable[[str, str, bytes, dict[str, str]], Awaitable["asyncio.Future[Any]"]]

ADVISORY_LOCK_KEY = 0x5765_6777  # "Wegw": same key in every service; each has its own database


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        send: Send,
        wake: asyncio.Event,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._send = send
        self._wake = wake
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.is_leader = False
        self.published = 0

    async def run(self) -> None:
        """Hold leadership and publish until cancelled."""
        async with exclusive(self._engine, ADVISORY_LOCK_KEY):
            self.is_leader = True
            log.info("outbox relay is the leader for this database")
            while True:
                try:
                    sent = await self.publish_pending()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox relay failed; retrying")
                    await asyncio.sleep(self.poll_interval_s)
                    continue
                if sent < self.batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
                    self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unsent events in id order; returns how many were sent.

        Plain columns, no ORM objects: the relay handles as many rows as every request together.
        """
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.value, _HEADERS_TEXT)
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            futures = []
            for _, topic, key, value, raw_headers in rows:
                headers = dict(_load_headers(raw_headers))
                with tracer.start_as_current_span(
                    f"{topic} publish",
                    context=propagate.extract(headers),
                    kind=trace.SpanKind.PRODUCER,
                    attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
                ):
                    propagate.inject(headers)  # the consumer's span becomes a child of this one
                    futures.append(await self._send(topic, key, value, headers))
            results = await asyncio.gather(*futures, return_exceptions=True)
            sent_ids = [
                row[0]
                for row, result in zip(rows, results, strict=True)
                if not isinstance(result, BaseException)
            ]
            failed = [
                (row, result)
                for row, result in zip(rows, results, strict=True)
                if isinstance(result, BaseException)
            ]
            now = utcnow()
            if sent_ids:
                await session.execute(
                    update(OUTBOX).where(OUTBOX.c.id.in_(sent_ids)).values(published_at=now)
                )
            for row, error in failed:
                await session.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == row[0])
                    .values(attempts=OUTBOX.c.attempts + 1, last_error=repr(error)[:1000])
                )
            await session.commit()
            self.published += len(sent_ids)
            if failed:
                log.warning("outbox: %d of %d events not acknowledged; will retry", len(failed), len(rows))
                raise RuntimeError("some outbox events were not acknowledged")
            return len(sent_ids)


async def prune_published(session: AsyncSession, *, before: dt.datetime) -> int:
    """Delete events the broker acknowledged before ``before``; returns how many.

    A published record has done its job, but its value is the event itself, names included for the
    personal topics (arrivals, referral requests): keeping it would outlive the topic's own retention.
    Unsent records are never touched. Idempotent, so replicas may run it at the same time.
    """
    result = await session.execute(
        delete(OutboxRecord).where(
            col(OutboxRecord.published_at).is_not(None), col(OutboxRecord.published_at) < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


OUTBOX = OutboxRecord.__table__  # type: ignore[attr-defined]
# The headers as the JSON text stored, parsed with orjson below (faster than the driver's json module).
_HEADERS_TEXT = cast(OUTBOX.c.headers, Text)


def _load_headers(raw: str) -> list[list[str]]:
    headers: list[list[str]] = orjson.loads(raw)
    return headers
