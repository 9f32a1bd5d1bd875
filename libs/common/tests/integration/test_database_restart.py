"""A pooled connection the server closed is replaced at checkout, without a round trip before each use."""

import asyncio

import pytest
from sqlalchemy import text

from wegweiser.common.db import create_engine

pytestmark = pytest.mark.integration


async def test_connections_the_server_closed_are_replaced_before_a_transaction_gets_them(
    database_url: str,
) -> None:
    """What a PostgreSQL restart does to every pooled connection, done to the pool's own ones."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as killer:
            async with engine.connect() as first, engine.connect() as second:
                pids = [
                    (await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in (first, second)
                ]
            for pid in pids:  # both back in the pool, idle
                await killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.2)  # the client sees the sockets close
        for _ in range(3):
            async with engine.connect() as again:
                assert (await again.execute(text("SELECT pg_backend_pid()"))).scalar_one() not in pids
    finally:
        await engine.dispose()
