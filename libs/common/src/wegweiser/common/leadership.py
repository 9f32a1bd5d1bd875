"""One replica at a time: leadership by a PostgreSQL advisory lock, per database and key.

The lock is session-level and held on a dedicated connection, so it is released when the holder's
process dies; a replica waiting for it is a hot standby. On SQLite the database belongs to a single
process anyway: every caller leads. Used by the outbox relay, the migrations at start-up, and each
service's background loops (referrals' timers, statistics' publication and rebuilds).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def lock_key(name: str) -> int:
    """A stable 64-bit key for a named lock (e.g. a migration version table)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, key: int, *, wait: bool = True) -> AsyncIterator[bool]:
    """Hold the lock while inside (True); with ``wait=False`` and the lock held elsewhere, False at once."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        if wait:  # a standby waits inside PostgreSQL until the holder's session ends or unlocks
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
