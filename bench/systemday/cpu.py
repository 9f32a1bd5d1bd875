"""Where the cores go: CPU time per process of the run over a window (the flood, or the quiet run's same
minutes), read from /proc. Services by name, the broker and PostgreSQL by their command lines."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _infrastructure() -> dict[int, str]:
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"kafka.Kafka" in command:
            found[int(entry.name)] = "broker"
        elif command.startswith(b"postgres") or b"/postgres\x00" in command or b"postgres:" in command:
            found[int(entry.name)] = "postgres"
    return found


def _machine_busy_s() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK  # all but idle and iowait


class CpuWindow:
    """``start()`` and ``stop()`` around a window; ``shares()`` gives cores used per process name."""

    def __init__(self, services: Mapping[str, int]) -> None:
        self.services = dict(services)
        self._begin: dict[tuple[str, int], float] = {}
        self._end: dict[tuple[str, int], float] = {}
        self._times: list[float] = []

    def _snapshot(self) -> dict[tuple[str, int], float]:
        pids = {**_infrastructure(), **{pid: name for name, pid in self.services.items()}}
        snap = {(name, pid): _cpu_s(pid) for pid, name in pids.items()}
        snap[("bench", os.getpid())] = sum(os.times()[:2])
        snap[("machine", 0)] = _machine_busy_s()
        return snap

    def start(self) -> None:
        self._begin, self._times = self._snapshot(), [time.monotonic()]

    def stop(self) -> None:
        self._end = self._snapshot()
        self._times.append(time.monotonic())

    def shares(self) -> dict[str, float]:
        """Cores used on average in the window, per process name (processes of one name summed)."""
        if len(self._times) < 2:
            return {}
        seconds = self._times[1] - self._times[0]
        used: dict[str, float] = {}
        for key, end in self._end.items():
            begin = self._begin.get(key, 0.0 if key[0] in ("broker", "postgres") else end)
            used[key[0]] = used.get(key[0], 0.0) + max(0.0, end - begin)
        return {name: round(s / seconds, 3) for name, s in sorted(used.items(), key=lambda kv: -kv[1])}
