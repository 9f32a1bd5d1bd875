"""The outbox (docs/architecture.md): ``OutboxWriter`` queues events with a transaction, ``OutboxRelay``
publishes committed ones in commit order, then marks them sent.

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
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry import propagate, trace
from sqlalchemy import Text, cast, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from wegweiser.common.db import OutboxRecord, postgres_connection, utcnow
from wegweiser.common.envelope import attributes, trace_context
from wegweiser.common.events import Event
from wegweiser.common.events.keys import PERSON_KEY_EVENTS
from wegweiser.common.ids import new_id
from wegweiser.common.leadership import lead
from wegweiser.common.personal_data import PersonKeys, seal, wrap

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

# Sends one record and returns a future that resolves once the broker acknowledged it.
Send = Callable[[str, str, bytes, dict[str, str]], Awaitable["asyncio.Future[Any]"]]

ADVISORY_LOCK_KEY = 0x5765_6777  # "Wegw": same key in every service; each has its own database
# On PostgreSQL the outbox's trigger notifies this channel when a transaction that queued events commits
# (the migrations' ``shared.notify_outbox_inserts``), in whichever process or replica it ran.
OUTBOX_CHANNEL = "wegweiser_outbox"


class SendFailed(RuntimeError):
    """Kafka did not take a record (a database failure is not one: it needs no new producer)."""


@dataclass(kw_only=True, eq=False)
class OutboxRelay:
    """Publishes a database's committed outbox records while it holds leadership (``run``)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    send: Send
    wake: asyncio.Event  # set when a transaction queued events
    batch_size: int = 500
    # ``wake`` only hears this process's commits: another replica's wait for the next poll (an indexed
    # query for unpublished rows), which is on every event's path, so polls are frequent.
    poll_interval_s: float = 0.1
    # Called after a failed batch: a new producer, so one failed send cannot block a partition for ever
    # (``broker.RelayProducer``). Failures in a row back off up to ``max_backoff_s`` (a broker outage).
    renew: Callable[[], Awaitable[None]] | None = None
    max_backoff_s: float = 5.0
    is_leader: bool = field(default=False, init=False)
    published: int = field(default=0, init=False)

    async def run(self) -> None:
        """Hold leadership and publish until cancelled (taking it again after a database restart)."""
        await lead(self.engine, ADVISORY_LOCK_KEY, self._publish_while_leader, name="outbox relay")

    async def _publish_while_leader(self) -> None:
        self.is_leader = True
        log.info("outbox relay is the leader for this database")
        try:
            async with self._listening():
                failures = 0
                while True:
                    try:
                        sent = await self.publish_pending()
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        failures += 1
                        log.exception("outbox relay failed (%d in a row); retrying", failures)
                        await self._after_failure(failures, renew=isinstance(exc, SendFailed))
                        continue
                    failures = 0
                    if sent < self.batch_size:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.wake.wait(), self.poll_interval_s)
                        self.wake.clear()
        finally:
            self.is_leader = False

    async def _after_failure(self, failures: int, *, renew: bool) -> None:
        await asyncio.sleep(min(self.poll_interval_s * 2 ** (failures - 1), self.max_backoff_s))
        if self.renew is None or not renew:  # the database failed: the producer is fine
            return
        try:
            await self.renew()
            log.warning("outbox relay: a new Kafka producer after a failed batch")
        except Exception as exc:  # the broker is away: the next round fails fast and tries again
            log.warning("outbox relay: no new Kafka producer yet: %r", exc)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        """On PostgreSQL, every commit that queued events sets ``wake``, in any process (``OUTBOX_CHANNEL``):
        a relay of its own, or another replica's, publishes at once instead of at its next poll, which
        stays as the fallback (a lost connection, SQLite)."""
        if self.engine.dialect.name != "postgresql":
            yield
            return
        async with self.engine.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection

            def heard(*_: object) -> None:
                self.wake.set()

            await driver.add_listener(OUTBOX_CHANNEL, heard)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await driver.remove_listener(OUTBOX_CHANNEL, heard)

    async def publish_pending(self) -> int:
        """Publish one batch of unsent events in id order; returns how many were sent.

        Plain columns, no ORM objects: the relay handles as many rows as every request together.
        """
        async with self.sessions() as session:
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
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": topic,
                        # Type and subject name the event in the trace (trace_flows finds an arrival's).
                        "cloudevents.event_type": headers.get("ce_type", ""),
                        "cloudevents.event_subject": headers.get("ce_subject", ""),
                    },
                ):
                    propagate.inject(headers)  # the consumer's span becomes a child of this one
                    try:
                        futures.append(await self.send(topic, key, value, headers))
                    except Exception as exc:
                        raise SendFailed(f"{topic}: {exc!r}") from exc
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
                (_, topic, *_), error = failed[0]
                log.warning(
                    "outbox: %d of %d events not acknowledged (the first on %s: %r); will retry",
                    len(failed),
                    len(rows),
                    topic,
                    error,
                )
                raise SendFailed("some outbox events were not acknowledged")
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


# --- writing ---------------------------------------------------------------------------------------------

_COPY_COLUMNS = ["event_id", "topic", "key", "value", "headers", "created_at", "attempts"]
_Row = tuple[str, str, str, bytes, list[list[str]]]  # event id, topic, key, value, headers


@dataclass(frozen=True, slots=True)
class Sealer:
    """How an owner of personal data seals its events: its name, its key table, the key-wrapping key."""

    owner: str
    keys: PersonKeys
    wrapping_key: bytes


class OutboxWriter:
    """The one way into the outbox: events queued with a transaction leave only if it commits.

    By default each event becomes an ORM row of the session at once, written with the rest of the
    transaction. ``bulk=True`` is for transactions with many events (intake's batches of 1,000
    arrivals): the rows stay plain tuples and are written at ``flush`` in one statement, ``COPY`` on
    PostgreSQL and one multi-row INSERT elsewhere; the events of one transaction then share its moment
    (``ce_time``) and the trace context that caused them.
    """

    def __init__(self, session: AsyncSession, *, bulk: bool = False, sealer: Sealer | None = None) -> None:
        self._session = session
        self._bulk = bulk
        self._sealer = sealer
        self._rows: list[_Row] = []
        self._moment: tuple[dt.datetime, str, dict[str, str]] | None = None

    def add(self, event: Event, *, event_id: uuid.UUID | None = None) -> str:
        """Queue ``event`` (CloudEvents headers and trace context added); returns its ``ce_id``."""
        ce_id = str(event_id or new_id())
        if self._bulk:
            if self._moment is None:
                now = utcnow()
                self._moment = (now, now.isoformat(), trace_context())
            _, time, trace = self._moment
            headers = attributes(event, event_id=ce_id, time=time, trace=trace)
        else:
            headers = attributes(event, event_id=ce_id)
        self.add_record(
            topic=event.topic.name,
            key=event.key(),
            value=self._value(event),
            headers=[[k, v] for k, v in headers.items()],
            event_id=ce_id,
        )
        return ce_id

    def _value(self, event: Event) -> bytes:
        """The payload, its personal fields sealed when this writer belongs to their owner."""
        if not event.personal or self._sealer is None:
            return event.model_dump_json().encode()
        return orjson.dumps(seal(event.model_dump(mode="json"), event.personal, self._data_key))

    def _data_key(self, person: str) -> tuple[str, bytes]:
        """A new data key for ``person``, in the key table and on the key topic with this transaction."""
        assert self._sealer is not None
        owner = self._sealer.owner
        kid, key = self._sealer.keys.issue(owner, person)
        issued, _ = PERSON_KEY_EVENTS[owner]
        self.add(issued(kid=kid, person=person, wrapped_key=wrap(self._sealer.wrapping_key, kid, key)))
        return kid, key

    def add_record(
        self, *, topic: str, key: str, value: bytes, headers: list[list[str]], event_id: str | None = None
    ) -> str:
        """Queue a record as it is (a partner topic chosen at run time, a tombstone); returns its id."""
        record_id = event_id or str(new_id())
        if self._bulk:
            self._rows.append((record_id, topic, key, value, headers))
        else:
            self._session.add(
                OutboxRecord(event_id=record_id, topic=topic, key=key, value=value, headers=headers)
            )
        return record_id

    def discard(self) -> None:
        """Forget what is queued and not yet written (the transaction is being rolled back)."""
        self._rows = []
        self._moment = None
        if self._sealer is not None:
            self._sealer.keys.discard()

    async def flush(self) -> None:
        """Write the issued data keys and the queued bulk rows inside the open transaction."""
        if self._sealer is not None:
            await self._sealer.keys.flush()
        if not self._rows:
            self._moment = None
            return
        created = self._moment[0] if self._moment else utcnow()
        rows, self._rows, self._moment = self._rows, [], None
        pg = await postgres_connection(self._session)
        if pg is not None:
            await pg.copy_records_to_table(
                "outbox",
                records=[
                    (ce_id, topic, key, value, orjson.dumps(headers).decode(), created, 0)
                    for ce_id, topic, key, value, headers in rows
                ],
                columns=_COPY_COLUMNS,
            )
            return
        await self._session.execute(
            insert(OUTBOX),
            [
                {
                    "event_id": ce_id,
                    "topic": topic,
                    "key": key,
                    "value": value,
                    "headers": headers,
                    "created_at": created,
                    "published_at": None,
                    "attempts": 0,
                    "last_error": None,
                }
                for ce_id, topic, key, value, headers in rows
            ],
        )
