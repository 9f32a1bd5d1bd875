"""The system day's short storm in CI: the same harness as ``bench/system_day.py``, about a minute of load.

All four services as processes (two replicas of casework and of referrals, intake's relay apart), the two
example partners, Stuttgart flooding and one municipality failing in casework; then one SIGKILL per service
and one broker restart while the load goes on. Nothing may be lost or counted twice, the statistics must
equal the services' counts, and the failing municipality's arrivals are dead-lettered with their reason and
open their cases once replayed with ``wegweiser dlq replay``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "system_day.py"


@pytest.mark.timeout(1200)
def test_a_short_storm_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    out = tmp_path / "system-day.json"
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}  # a broker of its own
    done = subprocess.run(
        [sys.executable, str(BENCH), "--short", "--shared-postgres", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1150,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    figures = json.loads(out.read_text())
    storm = figures["runs"]["storm"]
    assert figures["arrivals"] > 100, storm
    assert (figures["lost"], figures["double_counted"]) == (0, 0), storm["detail"]
    assert figures["statistics_mismatches"] == 0, storm["statistics"]
    faults = [r["target"] for r in figures["recoveries"]]
    assert sorted(faults) == ["broker", "casework-1", "intake", "intake-relay", "referrals-2", "statistics"]
    dead = figures["dead_letters"]
    assert dead["failing_arrivals"] > 0 and dead["dead_lettered"] == dead["failing_arrivals"], dead
    assert any("CASEWORK_FAULT_FAIL_AGS" in reason for reason in dead["reasons"]), dead
    assert dead["replay_exit_code"] == 0
    assert storm["referrals"] > 0 and storm["cases"] == figures["arrivals"]
