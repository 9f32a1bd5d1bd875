"""The dev supervisor starts a dead service again instead of stopping the whole stack."""

import os
import signal
import subprocess
import sys
import textwrap
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


def test_the_demo_databases_lie_in_the_demos_own_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: the demo showed the tests' cases; its databases are files of its own, never the tests'."""
    from wegweiser.common.testing import infra

    for service in devstack.SERVICES:
        monkeypatch.delenv(f"{service.upper()}_DATABASE_URL", raising=False)
    env = devstack.demo_env(tmp_path / "dev")
    urls = [env[f"{service.upper()}_DATABASE_URL"] for service in devstack.SERVICES]
    assert urls == [f"sqlite+aiosqlite:///{tmp_path / 'dev' / service}.db" for service in devstack.SERVICES]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] != infra.LOCAL_KAFKA


# ``wegweiser dev up`` with its broker calls recorded and each service a sleeping child process.
UP_WITH_SLEEPERS = textwrap.dedent(
    """
    import subprocess, sys, time
    from wegweiser.common import devstack

    kafka, children = [], []
    devstack._kafka = lambda command, check=True: kafka.append(command) or int(command == "status")
    devstack.devtokens.ensure_key_pair = lambda: None
    devstack.demo_tokens = lambda: {}

    def start(self, *services):
        for service in services or tuple(self.ports):
            self.processes[service] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
            children.append(self.processes[service])

    def still_starting(self, timeout_s=90):
        print("waiting for the services", flush=True)
        time.sleep(120)

    devstack.ServiceProcesses.start = start
    if sys.argv[1] == "starting":
        devstack.ServiceProcesses.wait_ready = still_starting
    else:
        devstack.ServiceProcesses.wait_ready = lambda self, timeout_s=90: None
    code = devstack.up(seed_demo=False)
    print("exit", code, "kafka", kafka, "children alive", sum(c.poll() is None for c in children), flush=True)
    """
)


@pytest.mark.parametrize(
    ("phase", "reached"), [("starting", "waiting for the services"), ("running", "Ctrl-C")]
)
def test_sigint_to_the_dev_up_process_alone_stops_the_stack(tmp_path: Path, phase: str, reached: str) -> None:
    """Issue 14: SIGINT sent to the process (not its group) did nothing; now it stops the services and
    the broker it started, whether the stack is still starting or already running."""
    up = subprocess.Popen(
        [sys.executable, "-c", UP_WITH_SLEEPERS, phase],
        env={**os.environ, "WEGWEISER_STATE": str(tmp_path)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert up.stdout is not None
        for line in up.stdout:
            if reached in line:
                break
        up.send_signal(signal.SIGINT)
        out, _ = up.communicate(timeout=30)
    finally:
        up.kill()
    assert up.returncode == 0
    assert "exit 0 kafka ['status', 'start', 'stop'] children alive 0" in out
