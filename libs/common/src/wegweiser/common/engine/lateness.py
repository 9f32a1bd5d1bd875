"""How late this process's event loop runs: while it is late, an AGS with a backlog yields its turns.

An AGS with a backlog (deferred, or `hold_backlog_per_ags` events buffered: a flood) is held back
while the loop runs late, starting at most one event every `hold_trickle_s` so that its backlog still
moves (`fairness`). On a machine whose cores a flood saturates, every handler it runs is CPU taken
from the other municipalities' events, in this process and in every other on the machine, and a late
loop is where that shows first: it grows when the process waits for a core, whichever process took
it. When the loop is on time again (the flood's own handlers made it late, or the flood ended) the
AGS runs at its full share again.
"""

from __future__ import annotations

import asyncio
import contextlib


class LoopLateness:
    """Samples the loop's lateness every `INTERVAL_S`; rises at once, falls off over a few samples."""

    INTERVAL_S = 0.05
    DECAY = 0.7  # share of the previous figure kept when a sample is lower

    def __init__(self) -> None:
        self.late_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sample(), name="engine-loop-lateness")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.late_ms = 0.0

    def sample(self, late_ms: float) -> None:
        """One measured lateness (ms): a higher one counts at once, a lower one decays the figure."""
        late_ms = max(0.0, late_ms)
        self.late_ms = (
            late_ms if late_ms >= self.late_ms else self.late_ms * self.DECAY + late_ms * (1 - self.DECAY)
        )

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.INTERVAL_S)
            self.sample((loop.time() - before - self.INTERVAL_S) * 1000)
