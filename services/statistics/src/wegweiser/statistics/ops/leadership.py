"""The keys of statistics' advisory locks (`wegweiser.common.leadership.exclusive`).

Every replica consumes live events (the engine splits the partitions among them), but only one
publishes, and only one replays a given generation. On SQLite there is a single process anyway.
"""

from __future__ import annotations

_BASE = 0x53_74_61_74 << 16  # "Stat"; the outbox relay uses its own key
PREPARE = _BASE + 1
PUBLISH = _BASE + 2


def rebuild_key(generation: int) -> int:
    return _BASE + 0x1000 + generation
