"""A background service yields the cores (``cpu_nice``): applied at start, never below what it was given."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wegweiser.casework.settings import CaseworkSettings
from wegweiser.intake.settings import IntakeSettings
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.statistics.settings import StatisticsSettings

NICENESS = "import os; from wegweiser.common.serve import yield_cpu; yield_cpu({}); print(os.nice(0))"


def _niceness_after(nice: int, *, started_at: int = 0) -> int:
    """The niceness of a fresh process started under ``nice -n started_at`` after ``yield_cpu(nice)``."""
    command = [sys.executable, "-c", NICENESS.format(nice)]
    done = subprocess.run(
        ["nice", "-n", str(started_at), *command], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_a_process_takes_the_niceness_it_is_given() -> None:
    assert _niceness_after(7) == 7


def test_a_process_started_nicer_keeps_its_niceness() -> None:
    assert _niceness_after(7, started_at=12) == 12
    assert _niceness_after(0, started_at=3) == 3


@pytest.mark.parametrize(
    ("settings", "nice"),
    [(IntakeSettings, 0), (CaseworkSettings, 0), (ReferralsSettings, 10), (StatisticsSettings, 10)],
)
def test_the_arrival_path_keeps_full_priority_and_the_background_yields(
    settings: type, nice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("INTAKE", "CASEWORK", "REFERRALS", "STATISTICS"):
        monkeypatch.delenv(f"{name}_CPU_NICE", raising=False)
    assert settings().cpu_nice == nice


def test_an_operator_sets_it_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATISTICS_CPU_NICE", "0")
    monkeypatch.setenv("CASEWORK_CPU_NICE", "5")
    assert StatisticsSettings().cpu_nice == 0
    assert CaseworkSettings().cpu_nice == 5
    monkeypatch.setenv("REFERRALS_CPU_NICE", "20")
    with pytest.raises(ValueError, match="less than or equal to 19"):
        ReferralsSettings()
