"""Sleep until woken or a timeout passes, without losing a cancellation.

Python 3.11's ``asyncio.wait_for`` swallows a cancellation that arrives while the awaited event is
being set (fixed in 3.12): a loop cancelled right after an admin change then ran on and its shutdown
hung. ``asyncio.timeout`` has no such race.
"""

from __future__ import annotations

import asyncio
import contextlib


async def woken_or_timeout(event: asyncio.Event, timeout_s: float) -> None:
    """Return when ``event`` is set or after ``timeout_s``, then clear it; cancellation propagates."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()
    event.clear()
