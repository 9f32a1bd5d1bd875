"""One active set of background loops per database (timers, webhook worker, retention sweeper).

Leadership is the common advisory lock (`wegweiser.common.leadership.lead`) under referrals' own key, so
it is independent of the outbox relay's: another replica waits as a hot standby.
"""

from __future__ import annotations

LOCK_KEY = 0x5265_6672  # "Refr": differs from the outbox relay's key
