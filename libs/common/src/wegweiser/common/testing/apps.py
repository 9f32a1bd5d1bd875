"""Run a service's FastAPI app in-process (lifespan included) for integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from wegweiser.common import devtokens

T = TypeVar("T")


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (database, relay, consumers), yield a client, then shut it down."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await eventually(lambda: _ready(client), timeout_s=60, what="service ready")
            yield client


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health/ready")).status_code == 200


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout_s: float = 30, what: str = "condition"
) -> T:
    """Poll until ``check`` returns something truthy; progress-based waiting, not a fixed sleep."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s}s (last: {result!r})")
        await asyncio.sleep(0.2)


def poll(fetch: Callable[[], T], *, timeout_s: float = 60, what: str) -> T:
    """``eventually`` for synchronous black-box tests (the services run as processes)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := fetch():
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in {timeout_s}s")


def bearer(dev_keys: Path, role: str, **claims: Any) -> dict[str, str]:
    """An Authorization header with a development token of ``role`` and ``claims``."""
    token = devtokens.mint(subject=f"e2e-{role}", roles=[role], key_dir=dev_keys, **claims)
    return {"Authorization": f"Bearer {token}"}
