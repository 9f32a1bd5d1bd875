"""The one retention command line (wegweiser.common.retention_command) as casework and intake use it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from wegweiser.casework import retention as casework_retention
from wegweiser.common.retention_command import RetentionCommand
from wegweiser.intake import retention as intake_retention

COMMANDS = {"casework": casework_retention.COMMAND, "intake": intake_retention.COMMAND}


@pytest.mark.parametrize("service", sorted(COMMANDS))
async def test_a_dry_run_on_a_new_database_lists_nothing_due(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command: RetentionCommand = COMMANDS[service]  # type: ignore[type-arg]
    monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/{service}.db")
    printed = await command.run(dry_run=True, today=dt.date(2030, 1, 1))
    assert printed == {"today": "2030-01-01", f"due_{command.records}": []}
    report = await command.run(dry_run=False)
    assert report[f"erased_{command.records}"] == []


@pytest.mark.parametrize("service", sorted(COMMANDS))
def test_today_is_only_for_a_dry_run(service: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        COMMANDS[service].main(["--today", "2030-01-01"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"python -m wegweiser.{service}.retention" in err and "--today only with --dry-run" in err


def test_the_command_prints_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/casework.db")
    casework_retention.COMMAND.main(["--dry-run", "--today", "2030-01-01"])
    assert json.loads(capsys.readouterr().out) == {"today": "2030-01-01", "due_cases": []}
