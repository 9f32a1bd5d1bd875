"""The dev supervisor starts a dead service again instead of stopping the whole stack."""

import subprocess
import sys
from pathlib import Path

import pytest

from wegweiser.common import devstack
from wegweiser.common.devstack import ServiceProcesses


def _stack(tmp_path: Path, started: list[str]) -> ServiceProcesses:
    stack = ServiceProcesses(env={}, ports={"casework": 1, "intake": 2}, log_dir=tmp_path)
    stack.processes = {
        "casework": subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
        "intake": subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]),
    }
    stack.processes["casework"].wait()
    stack.start = lambda *services: started.extend(services)  # type: ignore[method-assign]
    return stack


def test_a_dead_service_is_restarted_with_a_log_line_and_the_others_left_alone(tmp_path: Path) -> None:
    started: list[str] = []
    lines: list[str] = []
    stack = _stack(tmp_path, started)
    try:
        assert stack.restart_exited(say=lines.append) == ["casework"]
        assert started == ["casework"]
        assert "casework exited with 3; restarting it" in lines[0]
    finally:
        stack.processes["intake"].kill()
        stack.processes["intake"].wait()


def test_a_service_that_just_started_is_not_restarted_in_a_tight_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    stack = _stack(tmp_path, started)
    monkeypatch.setattr(devstack, "RESTART_BACKOFF_S", 3600.0)
    stack.started_at["casework"] = devstack.time.monotonic()
    try:
        assert stack.restart_exited(say=lambda _line: None) == []
        assert started == []
    finally:
        stack.processes["intake"].kill()
        stack.processes["intake"].wait()


def test_the_demo_broker_is_not_the_tests_broker() -> None:
    from wegweiser.common.testing import infra

    assert f"127.0.0.1:{devstack.DEMO_KAFKA_PORT}" != infra.LOCAL_KAFKA
    dev_script = (devstack.REPO / "dev").read_text()
    assert f"TEST_KAFKA_PORT={infra.LOCAL_KAFKA.rsplit(':', 1)[1]}" in dev_script
