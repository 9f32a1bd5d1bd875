"""Database plumbing shared by the services: engines, the outbox and inbox tables, the unit of work.

Each service owns its database (SQLite by default, PostgreSQL in production and integration tests);
these tables live in every one of them, beside the service's own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from sqlalchemy import JSON, BigInteger, Column, Integer, LargeBinary, MetaData, delete, event, text
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from wegweiser.common.events import Event
from wegweiser.common.personal_data import DEV_KEY_WRAPPING_KEY, PersonKeyColumns, PersonKeys, wrapping_key
from wegweiser.common.sql import dialect_insert

if TYPE_CHECKING:
    from wegweiser.common.outbox import OutboxWriter

DATABASE_POOL_SIZE = 30  # connections per service process, at most (pool + overflow)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CommonTable(SQLModel, registry=registry()):
    """Own registry: every service's migrations create these two beside its own tables."""


class OutboxRecord(CommonTable, table=True):
    """An event written in the same transaction as the state change that caused it (docs/architecture.md)."""

    __tablename__ = "outbox"

    # BIGINT identity: the relay publishes in this order, which is commit order per aggregate.
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    event_id: str = Field(unique=True, max_length=64)
    topic: str
    key: str
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: list[list[str]] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
    published_at: dt.datetime | None = Field(default=None, index=True)
    attempts: int = 0
    last_error: str | None = None


class InboxRecord(CommonTable, table=True):
    """A processed event id, recorded with the effect, so a redelivery is skipped (docs/architecture.md)."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=200)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: dt.datetime = Field(default_factory=utcnow)


COMMON_METADATA: MetaData = CommonTable.metadata


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout because relay and handlers write concurrently,
    and ``secure_delete`` so that erased personal data is overwritten in the file, not only unlinked."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    # The pool keeps as many connections as the consumers may hold at once (their database slots):
    # an overflow connection is closed when it comes back, and opening one costs a TLS attempt, a
    # server process and every statement prepared again; 4 % of casework's CPU under the flood.
    engine = create_async_engine(
        url, pool_size=DATABASE_POOL_SIZE * 2 // 3, max_overflow=DATABASE_POOL_SIZE // 3
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (PostgreSQL restarted) is replaced at checkout.

    This asks the driver's own view of the socket instead of SQLAlchemy's ``pool_pre_ping``, which on
    asyncpg costs three round trips (BEGIN, an empty query, ROLLBACK) before every transaction: in the
    system day a third of a key copy's round trips. The pool retries the checkout with a new connection."""
    if dbapi_connection._connection.is_closed():
        raise DisconnectionError("the database closed this pooled connection")


_T = TypeVar("_T")


async def again_after_conflict(attempt: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``attempt`` (a transaction of its own); if it met rows a concurrent writer committed first,
    run it once more, when it sees them. A second conflict is a real error and is raised.

    Why: replicas starting together seed the same empty tables; the loser used to fail to start.
    """
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


async def delete_created_before(session: AsyncSession, table: Any, cutoff: dt.datetime) -> int:
    """Delete the rows of ``table`` (a table with ``created_at``) created before ``cutoff``; how many."""
    result = await session.execute(delete(table).where(table.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_deleted_bytes(target: AsyncEngine | AsyncSession) -> None:
    """After an erasure: make the deleted rows unreadable in the files too.

    SQLite: ``secure_delete`` zeroes the freed pages, but earlier versions of those pages stay in the
    write-ahead log until a checkpoint; a TRUNCATE checkpoint writes them back and empties the log.
    PostgreSQL: dead row versions stay in the table files until VACUUM reclaims them (autovacuum, usually
    within minutes; docs/security.md), which no statement inside a transaction can force.
    """
    engine = target if isinstance(target, AsyncEngine) else target.bind
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


async def postgres_connection(session: AsyncSession) -> Any | None:
    """The asyncpg connection under the session's open transaction; None on another database.

    For bulk writes (``COPY``, arrays through ``unnest``) that SQLAlchemy does not offer. SQLAlchemy
    begins the transaction lazily, on the first statement it runs: a statement sent to asyncpg before
    that would commit on its own, so one is run through the session first if need be.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await connection.execute(text("SELECT 1"))
    assert driver.is_in_transaction()
    return driver


class UnitOfWork:
    """One transaction: the state change, the outgoing events and the processed inbox id commit together."""

    bulk_outbox: ClassVar[bool] = False
    """True for services with many events per transaction: see ``OutboxWriter``'s bulk mode."""
    person_key_table: ClassVar[type[PersonKeyColumns] | None] = None
    """The service's ``person_keys`` table, if it seals or opens personal fields on Kafka."""
    seals_as: ClassVar[str | None] = None
    """The owner whose keys seal this service's personal events (``wegweiser.common.personal_data``)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox_signal: asyncio.Event | None = None,
        *,
        key_wrapping_key: str = DEV_KEY_WRAPPING_KEY,
    ):
        self._sessions = sessions
        self._outbox_signal = outbox_signal
        self._published = False
        self.key_wrapping_key = wrapping_key(key_wrapping_key)

    async def __aenter__(self) -> Self:
        # Imported here: the outbox module imports this one for its table.
        from wegweiser.common.outbox import OutboxWriter, Sealer

        self.session = self._sessions()
        sealer = Sealer(self.seals_as, self.person_keys, self.key_wrapping_key) if self.seals_as else None
        self.outbox: OutboxWriter = OutboxWriter(self.session, bulk=self.bulk_outbox, sealer=sealer)
        self._published = False
        return self

    @property
    def person_keys(self) -> PersonKeys:
        """The data keys of sealed personal fields this service holds (its own, or copies)."""
        if self.person_key_table is None:
            raise LookupError(f"{type(self).__name__} holds no person keys")
        return PersonKeys(self.session, self.person_key_table)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.rollback()  # no-op after commit
        await self.session.close()

    def publish(self, event: Event, *, event_id: uuid.UUID | None = None) -> str:
        """Queue an event in the outbox; it leaves only if the transaction commits. Returns its ce_id."""
        self._published = True
        return self.outbox.add(event, event_id=event_id)

    async def claim_event(self, *, consumer: str, event_id: str) -> bool:
        """Record ``event_id`` as processed by ``consumer`` with this transaction; False if it already
        was (a redelivery). One statement, where a look and a later insert were two round trips a
        record; a concurrent delivery of the same event waits here for the other's commit, then finds it."""
        row = dialect_insert(self.session, InboxRecord).values(
            consumer=consumer, event_id=event_id, processed_at=utcnow()
        )
        claimed = await self.session.execute(
            row.on_conflict_do_nothing().returning(InboxRecord.__table__.c.event_id)  # type: ignore[attr-defined]
        )
        return claimed.first() is not None

    async def rollback(self) -> None:
        """Drop the changes and the queued events, keeping the unit of work open for another try."""
        self.outbox.discard()
        await self.session.rollback()

    async def commit(self) -> None:
        await self.outbox.flush()
        await self.session.commit()
        if self._published and self._outbox_signal is not None:
            self._outbox_signal.set()  # wake the relay now instead of at its next poll
