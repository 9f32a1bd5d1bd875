"""One active set of background loops per database (timers, webhook worker, retention sweeper).

Leadership is the common advisory lock (`wegweiser.common.leadership`) under referrals' own key, so
it is independent of the outbox relay's: another replica waits as a hot standby.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncEngine

from wegweiser.common.leadership import exclusive

LOCK_KEY = 0x5265_6672  # "Refr": differs from the outbox relay's key


def leadership(engine: AsyncEngine) -> AbstractAsyncContextManager[bool]:
    """Wait until this process holds referrals' lock; keep it while the block runs."""
    return exclusive(engine, LOCK_KEY)
