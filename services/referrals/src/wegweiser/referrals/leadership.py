"""One active set of background loops per database (timers, webhook worker, retention sweeper).

On PostgreSQL leadership is a session-level advisory lock on a dedicated connection, as for the outbox
relay but with its own key: another replica waits as a hot standby. On SQLite the database belongs to
a single process anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

LOCK_KEY = 0x5265_6672  # "Refr": differs from the outbox relay's key


@contextlib.asynccontextmanager
async def leadership(engine: AsyncEngine, key: int = LOCK_KEY) -> AsyncIterator[None]:
    """Wait until this process holds the lock; keep it while the block runs."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        await conn.commit()
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
