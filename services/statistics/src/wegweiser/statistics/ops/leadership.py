"""One replica at a time: PostgreSQL advisory locks for publication, rebuilds and the first start.

Every replica consumes live events (the engine splits the partitions among them), but only one
publishes, and only one replays a given generation. On SQLite there is a single process anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_BASE = 0x53_74_61_74 << 16  # "Stat"; the outbox relay uses its own key
PREPARE = _BASE + 1
PUBLISH = _BASE + 2


def rebuild_key(generation: int) -> int:
    return _BASE + 0x1000 + generation


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine, key: int, *, wait: bool) -> AsyncIterator[bool]:
    """Hold the lock while inside (True), or, with ``wait=False`` and the lock taken elsewhere, False."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        while True:
            got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())
            await conn.commit()
            if got or not wait:
                break
            await asyncio.sleep(0.5)
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(Exception):
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
